"""Bundled data: icons, desktop entry, AppStream metadata, polkit policy, demo hosts."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent
DEMO_HOSTS = RESOURCES / "demo-hosts"


def demo_host_path() -> Path:
    """The bundled demo host root (a snapshot tarball built from real captures; see demo-hosts/README.md)."""
    return DEMO_HOSTS / "demo-host.tar.gz"


def demo_libvirt_xml() -> Path:
    """A libvirt test-driver XML with the demo host's VMs (open as ``test:///<this path>``)."""
    return DEMO_HOSTS / "demo-libvirt.xml"


def icon_path(name: str) -> Path:
    return RESOURCES / "icons" / f"{name}.svg"
