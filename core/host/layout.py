"""Topology drawing layout, lstopo style: boxes and lines computed from a ``HostModel``.

Pure: no Qt. Text size comes from a ``measure(text) -> (width, height)`` callback so the same
layout serves a painter (real font metrics) and tests (a fixed-width fake). The nesting is
package -> NUMA node -> L3 domain -> core -> hardware thread; when a package's L3 domains span
several NUMA nodes (Intel sub-NUMA clustering) the L3 level goes above the node level instead,
so every box still contains its children without overlap. PCI devices sit in an I/O strip at the
bottom of their NUMA node; devices of no known node go to an "unknown locality" tray.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from vfiodeck.core.host.model import HostModel, PciDevice
from vfiodeck.core.text import cpulist_text, device_name, kib_text, mib_text

Measure = Callable[[str], tuple[float, float]]

PAD = 6.0  # inner padding of a container box
GAP = 6.0  # space between sibling boxes
DEVICE_NAME_CHARS = 26  # device names are cut here: a 60-character pci.ids name would widen a node


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
class _Item:
    kind: BoxKind
    key: str
    lines: tuple[str, ...]
    details: tuple[str, ...] = ()
    cpus: tuple[int, ...] = ()
    node: int | None = None
    address: str | None = None
    children: list[_Item] = field(default_factory=list)
    devices: list[_Item] = field(default_factory=list)  # the I/O strip (NUMA nodes and the tray)
    horizontal: bool = False  # children in one row (threads of a core) instead of a grid
    header: float = 0.0  # height of the text above the children
    w: float = 0.0
    h: float = 0.0


@dataclass(frozen=True)
class _Group:
    kind: BoxKind
    key: str
    label: str
    details: tuple[str, ...]
    cpus: frozenset[int]
    node: int | None = None


def layout_topology(host: HostModel, measure: Measure, attach: Iterable[str] = ()) -> TopologyLayout:
    """Lay out ``host``'s CPUs, and the PCI devices whose addresses are in ``attach``."""
    builder = _Builder(host, measure)
    items = builder.packages()
    items.extend(builder.cpuless_nodes())
    tray = builder.attach_devices(items, attach)
    if tray is not None:
        items.append(tray)
    for item in items:
        _size(item, measure)
    boxes: list[Box] = []
    lines: list[Line] = []
    width, height = _place_top(items, boxes, lines)
    siblings = {cpu.id: cpu.siblings for cpu in host.topology.cpus if cpu.siblings}
    return TopologyLayout(width, height, tuple(boxes), tuple(lines), siblings)


def short_device_name(dev: PciDevice) -> str:
    """``text.device_name`` cut to fit a box."""
    name = device_name(dev)
    if len(name) > DEVICE_NAME_CHARS:
        name = name[: DEVICE_NAME_CHARS - 1].rstrip() + "…"
    return name


