"""Bundled data: icons, desktop entry, AppStream metadata, polkit policy, demo hosts."""
