"""Binding at boot through ``/etc/modprobe.d/vfio-deck.conf``: one file we own, rebuilt from its
state (ids, softdeps, addresses) on every plan.

- ids: modprobe concatenates every ``options vfio-pci`` line, and the module keeps only the **last**
  ``ids=``; so the ids other files already bind are merged into our one line and their ``ids=`` are
  taken out of those lines (a line left with nothing is commented out, never deleted).
- softdep: ``softdep <driver> pre: vfio-pci`` for the GPU's drivers, so vfio-pci is loaded first.
- by address (a twin shares the ids, or a storage function's id could match the boot disk): an
  early hook, modprobe's ``install`` command for vfio-pci, writes ``driver_override`` for those
  addresses just before vfio-pci loads. Why not a udev rule: vfio-pci is forced into the initramfs
  and loaded before any GPU driver (the softdep), so the override is set at the moment vfio-pci
  probes, inside the initramfs too; every initramfs tool copies modprobe.d, while mkinitcpio's and
  booster's images do not carry /etc/udev/rules.d, where the GPU driver would win the race.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vfiodeck.core.hostchanges.files import RootFiles
from vfiodeck.core.hostchanges.model import FileChange

OURS = "/etc/modprobe.d/vfio-deck.conf"
_HEADER = "# Written by VFIO Deck (vfio-deck undo restores the previous state): vfio-pci binding.\n"
_OPTIONS = re.compile(r"^[ \t]*options[ \t]+vfio[-_]pci[ \t]+(?P<args>.*)$", re.M)
_IDS = re.compile(r"(?<![^ \t])ids=(?P<ids>\S*)")
_SOFTDEP = re.compile(r"^softdep (\S+) pre: vfio-pci$", re.M)
_OVERRIDE = re.compile(r"for dev in ([0-9a-f: .]+); do")
ADDRESS = re.compile(r"^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$")
IDS = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{4}$")


@dataclass
class BindState:
    ids: list[str] = field(default_factory=list)
    softdeps: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    other_options: list[str] = field(default_factory=list)  # e.g. disable_vga=1 from our old line

    def render(self) -> str | None:
        lines = []
        if self.ids or self.other_options:
            args = ([f"ids={','.join(self.ids)}"] if self.ids else []) + self.other_options
            lines.append(f"options vfio-pci {' '.join(args)}")
        lines += [f"softdep {d} pre: vfio-pci" for d in self.softdeps]
        if self.addresses:
            joined = " ".join(self.addresses)
            lines.append(
                "install vfio-pci /bin/sh -c 'for dev in "
                f"{joined}; do echo vfio-pci > /sys/bus/pci/devices/$dev/driver_override; done; "
                "exec modprobe --ignore-install vfio-pci $CMDLINE_OPTS'"
            )
        return _HEADER + "".join(f"{line}\n" for line in lines) if lines else None


def read_state(text: str | None) -> BindState:
    state = BindState()
    if not text:
        return state
    for match in _OPTIONS.finditer(text):
        for arg in match.group("args").split():
            if arg.startswith("ids="):
                state.ids += [i for i in arg[4:].split(",") if i and i not in state.ids]
            elif arg not in state.other_options:
                state.other_options.append(arg)
    state.softdeps = _SOFTDEP.findall(text)
    override = _OVERRIDE.search(text)
    state.addresses = override.group(1).split() if override else []
    return state


def _config_files(files: RootFiles) -> list[str]:
    """modprobe.d files as kmod orders them: by name, /etc first for a name found twice."""
    seen: dict[str, str] = {}
    for folder in (
        "/etc/modprobe.d",
        "/run/modprobe.d",
        "/usr/local/lib/modprobe.d",
        "/usr/lib/modprobe.d",
        "/lib/modprobe.d",
    ):
        for path in files.listdir(folder, ".conf"):
            seen.setdefault(path.rsplit("/", 1)[1], path)
    return [seen[name] for name in sorted(seen)]


@dataclass
class ForeignIds:
    ids: list[str]
    changes: list[FileChange]
    refused: list[str]


def take_foreign_ids(files: RootFiles) -> ForeignIds:
    """The ids other modprobe.d files bind, and those files with their ``ids=`` taken out."""
    result = ForeignIds([], [], [])
    for path in _config_files(files):
        if path == OURS:
            continue
        text = files.read(path) or ""
        matches = [m for m in _OPTIONS.finditer(text) if _IDS.search(m.group("args"))]
        if not matches:
            continue
        if not path.startswith("/etc/"):
            result.refused.append(f"{path} binds ids to vfio-pci; only files under /etc are changed")
            continue
        after = text
        for match in reversed(matches):
            args = match.group("args")
            for found in _IDS.finditer(args):
                result.ids += [i for i in found.group("ids").split(",") if i and i not in result.ids]
            rest = _IDS.sub("", args).split()
            line = text[match.start() : match.end()]
            if rest:
                new = line[: match.start("args") - match.start()] + " ".join(rest)
            else:
                new = f"# {line.strip()}  # merged into {OURS} by VFIO Deck"
            after = after[: match.start()] + new + after[match.end() :]
        result.changes.append(
            FileChange(path, text, after, f"modprobe keeps only the last ids=: merged into {OURS}")
        )
    return result