class _Builder:
    def __init__(self, host: HostModel, measure: Measure) -> None:
        self.host = host
        self.measure = measure
        topo = host.topology
        self.cpu_by_id = {cpu.id: cpu for cpu in topo.cpus}
        self.node_items: dict[int, _Item] = {}  # the first box drawn for each node id
        self.nodes = [
            _Group(
                BoxKind.NODE,
                f"node:{n.id}",
                f"Node {n.id}" + (f" · {mib_text(n.memory_mib)}" if n.memory_mib else ""),
                _node_details(n.id, n.cpus, n.memory_mib),
                frozenset(n.cpus),
                n.id,
            )
            for n in sorted(topo.numa_nodes, key=lambda n: n.id)
            if n.cpus
        ]
        self.caches = [
            _Group(
                BoxKind.CACHE,
                f"l3:{cpulist_text(c.cpus)}",
                "L3" + (f" · {kib_text(c.size_kib)}" if c.size_kib else ""),
                (
                    f"L3 cache{' ' + kib_text(c.size_kib) if c.size_kib else ''}",
                    f"shared by CPUs {cpulist_text(c.cpus)}",
                ),
                frozenset(c.cpus),
            )
            for c in sorted(topo.cache_domains, key=lambda c: min(c.cpus, default=0))
            if c.level == 3 and c.cpus
        ]

    # -- CPU side ---------------------------------------------------------------------------
    def packages(self) -> list[_Item]:
        by_package: dict[int | None, set[int]] = {}
        for cpu in self.host.topology.cpus:
            by_package.setdefault(cpu.package, set()).add(cpu.id)
        items = []
        for package in sorted(by_package, key=lambda p: (p is None, p if p is not None else 0)):
            cpus = frozenset(by_package[package])
            name = f"Package {package}" if package is not None else "Package ?"
            item = _Item(
                BoxKind.PACKAGE,
                f"package:{package if package is not None else '?'}",
                (name,),
                (name, f"CPUs {cpulist_text(cpus)}", f"{len(cpus)} hardware threads"),
                tuple(sorted(cpus)),
            )
            item.children = self._split(cpus, self._levels(cpus), item.key)
            items.append(item)
        return items

    def _levels(self, cpus: frozenset[int]) -> list[list[_Group]]:
        nodes = [g for g in self.nodes if g.cpus & cpus]
        caches = [g for g in self.caches if g.cpus & cpus]
        # Sub-NUMA clustering: one L3 holds several nodes, so it must be the outer box.
        l3_outside = (
            bool(caches)
            and len(nodes) > 1
            and all(any((n.cpus & cpus) <= c.cpus for c in caches) for n in nodes)
            and not all(any((c.cpus & cpus) <= n.cpus for n in nodes) for c in caches)
        )
        levels = [caches, nodes] if l3_outside else [nodes, caches]
        return [level for level in levels if level]

    def _split(self, cpus: frozenset[int], levels: list[list[_Group]], parent: str) -> list[_Item]:
        if not levels:
            return self._cores(cpus, parent)
        level, rest = levels[0], levels[1:]
        children: list[_Item] = []
        covered: set[int] = set()
        for group in level:
            part = group.cpus & cpus
            if not part:
                continue
            covered |= part
            partial = part != group.cpus
            key = f"{group.key}@{parent}" if group.kind is BoxKind.CACHE or partial else group.key
            details = group.details + (("(split across boxes)",) if partial else ())
            item = _Item(group.kind, key, (group.label,), details, tuple(sorted(part)), group.node)
            if group.kind is BoxKind.NODE and group.node is not None:
                self.node_items.setdefault(group.node, item)
            item.children = self._split(frozenset(part), rest, key)
            children.append(item)
        leftover = cpus - covered
        if leftover:  # CPUs this level does not describe: keep them, one level down
            children.extend(self._split(frozenset(leftover), rest, parent))
        return children

    def _cores(self, cpus: frozenset[int], parent: str) -> list[_Item]:
        items: list[_Item] = []
        seen: set[int] = set()
        for core in sorted(self.host.topology.cores, key=lambda c: min(c.cpus, default=0)):
            part = tuple(sorted(set(core.cpus) & cpus))
            if not part:
                continue
            seen.update(part)
            key = f"core:{core.package}:{core.die}:{core.core}:{part[0]}"
            label = f"Core {core.core}" if core.core is not None else "Core ?"
            item = _Item(
                BoxKind.CORE,
                key,
                (),
                (label, f"package {core.package}", f"threads {cpulist_text(part)}"),
                part,
                horizontal=True,
            )
            item.children = [self._pu(cpu, key) for cpu in part]
            items.append(item)
        for cpu in sorted(cpus - seen):  # a CPU no core lists: draw it bare
            items.append(self._pu(cpu, parent))
        return items

    def _pu(self, cpu_id: int, parent: str) -> _Item:
        cpu = self.cpu_by_id.get(cpu_id)
        details = [f"CPU {cpu_id}"]
        if cpu is not None:
            details.append(f"core {cpu.core}, package {cpu.package}, node {cpu.node}")
            others = [s for s in cpu.siblings if s != cpu_id]
            details.append(
                f"SMT sibling{'s' if len(others) > 1 else ''}: {cpulist_text(others)}"
                if others
                else "no SMT sibling"
            )
        node = cpu.node if cpu is not None else None
        return _Item(BoxKind.PU, f"cpu:{cpu_id}", (str(cpu_id),), tuple(details), (cpu_id,), node)

    def cpuless_nodes(self) -> list[_Item]:
        """Memory-only nodes (CXL, HBM, DAX) have no CPUs: drawn apart, devices may attach to them."""
        items = []
        for n in sorted(self.host.topology.numa_nodes, key=lambda n: n.id):
            if n.cpus:
                continue
            label = f"Node {n.id}" + (f" · {mib_text(n.memory_mib)}" if n.memory_mib else "")
            item = _Item(
                BoxKind.NODE,
                f"node:{n.id}",
                (label, "memory only"),
                _node_details(n.id, (), n.memory_mib),
                (),
                n.id,
            )
            self.node_items.setdefault(n.id, item)
            items.append(item)
        return items

    # -- devices ----------------------------------------------------------------------------
    def attach_devices(self, items: list[_Item], addresses: Iterable[str]) -> _Item | None:
        unknown: list[_Item] = []
        for address in sorted(set(addresses)):
            dev = self.host.device(address)
            if dev is None:
                continue
            node_item = self.node_items.get(dev.numa_node) if dev.numa_node is not None else None
            item = _device_item(dev)
            if node_item is None:
                unknown.append(item)
            else:
                node_item.devices.append(item)
        if not unknown:
            return None
        tray = _Item(
            BoxKind.TRAY,
            "tray:unknown",
            ("Unknown locality",),
            ("Devices whose NUMA node the kernel does not report (numa_node -1 or missing)",),
        )
        tray.devices = unknown
        return tray


