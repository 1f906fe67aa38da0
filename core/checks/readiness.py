"""A host's readiness: the checks, the per-device rows and the one-line summary, computed together
with the scan (on a worker in the window) so the command line and the Readiness page agree."""

from __future__ import annotations

from dataclasses import dataclass

from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.devices import DeviceRow, device_rows
from vfiodeck.core.checks.groups import Group, grouped
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.checks.run import run_in_context
from vfiodeck.core.host.model import Candidate, HostModel
from vfiodeck.core.host.sysfs import Reader

ROOT_NOTE = (
    "Reading full PCI capabilities (FLR, ACS, Resizable BAR) needs root: as a normal user the kernel "
    "shows only the first 64 bytes of each device's config space, and these live further in. Until "
    "VFIO Deck can ask for them through its privileged helper, run `sudo vfio-deck check` to see them."
)


SNAPSHOT_NOTE = (
    "This is a capture, not a running computer: what it does not hold (the kernel log, device nodes, "
    "sockets, some files) cannot be read, so those checks say why instead of passing or failing."
)


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]
    devices: tuple[DeviceRow, ...]
    root_note: str = ""  # why some device facts are missing and how to get them; "" when nothing is
    snapshot_note: str = ""  # on a capture: "not read" means the capture lacks the file

    def count(self, status: Status) -> int:
        return sum(1 for check in self.checks if check.status is status)

    @property
    def failed(self) -> bool:
        return self.count(Status.FAIL) > 0

    def grouped(self) -> list[tuple[Group, list[Check]]]:
        return grouped(self.checks)

    @property
    def summary(self) -> str:
        """ "3 things to fix before passthrough works; 2 to look at; 4 could not be read"."""
        fails, warns, unknown = (self.count(s) for s in (Status.FAIL, Status.WARN, Status.UNKNOWN))
        head = (
            f"{fails} thing{'s' if fails != 1 else ''} to fix before passthrough works"
            if fails
            else "Nothing blocks passthrough"
        )
        tail = []
        if warns:
            tail.append(f"{warns} to look at")
        if unknown:
            tail.append(f"{unknown} could not be read")
        return "; ".join([head, *tail])


def assess(host: HostModel, reader: Reader, candidates: tuple[Candidate, ...]) -> Readiness:
    """Every check and every candidate's row, from one context (the kernel log is read once)."""
    ctx = CheckContext(host, reader, candidates)
    checks = run_in_context(ctx)
    unread = sum(1 for check in checks if check.status is Status.UNKNOWN)
    note = SNAPSHOT_NOTE if unread and not reader.root.live else ""
    return Readiness(checks, device_rows(ctx), _root_note(ctx), note)


def _root_note(ctx: CheckContext) -> str:
    """The note when this user read short config spaces on the live host (a capture's short files
    say nothing about who reads them)."""
    if not ctx.reader.root.live:
        return ""
    short = [
        dev
        for cand in ctx.candidates
        if (dev := ctx.host.device(cand.device)) is not None
        and dev.capabilities is not None
        and dev.capabilities.config_bytes <= 64
    ]
    return ROOT_NOTE if short else ""
