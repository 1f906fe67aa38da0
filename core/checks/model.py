"""The value every readiness check returns, and its JSON form for ``vfio-deck inspect --json``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Status(str, Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"  # the root did not hold the evidence: never a failure


@dataclass(frozen=True)
class Check:
    id: str  # stable snake_case id, one of CHECK_IDS
    status: Status
    title: str  # what is checked, the same whatever the outcome
    evidence: str  # the file(s) read and the value found, short
    fix: str  # what to change (BIOS menu, kernel parameter, package); "" when nothing to do
    # The one command or parameter of the fix a user can paste ("" when the fix is a BIOS menu or
    # a choice): the Readiness page copies it with one click.
    command: str = ""


def check_to_dict(check: Check) -> dict[str, str]:
    """The ``checks`` entry of the JSON contract: ``{id, status, title, evidence, fix}``, grown by
    ``group`` (Firmware, Kernel, Devices, Virtualization) and ``command`` (the pasteable part of the fix)."""
    from vfiodeck.core.checks.groups import group_of

    return {
        "id": check.id,
        "status": check.status.value,
        "title": check.title,
        "evidence": check.evidence,
        "fix": check.fix,
        "group": group_of(check.id).value,
        "command": check.command,
    }