def _node_details(node: int, cpus: Sequence[int], memory_mib: int | None) -> tuple[str, ...]:
    return (
        f"NUMA node {node}",
        f"memory {mib_text(memory_mib)}" if memory_mib else "memory size unknown",
        f"CPUs {cpulist_text(cpus)}" if cpus else "no CPUs",
    )


def _device_item(dev: PciDevice) -> _Item:
    full = dev.device_name or "unknown device"
    details = (
        full,
        f"{dev.vendor_name or dev.vendor_id or '?'} · {dev.address}",
        f"driver {dev.driver or 'none'} · NUMA node {'unknown' if dev.numa_node is None else dev.numa_node}",
    )
    return _Item(
        BoxKind.DEVICE,
        f"pci:{dev.address}",
        (short_device_name(dev), dev.address),
        details,
        node=dev.numa_node,
        address=dev.address,
    )


# -- sizing and placement --------------------------------------------------------------------


def _text_size(lines: Sequence[str], measure: Measure) -> tuple[float, float]:
    width = height = 0.0
    for text in lines:
        w, h = measure(text)
        width = max(width, w)
        height += h
    return width, height


def _columns(item: _Item, count: int) -> int:
    if item.horizontal:
        return count
    if item.kind is BoxKind.PACKAGE and count <= 4:
        return count  # a package's nodes side by side read like the board
    return max(1, math.ceil(math.sqrt(count)))


def _rows(children: Sequence[_Item], cols: int) -> list[Sequence[_Item]]:
    return [children[i : i + cols] for i in range(0, len(children), cols)]


def _flow_size(children: Sequence[_Item], cols: int) -> tuple[float, float]:
    width = height = 0.0
    for row in _rows(children, cols):
        width = max(width, sum(c.w for c in row) + GAP * (len(row) - 1))
        height += max(c.h for c in row) + GAP
    return width, max(0.0, height - GAP)


