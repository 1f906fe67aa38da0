"""GUI tests run offscreen, with the window's settings in a temporary folder."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import
os.environ.setdefault("QT_NO_GLIB", "1")  # see gui/__init__.py: libvirt's loop owns GLib's context

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the XDG config and state folders at tmp_path: no test reads or writes the user's
    settings or definition history."""
    config = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    from vfiodeck.gui.settings import settings_path

    assert settings_path().is_relative_to(config)
    return config
