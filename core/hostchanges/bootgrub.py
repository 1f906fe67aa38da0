"""GRUB's kernel command line: ``/etc/default/grub`` and, where grub-mkconfig sources them,
the drop-ins in ``/etc/default/grub.d/*.cfg`` (Debian's grub-mkconfig does, after the main file, so a
drop-in can override GRUB_CMDLINE_LINUX_DEFAULT). Where the folder is read we write our own
drop-in that sorts last and appends to the value every earlier file left; elsewhere we edit the
one assignment that counts, token by token."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vfiodeck.core.hostchanges.files import RootFiles
from vfiodeck.core.hostchanges.model import FileChange
from vfiodeck.core.hostchanges.params import ensure_in_span, satisfied, tokens
from vfiodeck.core.hostchanges.shellvars import Value, as_words, evaluate, last_assignment

MAIN = "/etc/default/grub"
DROPIN_DIR = "/etc/default/grub.d"
DROPIN = "/etc/default/grub.d/zz-vfio-deck.cfg"
DEFAULT = "GRUB_CMDLINE_LINUX_DEFAULT"
LINUX = "GRUB_CMDLINE_LINUX"
_HEADER = "# Written by VFIO Deck (vfio-deck undo removes it): kernel parameters for passthrough.\n"


@dataclass
class CmdlineResult:
    changes: list[FileChange] = field(default_factory=list)
    commands: list[tuple[str, ...]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _os_like(files: RootFiles) -> set[str]:
    text = files.read("/etc/os-release") or files.read("/usr/lib/os-release") or ""
    words: set[str] = set()
    for key in ("ID", "ID_LIKE"):
        value = evaluate(text).get(key)
        if isinstance(value, str):
            words.update(value.split())
    return words


def reads_dropins(files: RootFiles, main_text: str) -> bool:
    """Whether grub.d/*.cfg is sourced: by the main file itself, by this grub-mkconfig, or on the
    Debian family, whose grub-mkconfig does so."""
    live = "\n".join(line for line in main_text.splitlines() if not line.lstrip().startswith("#"))
    if re.search(r"grub\.d/\*\.cfg", live):
        return True
    for script in ("/usr/sbin/grub-mkconfig", "/usr/bin/grub-mkconfig"):
        if "default/grub.d" in (files.read(script) or ""):
            return True
    return bool(_os_like(files) & {"debian", "ubuntu"})


def _sourced(files: RootFiles, main_text: str, *, with_ours: bool) -> dict[str, Value]:
    env = evaluate(main_text, {"sysconfdir": "/nonexistent"})
    if reads_dropins(files, main_text):
        for path in files.listdir(DROPIN_DIR, ".cfg"):
            if path == DROPIN and not with_ours:
                continue
            env = evaluate(files.read(path) or "", env)
    return env


def current_tokens(files: RootFiles) -> list[str] | None:
    """The parameters grub-mkconfig would put on a normal entry (None: cannot tell)."""
    main_text = files.read(MAIN)
    if main_text is None:
        return None
    env = _sourced(files, main_text, with_ours=True)
    linux, default = as_words(env.get(LINUX, "")), as_words(env.get(DEFAULT, ""))
    if linux is None or default is None:
        return None
    return linux + default


def _target(env: dict[str, Value], bls: bool) -> str:
    # BLS entries take GRUB_CMDLINE_LINUX only; elsewhere _DEFAULT when the system uses it.
    return LINUX if bls or DEFAULT not in env else DEFAULT


def regenerate(files: RootFiles) -> tuple[str, ...]:
    if files.exists("/etc/kernel/proxmox-boot-uuids"):
        return ("proxmox-boot-tool", "refresh")
    if files.exists("/usr/sbin/update-grub") or _os_like(files) & {"debian", "ubuntu"}:
        return ("update-grub",)
    if files.is_dir("/boot/grub2"):
        return ("grub2-mkconfig", "-o", "/boot/grub2/grub.cfg")
    return ("grub-mkconfig", "-o", "/boot/grub/grub.cfg")


def plan_grub(files: RootFiles, params: list[str], *, bls: bool) -> CmdlineResult:
    result = CmdlineResult()
    main_text = files.read(MAIN)
    if main_text is None:
        result.refused.append(f"{MAIN} cannot be read")
        return result
    present = current_tokens(files)
    if present is None:
        result.refused.append(f"{MAIN} builds the command line with a command; edit it by hand")
        return result
    wanted = [p for p in params if not satisfied(present, p)]
    if not wanted:
        return result
    change: FileChange | None
    if not bls and reads_dropins(files, main_text):
        change = _dropin_change(files, main_text, wanted)
    else:
        change = _main_change(main_text, _target(evaluate(main_text), bls), wanted, result)
    if change is not None:
        result.changes.append(change)
        if not bls:
            result.commands.append(regenerate(files))
    return result


def _dropin_change(files: RootFiles, main_text: str, wanted: list[str]) -> FileChange:
    before = files.read(DROPIN)
    env = _sourced(files, main_text, with_ours=False)
    target = _target(env, False)
    ours: list[str] = []
    if before is not None:
        assignment = last_assignment(before, target)
        if assignment is not None:
            start, end = assignment.inner(before)
            ours = tokens(before[start:end])[1:]  # after "${VAR}"
    line = ensure_in_span(" ".join(ours), wanted)
    after = f'{_HEADER}{target}="${{{target}}} {line}"\n'
    return FileChange(DROPIN, before, after, f"grub-mkconfig sources {DROPIN_DIR} after {MAIN}")


def _main_change(text: str, target: str, wanted: list[str], result: CmdlineResult) -> FileChange | None:
    assignment = last_assignment(text, target)
    if assignment is None:
        sep = "" if text.endswith("\n") or not text else "\n"
        after = f'{text}{sep}{target}="{" ".join(wanted)}"\n'
        return FileChange(MAIN, text, after, f"{target} is not set yet")
    if assignment.quote not in ('"', "'", ""):
        result.refused.append(f"{MAIN}: {target} is not one quoted value; edit it by hand")
        return None
    start, end = assignment.inner(text)
    inner = ensure_in_span(text[start:end], wanted)
    if assignment.quote == "":
        inner = f'"{inner}"'
    return FileChange(MAIN, text, text[:start] + inner + text[end:], f"the last {target} line counts")
