"""The journal under ``R/var/lib/vfio-deck/journal/``: one JSON entry per apply, holding every
touched file's bytes before and after, so that ``undo`` restores them byte for byte.

An entry is written *before* the first file changes (state "pending") and marked "applied" after
the last. A failure in between (a read-only file, a full disk) restores the files already written;
a writer killed in between leaves a pending entry, which the next journal operation rolls back
first. Restoring is always "write the before bytes", so recovery can itself be interrupted.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vfiodeck.core.hostchanges import atomic
from vfiodeck.core.hostchanges.files import encode
from vfiodeck.core.hostchanges.model import Plan

JOURNAL = "/var/lib/vfio-deck/journal"


class JournalError(Exception):
    """The change was not made (or was undone); the message says why, in one line."""


@dataclass(frozen=True)
class FileRecord:
    path: str
    before: bytes | None
    after: bytes | None


@dataclass(frozen=True)
class Entry:
    id: str
    created: str
    state: str  # pending | applied | failed | rolled-back | undoing | undone
    summary: str
    files: tuple[FileRecord, ...]
    commands: tuple[tuple[str, ...], ...]

    def to_json(self) -> dict[str, Any]:
        def b64(data: bytes | None) -> str | None:
            return None if data is None else base64.b64encode(data).decode("ascii")

        return {
            "schema": 1,
            "id": self.id,
            "created": self.created,
            "state": self.state,
            "summary": self.summary,
            "files": [{"path": f.path, "before": b64(f.before), "after": b64(f.after)} for f in self.files],
            "commands": [list(c) for c in self.commands],
        }

    def summary_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": self.created,
            "state": self.state,
            "summary": self.summary,
            "files": [f.path for f in self.files],
        }


def _from_json(data: dict[str, Any]) -> Entry:
    def unb64(text: str | None) -> bytes | None:
        return None if text is None else base64.b64decode(text)

    return Entry(
        id=str(data["id"]),
        created=str(data["created"]),
        state=str(data["state"]),
        summary=str(data.get("summary", "")),
        files=tuple(FileRecord(f["path"], unb64(f["before"]), unb64(f["after"])) for f in data["files"]),
        commands=tuple(tuple(c) for c in data.get("commands", [])),
    )


def _entry_path(entry_id: str) -> str:
    return f"{JOURNAL}/{entry_id}.json"


def save(root: Path, entry: Entry) -> None:
    atomic.write_bytes(root, _entry_path(entry.id), json.dumps(entry.to_json(), indent=1).encode())


def entries(root: Path) -> list[Entry]:
    """Every entry, oldest first; an unreadable entry file is skipped."""
    folder = Path(root) / JOURNAL.lstrip("/")
    if not folder.is_dir() or folder.is_symlink():
        return []
    found = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        raw = atomic.read_bytes(root, f"{JOURNAL}/{name}")
        try:
            found.append(_from_json(json.loads(raw or b"")))
        except (ValueError, KeyError, TypeError):
            continue
    return found


def _new_id(root: Path) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    taken = {e.id for e in entries(root)}
    n = 1
    while f"{stamp}-{n}" in taken:
        n += 1
    return f"{stamp}-{n}"


def _restore(root: Path, files: tuple[FileRecord, ...]) -> None:
    for record in reversed(files):
        current = atomic.read_bytes(root, record.path)
        if current == record.before:
            continue
        if record.before is None:
            atomic.delete(root, record.path)
        else:
            atomic.write_bytes(root, record.path, record.before)


def recover(root: Path) -> list[str]:
    """Roll back entries a killed writer left half-done; their ids."""
    done = []
    for entry in entries(root):
        if entry.state in ("pending", "undoing"):
            for record in entry.files:
                atomic.discard_staged(root, record.path)
            _restore(root, entry.files)
            final = "rolled-back" if entry.state == "pending" else "undone"
            save(root, Entry(entry.id, entry.created, final, entry.summary, entry.files, entry.commands))
            done.append(entry.id)
    return done


def _check_unchanged(root: Path, files: tuple[FileRecord, ...], *, want_after: bool, what: str) -> None:
    changed = []
    for record in files:
        try:
            current = atomic.read_bytes(root, record.path)
        except OSError as exc:
            raise JournalError(f"{record.path}: {exc.strerror or exc}") from exc
        if current != (record.after if want_after else record.before):
            changed.append(record.path)
    if changed:
        raise JournalError(f"{', '.join(changed)} changed since the {what}; nothing was written")


def apply_plan(root: Path, plan: Plan, summary: str) -> Entry | None:
    """Write the plan's files as one journal entry; None when there is nothing to write."""
    if plan.refused:
        raise JournalError("the plan refuses: " + "; ".join(r.reason for r in plan.refused))
    if not plan.changes:
        return None
    recover(root)
    files = tuple(
        FileRecord(
            c.path,
            None if c.before is None else encode(c.before),
            None if c.after is None else encode(c.after),
        )
        for c in plan.changes
    )
    _check_unchanged(root, files, want_after=False, what="plan was made")
    entry = Entry(
        _new_id(root),
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pending",
        summary,
        files,
        plan.commands,
    )
    try:
        save(root, entry)
    except OSError as exc:
        raise JournalError(f"cannot write the journal: {exc.strerror or exc}; nothing was changed") from exc
    _write_all(root, entry, files, final="applied", failed="failed")
    return Entry(entry.id, entry.created, "applied", summary, files, plan.commands)


