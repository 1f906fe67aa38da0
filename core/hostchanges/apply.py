"""Applying a plan where it belongs: on the live host through the privileged helper (pkexec), on
any other root directly under it, with the commands printed rather than run."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field

from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.hostchanges import journal
from vfiodeck.core.hostchanges.model import Plan

HELPER = "vfio-deck-helper"


@dataclass
class Applied:
    entry: str | None  # the journal entry id (None: nothing was written, or not known on /)
    not_run: list[tuple[str, ...]] = field(default_factory=list)  # commands left for the live host


class ApplyFailed(Exception):
    """Nothing was left half-done; the message says what stopped it."""


def _helper(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["pkexec", HELPER, *argv], check=False, capture_output=True, text=True)


def _live(plan: Plan, progress: Callable[[str], None]) -> Applied:
    entry = None
    if plan.changes:
        progress("Writing the files…")
        fd, path = tempfile.mkstemp(prefix="vfio-deck-plan-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(plan.to_dict(), handle)
            done = _helper(["apply", path])
        finally:
            os.unlink(path)
        if done.returncode != 0:
            raise ApplyFailed(done.stderr.strip() or "the helper was not authorised")
        entry = done.stdout.strip() or None
    for command in plan.commands:
        progress(f"Running {' '.join(command)}…")
        argv = list(command[1:]) if command[0] == HELPER else ["run", *command]
        done = _helper(argv)
        if done.returncode != 0:
            raise ApplyFailed(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return Applied(entry)


def apply(
    root: HostRoot, plan: Plan, summary: str, progress: Callable[[str], None] = lambda _m: None
) -> Applied:
    if plan.refused:
        raise ApplyFailed("; ".join(r.reason for r in plan.refused))
    if root.live:
        return _live(plan, progress)
    progress("Writing the files…")
    try:
        entry = journal.apply_plan(root.path, plan, summary)
    except journal.JournalError as exc:
        raise ApplyFailed(str(exc)) from exc
    return Applied(entry.id if entry else None, list(plan.commands))


def undo(root: HostRoot, entry_id: str | None) -> str:
    if root.live:
        done = _helper(["undo", *([entry_id] if entry_id else [])])
        if done.returncode != 0:
            raise ApplyFailed(done.stderr.strip() or "the helper was not authorised")
        return done.stdout.strip()
    try:
        return journal.undo(root.path, entry_id).id
    except journal.JournalError as exc:
        raise ApplyFailed(str(exc)) from exc
