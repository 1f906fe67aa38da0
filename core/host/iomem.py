"""``/proc/iomem``: the physical address map as a tree, read by its indentation.

A normal user reads every address as 0 (the kernel hides them), but the indentation, and so which
range sits inside which, is the same for everyone: that is all the framebuffer check needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vfiodeck.core.host.pci import parse_address

IOMEM = "proc/iomem"
_LINE = re.compile(r"^(?P<indent> *)(?P<start>[0-9a-fA-F]+)-(?P<end>[0-9a-fA-F]+) : (?P<name>.*?)\s*$")


@dataclass(frozen=True)
class Region:
    depth: int
    start: int
    end: int
    name: str
    parents: tuple[str, ...]  # names of the enclosing regions, outermost first

    def pci_owner(self) -> str | None:
        """The innermost enclosing PCI device address ("0000:01:00.0"), if any."""
        for name in reversed(self.parents):
            address = parse_address(name)
            if address is not None:
                return address
        return None


def parse_iomem(text: str) -> tuple[Region, ...]:
    """Every line as a Region with its ancestors; lines that do not parse are skipped."""
    regions: list[Region] = []
    stack: list[tuple[int, str]] = []  # (depth, name) of the open ancestors
    for line in text.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        depth = len(match.group("indent")) // 2
        while stack and stack[-1][0] >= depth:
            stack.pop()
        name = match.group("name")
        regions.append(
            Region(
                depth,
                int(match.group("start"), 16),
                int(match.group("end"), 16),
                name,
                tuple(n for _, n in stack),
            )
        )
        stack.append((depth, name))
    return tuple(regions)