def _save_quietly(root: Path, entry: Entry, state: str) -> None:
    """Record a failure where possible; when even that fails (a full disk) the entry stays pending
    and the next run restores the before bytes, which are already there."""
    with contextlib.suppress(OSError):
        save(root, Entry(entry.id, entry.created, state, entry.summary, entry.files, entry.commands))


def _write_all(root: Path, entry: Entry, files: tuple[FileRecord, ...], *, final: str, failed: str) -> None:
    """Write ``after`` of each record in two steps: stage every new file (the step that can run out
    of space), then rename them all; on an error every file is put back and ``failed`` recorded."""
    staged = [r for r in files if r.after is not None]
    try:
        for record in staged:
            atomic.stage_bytes(root, record.path, record.after or b"")
    except OSError as exc:
        for record in staged:
            atomic.discard_staged(root, record.path)
        _save_quietly(root, entry, failed)
        raise JournalError(f"writing failed ({_why(exc)}); nothing was changed") from exc
    try:
        for record in files:
            if record.after is None:
                atomic.delete(root, record.path)
            else:
                atomic.commit_staged(root, record.path)
    except OSError as exc:
        for record in staged:
            atomic.discard_staged(root, record.path)
        _restore(root, files)
        _save_quietly(root, entry, failed)
        raise JournalError(f"writing failed ({_why(exc)}); every file is as before") from exc
    save(root, Entry(entry.id, entry.created, final, entry.summary, entry.files, entry.commands))


def _why(exc: OSError) -> str:
    where = getattr(exc, "filename", None)
    return f"{exc.strerror or exc}{' ' + str(where) if where else ''}"


def undo(root: Path, entry_id: str | None = None) -> Entry:
    recover(root)
    known = entries(root)
    if entry_id is None:
        applied = [e for e in known if e.state == "applied"]
        if not applied:
            raise JournalError("there is no applied change to undo")
        entry = applied[-1]
    else:
        matches = [e for e in known if e.id == entry_id]
        if not matches:
            raise JournalError(f"no journal entry {entry_id!r}")
        entry = matches[0]
        if entry.state != "applied":
            raise JournalError(f"entry {entry_id} is {entry.state}, not applied")
    _check_unchanged(root, entry.files, want_after=True, what="apply")
    reverse = tuple(FileRecord(r.path, r.after, r.before) for r in entry.files)
    save(root, Entry(entry.id, entry.created, "undoing", entry.summary, entry.files, entry.commands))
    try:
        _write_all(root, entry, tuple(reversed(reverse)), final="undone", failed="applied")
    except JournalError as exc:
        raise JournalError(f"undo failed: {exc}; the entry stays applied") from exc
    done = Entry(entry.id, entry.created, "undone", entry.summary, entry.files, entry.commands)
    save(root, done)
    return done
