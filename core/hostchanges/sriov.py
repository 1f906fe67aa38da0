"""SR-IOV virtual functions: ``sriov_numvfs`` now (through the helper) and at every boot through a
udev rule of ours, which sets the count when the physical function appears. Each VF then is a
candidate of its own, bound by address (VFs share one id, so ids would take them all)."""

from __future__ import annotations

import re

from vfiodeck.core.host.pci import parse_address
from vfiodeck.core.hostchanges.files import RootFiles
from vfiodeck.core.hostchanges.model import FileChange, Refusal

RULES = "/etc/udev/rules.d/70-vfio-deck-sriov.rules"
_HEADER = "# Written by VFIO Deck (vfio-deck undo restores the previous state): SR-IOV VFs at boot.\n"
_RULE = re.compile(
    r'^ACTION=="add", SUBSYSTEM=="pci", KERNEL=="([^"]+)", ATTR\{sriov_numvfs\}="(\d+)"$', re.M
)


def parse_request(text: str) -> tuple[str, int] | None:
    """ "0000:01:00.0=4" or "01:00.0=4" -> ("0000:01:00.0", 4)."""
    address, _, count = text.partition("=")
    full = address.strip().lower()
    canonical = parse_address(full if full.count(":") == 2 else "0000:" + full)
    if canonical is None or not count.isdigit() or len(count) > 4:
        return None
    return canonical, int(count)


def total_vfs(files: RootFiles, address: str) -> int | None:
    text = files.read(f"/sys/bus/pci/devices/{address}/sriov_totalvfs")
    return int(text.strip()) if text and text.strip().isdigit() else None


def current(text: str | None) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in _RULE.finditer(text or "")}


def render(counts: dict[str, int]) -> str | None:
    live = {a: n for a, n in sorted(counts.items()) if n > 0}
    if not live:
        return None
    rules = "".join(
        f'ACTION=="add", SUBSYSTEM=="pci", KERNEL=="{a}", ATTR{{sriov_numvfs}}="{n}"\n'
        for a, n in live.items()
    )
    return _HEADER + rules


def plan_vfs(
    files: RootFiles, requests: list[str], *, now: bool
) -> tuple[list[FileChange], list[tuple[str, ...]], list[Refusal]]:
    changes: list[FileChange] = []
    commands: list[tuple[str, ...]] = []
    refused: list[Refusal] = []
    before = files.read(RULES)
    counts = current(before)
    for text in requests:
        parsed = parse_request(text)
        if parsed is None:
            refused.append(Refusal(None, f"{text!r}: give --vfs ADDR=N, like 0000:01:00.0=4"))
            continue
        address, count = parsed
        total = total_vfs(files, address)
        if total is None:
            refused.append(Refusal(address, "it has no SR-IOV capability (no sriov_totalvfs)"))
        elif count > total:
            refused.append(Refusal(address, f"it offers at most {total} virtual functions"))
        elif now:
            commands.append(("vfio-deck-helper", "sriov", address, str(count)))
        else:
            counts[address] = count
    after = render(counts)
    if not now and after != before:
        changes.append(FileChange(RULES, before, after, "udev sets sriov_numvfs when the device appears"))
    return changes, commands, refused
