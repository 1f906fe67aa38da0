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


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]
    devices: tuple[DeviceRow, ...]

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
    return Readiness(run_in_context(ctx), device_rows(ctx))
