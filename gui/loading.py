"""What a host load produces, computed on a worker: the root, its scan, and its candidates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vfiodeck.core.checks.readiness import Readiness
from vfiodeck.core.host.model import Candidate, HostModel
from vfiodeck.core.host.root import HostRoot


@dataclass(frozen=True)
class LoadedHost:
    root: HostRoot
    host: HostModel
    candidates: tuple[Candidate, ...]
    spec: str | None  # what was asked for: None for the live host, else a path
    demo: bool = False
    readiness: Readiness | None = None  # the checks, computed with the scan (never on the GUI thread)

    @property
    def title(self) -> str:
        """Which host this is, for the window title."""
        if self.root.live:
            import socket

            return f"this computer ({socket.gethostname()})"
        if self.demo:
            return f"demo host ({Path(self.root.label).name})"
        return Path(self.root.label).name or self.root.label


def load_host(spec: str | None, demo: bool = False) -> LoadedHost:
    """Open and scan a host root (runs on a worker thread: it reads many files)."""
    from vfiodeck.core.checks.readiness import assess
    from vfiodeck.core.host.scan import scan_host
    from vfiodeck.core.host.sysfs import Reader

    root = HostRoot.open(spec)
    host = scan_host(root)
    candidates = host.candidates  # computed here, off the GUI thread, once per scan
    return LoadedHost(root, host, candidates, spec, demo, assess(host, Reader(root), candidates))
