"""Plans as data: what a host change will write and run, before anything is touched."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Action(str, Enum):
    CREATE = "create"
    EDIT = "edit"
    DELETE = "delete"


@dataclass(frozen=True)
class Detected:
    kind: str  # "grub", "mkinitcpio", "unknown", ...
    evidence: tuple[str, ...]  # root-relative paths (with a leading "/") that decided it
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "evidence": list(self.evidence)}


@dataclass(frozen=True)
class FileChange:
    path: str  # absolute on the host ("/etc/modprobe.d/vfio-deck.conf")
    before: str | None  # None: the file does not exist
    after: str | None  # None: the file is deleted
    why: str = ""

    @property
    def action(self) -> Action:
        if self.before is None:
            return Action.CREATE
        if self.after is None:
            return Action.DELETE
        return Action.EDIT

    def diff(self) -> str:
        old = [] if self.before is None else self.before.splitlines(keepends=True)
        new = [] if self.after is None else self.after.splitlines(keepends=True)
        lines = difflib.unified_diff(
            old,
            new,
            fromfile="/dev/null" if self.before is None else "a" + self.path,
            tofile="/dev/null" if self.after is None else "b" + self.path,
        )
        return "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "action": self.action.value,
            "before": self.before,
            "after": self.after,
            "diff": self.diff(),
        }


@dataclass(frozen=True)
class Refusal:
    address: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "reason": self.reason}


@dataclass(frozen=True)
class Plan:
    root: str
    bootloader: Detected
    initramfs: Detected | None
    changes: tuple[FileChange, ...] = ()
    commands: tuple[tuple[str, ...], ...] = ()
    reboot: bool = False
    refused: tuple[Refusal, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.changes and not self.commands

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": 1,
            "root": self.root,
            "bootloader": self.bootloader.to_dict(),
            "initramfs": self.initramfs.to_dict() if self.initramfs else None,
            "changes": [c.to_dict() for c in self.changes],
            "commands": [list(c) for c in self.commands],
            "reboot": self.reboot,
            "refused": [r.to_dict() for r in self.refused],
            "notes": list(self.notes),
        }