def _size(item: _Item, measure: Measure) -> None:
    for child in item.children:
        _size(child, measure)
    for dev in item.devices:
        _size(dev, measure)
    text_w, text_h = _text_size(item.lines, measure)
    if item.kind is BoxKind.PU:
        digit_w, _ = measure("000")  # every thread box as wide as a 3-digit one: grids line up
        item.w = max(text_w, digit_w) + 2 * PAD
        item.h = text_h + 2 * PAD
        return
    content_w = content_h = 0.0
    if item.children:
        content_w, content_h = _flow_size(item.children, _columns(item, len(item.children)))
    if item.devices:
        dev_w, dev_h = _flow_size(item.devices, _device_columns(item))
        content_w = max(content_w, dev_w)
        content_h += (2 * GAP if item.children else 0.0) + dev_h
    item.header = text_h + (GAP / 2 if text_h else 0.0)
    item.w = max(text_w, content_w) + 2 * PAD
    item.h = item.header + content_h + 2 * PAD


def _device_columns(item: _Item) -> int:
    count = len(item.devices)
    if item.children:
        # Fit the strip under the CPU content; a one-device-wide node still gets one column.
        content_w, _ = _flow_size(item.children, _columns(item, len(item.children)))
        widest = max(d.w for d in item.devices)
        return max(1, min(count, int((content_w + GAP) // (widest + GAP))))
    return min(count, 4)


def _place_top(items: list[_Item], boxes: list[Box], lines: list[Line]) -> tuple[float, float]:
    packages = [i for i in items if i.kind is BoxKind.PACKAGE]
    others = [i for i in items if i.kind is not BoxKind.PACKAGE]
    cols = len(packages) if len(packages) <= 2 else math.ceil(math.sqrt(len(packages)))
    y = width = 0.0
    for group, group_cols in ((packages, max(cols, 1)), (others, max(len(others), 1))):
        for row in _rows(group, group_cols):
            x = 0.0
            for item in row:
                _place(item, x, y, None, boxes, lines)
                x += item.w + GAP
            width = max(width, x - GAP)
            y += max(i.h for i in row) + 2 * GAP
    return width, max(0.0, y - 2 * GAP)


def _place(item: _Item, x: float, y: float, parent: str | None, boxes: list[Box], lines: list[Line]) -> None:
    boxes.append(
        Box(
            item.kind,
            item.key,
            x,
            y,
            item.w,
            item.h,
            item.lines,
            item.details,
            item.cpus,
            item.node,
            item.address,
            parent,
        )
    )
    if item.kind is BoxKind.PU:
        return
    cy = y + PAD + item.header
    if item.children:
        cols = _columns(item, len(item.children))
        cy = _place_flow(item.children, cols, x + PAD, cy, item.key, boxes, lines)
    if item.devices:
        rail_y = cy + GAP
        if item.children:
            cy += 2 * GAP
        first = len(boxes)
        _place_flow(item.devices, _device_columns(item), x + PAD, cy, item.key, boxes, lines)
        if item.children:
            first_row = [b for b in boxes[first:] if b.kind is BoxKind.DEVICE and b.y == cy]
            _rail(first_row, rail_y, item.key, lines)


def _place_flow(
    children: Sequence[_Item],
    cols: int,
    x0: float,
    y: float,
    parent: str,
    boxes: list[Box],
    lines: list[Line],
) -> float:
    """Place children row by row from (x0, y); return the bottom of the last row."""
    for row in _rows(children, cols):
        x = x0
        for child in row:
            _place(child, x, y, parent, boxes, lines)
            x += child.w + GAP
        y += max(c.h for c in row) + GAP
    return y - GAP


def _rail(first_row: Sequence[Box], rail_y: float, key: str, lines: list[Line]) -> None:
    """A bus line between the CPUs and the I/O strip, with a drop to each device of its first row."""
    centers = [b.x + b.w / 2 for b in first_row]
    if not centers:
        return
    lines.append(Line(min(centers), rail_y, max(centers), rail_y, key))
    lines.append(Line(centers[0], rail_y - GAP, centers[0], rail_y, key))
    for box, cx in zip(first_row, centers, strict=True):
        lines.append(Line(cx, rail_y, cx, box.y, box.key))
