"""The topology layout's values: boxes, lines, the whole layout, and the items being laid out.

Pure: no Qt (see layout.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

Measure = Callable[[str], tuple[float, float]]

PAD = 6.0  # inner padding of a container box
GAP = 6.0  # space between sibling boxes


class BoxKind(str, Enum):
    PACKAGE = "package"
    NODE = "node"
    CACHE = "cache"
    CORE = "core"
    PU = "pu"
    DEVICE = "device"
    TRAY = "tray"


@dataclass(frozen=True)
class Box:
    kind: BoxKind
    key: str  # unique: "package:0", "node:1", "l3:0-7@node:0", "core:0:3", "cpu:12", "pci:0000:01:00.0"
    x: float
    y: float
    w: float
    h: float
    lines: tuple[str, ...]  # text drawn at the top of the box
    details: tuple[str, ...] = ()  # what a hover shows
    cpus: tuple[int, ...] = ()
    node: int | None = None
    address: str | None = None
    parent: str | None = None

    def contains(self, other: Box) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.x + other.w <= self.x + self.w
            and other.y + other.h <= self.y + self.h
        )

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )

    def hit(self, x: float, y: float) -> bool:
        return self.x <= x < self.x + self.w and self.y <= y < self.y + self.h


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    key: str  # the device (or node) the line belongs to


@dataclass(frozen=True)
class TopologyLayout:
    width: float
    height: float
    boxes: tuple[Box, ...]  # parents before children: paint in order
    lines: tuple[Line, ...] = ()
    cpu_siblings: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def box(self, key: str) -> Box | None:
        for box in self.boxes:
            if box.key == key:
                return box
        return None

    def box_at(self, x: float, y: float) -> Box | None:
        """The innermost box under a point (children come after their parents)."""
        found: Box | None = None
        for box in self.boxes:
            if box.hit(x, y):
                found = box
        return found

    def highlight(self, key: str) -> frozenset[str]:
        """Keys to highlight when ``key`` is selected.

        A device lights its NUMA node and every core and thread of that node (the cores nearest
        to it); a thread lights its SMT siblings and its core; a core lights its threads.
        """
        chosen = self.box(key)
        if chosen is None:
            return frozenset()
        keys = {key}
        if chosen.kind is BoxKind.DEVICE and chosen.node is not None:
            node_cpus: set[int] = set()
            for box in self.boxes:
                if box.kind is BoxKind.NODE and box.node == chosen.node:
                    keys.add(box.key)
                    node_cpus.update(box.cpus)
            keys.update(self._cpu_boxes(node_cpus))
        elif chosen.kind is BoxKind.PU:
            siblings = set(self.cpu_siblings.get(chosen.cpus[0], chosen.cpus))
            keys.update(self._cpu_boxes(siblings))
            if chosen.parent:
                keys.add(chosen.parent)
        elif chosen.kind is BoxKind.CORE:
            keys.update(self._cpu_boxes(set(chosen.cpus)))
        return frozenset(keys)

    def _cpu_boxes(self, cpus: set[int]) -> set[str]:
        return {
            box.key
            for box in self.boxes
            if box.kind in (BoxKind.CORE, BoxKind.PU) and box.cpus and set(box.cpus) <= cpus
        }


# -- the tree before placement ---------------------------------------------------------------


@dataclass
class Item:
    kind: BoxKind
    key: str
    lines: tuple[str, ...]
    details: tuple[str, ...] = ()
    cpus: tuple[int, ...] = ()
    node: int | None = None
    address: str | None = None
    children: list[Item] = field(default_factory=list)
    devices: list[Item] = field(default_factory=list)  # the I/O strip (NUMA nodes and the tray)
    horizontal: bool = False  # children in one row (threads of a core) instead of a grid
    header: float = 0.0  # height of the text above the children
    w: float = 0.0
    h: float = 0.0
