"""Which host's devices may go to which connection's VMs: this machine's to its own hypervisor only.
A snapshot or the demo host shown next to qemu:///system is foreign, and the page says so."""

from __future__ import annotations

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.vm.inventory import connection_label


def accepts_host(uri: str, host_is_live: bool) -> bool:
    """May ``uri``'s VMs get the PCI addresses of the host shown? Only this machine's devices go to
    this machine's hypervisor; the test driver (the demo's VMs, tests) pairs with any host."""
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    if parts.scheme == "test":
        return True
    return host_is_live and not parts.hostname


def foreign_host_note(host: HostModel | None, uris: list[str]) -> str:
    """The banner saying the host shown is not where these VMs run ("" when it is)."""
    if host is None:
        return ""
    foreign = [connection_label(u) for u in uris if not accepts_host(u, host.is_live)]
    if not foreign:
        return ""
    what = "this computer" if host.is_live else "a snapshot or the demo host, not this computer"
    return (
        f"The host shown is {what}: its devices can't be passed to the VMs of {', '.join(foreign)}. "
        "Open this computer (File ▸ Open this computer) to assign devices."
    )
