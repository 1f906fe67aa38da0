"""What every readiness check may look at: the scanned host, its candidates (computed once per
scan, never again by a check), and the root's Reader, plus facts several checks share, read once."""

from __future__ import annotations

from functools import cached_property

from vfiodeck.core.checks.bios import Board, board_of
from vfiodeck.core.host.kmsg import KernelLog, read_kernel_log
from vfiodeck.core.host.model import Candidate, CandidateKind, HostModel, PciDevice
from vfiodeck.core.host.sysfs import Reader


class CheckContext:
    def __init__(self, host: HostModel, reader: Reader, candidates: tuple[Candidate, ...]) -> None:
        self.host = host
        self.reader = reader
        self.candidates = candidates

    @cached_property
    def kernel_log(self) -> KernelLog:
        return read_kernel_log(self.reader)

    @cached_property
    def board(self) -> Board:
        return board_of(self.reader)[0]

    @cached_property
    def gpus(self) -> tuple[PciDevice, ...]:
        """The lead function of every GPU candidate, by address."""
        found = (self.host.device(c.device) for c in self.candidates if c.kind is CandidateKind.GPU)
        return tuple(dev for dev in found if dev is not None)

    @cached_property
    def kernel_release(self) -> str | None:
        release: str | None = self.reader.string("proc/sys/kernel/osrelease")
        if release:
            return release
        version: str | None = self.reader.string("proc/version")  # "Linux version 6.1.0-13-amd64 (...)"
        words = version.split() if version else []
        return words[2] if len(words) > 2 and words[:2] == ["Linux", "version"] else None


def kernel_at_least(release: str | None, major: int, minor: int) -> bool | None:
    """Whether "6.1.0-13-amd64" is at least major.minor; None when it does not parse."""
    if not release:
        return None
    head = release.split("-", 1)[0].split(".")
    try:
        found = (int(head[0]), int(head[1]) if len(head) > 1 else 0)
    except ValueError:
        return None
    return found >= (major, minor)
