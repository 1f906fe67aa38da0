"""Passthrough candidates and their verdicts, by the rules in DESIGN.md. (Stub.)"""

from __future__ import annotations

from vfiodeck.core.host.model import Candidate, HostModel


def find_candidates(host: HostModel) -> tuple[Candidate, ...]:
    return ()
