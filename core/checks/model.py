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


def check_to_dict(check: Check) -> dict[str, str]:
    """The ``checks`` entry of the inspect JSON contract: ``{id, status, title, evidence, fix}``."""
    return {
        "id": check.id,
        "status": check.status.value,
        "title": check.title,
        "evidence": check.evidence,
        "fix": check.fix,
    }
