"""Topology drawing layout, lstopo style: boxes and lines computed from a ``HostModel``.

Pure: no Qt. Text size comes from a ``measure(text) -> (width, height)`` callback so the same
layout serves a painter (real font metrics) and tests (a fixed-width fake). The nesting is
package -> NUMA node -> L3 domain -> core -> hardware thread; when a package's L3 domains span
several NUMA nodes (Intel sub-NUMA clustering) the L3 level goes above the node level instead,
so every box still contains its children without overlap. PCI devices sit in an I/O strip at the
bottom of their NUMA node; devices of no known node go to an "unknown locality" tray.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vfiodeck.core.host.layout_place import place_top, size_item
from vfiodeck.core.host.layout_types import (
    GAP,
    PAD,
    Box,
    BoxKind,
    Item,
    Line,
    Measure,
    TopologyLayout,
)
from vfiodeck.core.host.model import HostModel, PciDevice
from vfiodeck.core.text import cpulist_text, device_name, kib_text, mib_text

__all__ = ["GAP", "PAD", "Box", "BoxKind", "Line", "Measure", "TopologyLayout", "layout_topology"]

DEVICE_NAME_CHARS = 26  # device names are cut here: a 60-character pci.ids name would widen a node


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
        size_item(item, measure)
    boxes: list[Box] = []
    lines: list[Line] = []
    width, height = place_top(items, boxes, lines)
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
        self.node_items: dict[int, Item] = {}  # the first box drawn for each node id
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
    def packages(self) -> list[Item]:
        by_package: dict[int | None, set[int]] = {}
        for cpu in self.host.topology.cpus:
            by_package.setdefault(cpu.package, set()).add(cpu.id)
        items = []
        for package in sorted(by_package, key=lambda p: (p is None, p if p is not None else 0)):
            cpus = frozenset(by_package[package])
            name = f"Package {package}" if package is not None else "Package ?"
            item = Item(
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

    def _split(self, cpus: frozenset[int], levels: list[list[_Group]], parent: str) -> list[Item]:
        if not levels:
            return self._cores(cpus, parent)
        level, rest = levels[0], levels[1:]
        children: list[Item] = []
        covered: set[int] = set()
        for group in level:
            part = group.cpus & cpus
            if not part:
                continue
            covered |= part
            partial = part != group.cpus
            key = f"{group.key}@{parent}" if group.kind is BoxKind.CACHE or partial else group.key
            details = group.details + (("(split across boxes)",) if partial else ())
            item = Item(group.kind, key, (group.label,), details, tuple(sorted(part)), group.node)
            if group.kind is BoxKind.NODE and group.node is not None:
                self.node_items.setdefault(group.node, item)
            item.children = self._split(frozenset(part), rest, key)
            children.append(item)
        leftover = cpus - covered
        if leftover:  # CPUs this level does not describe: keep them, one level down
            children.extend(self._split(frozenset(leftover), rest, parent))
        return children

    def _cores(self, cpus: frozenset[int], parent: str) -> list[Item]:
        items: list[Item] = []
        seen: set[int] = set()
        for core in sorted(self.host.topology.cores, key=lambda c: min(c.cpus, default=0)):
            part = tuple(sorted(set(core.cpus) & cpus))
            if not part:
                continue
            seen.update(part)
            key = f"core:{core.package}:{core.die}:{core.core}:{part[0]}"
            label = f"Core {core.core}" if core.core is not None else "Core ?"
            item = Item(
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

    def _pu(self, cpu_id: int, parent: str) -> Item:
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
        return Item(BoxKind.PU, f"cpu:{cpu_id}", (str(cpu_id),), tuple(details), (cpu_id,), node)

    def cpuless_nodes(self) -> list[Item]:
        """Memory-only nodes (CXL, HBM, DAX) have no CPUs: drawn apart, devices may attach to them."""
        items = []
        for n in sorted(self.host.topology.numa_nodes, key=lambda n: n.id):
            if n.cpus:
                continue
            label = f"Node {n.id}" + (f" · {mib_text(n.memory_mib)}" if n.memory_mib else "")
            item = Item(
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
    def attach_devices(self, items: list[Item], addresses: Iterable[str]) -> Item | None:
        unknown: list[Item] = []
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
        tray = Item(
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


def _device_item(dev: PciDevice) -> Item:
    full = dev.device_name or "unknown device"
    details = (
        full,
        f"{dev.vendor_name or dev.vendor_id or '?'} · {dev.address}",
        f"driver {dev.driver or 'none'} · NUMA node {'unknown' if dev.numa_node is None else dev.numa_node}",
    )
    return Item(
        BoxKind.DEVICE,
        f"pci:{dev.address}",
        (short_device_name(dev), dev.address),
        details,
        node=dev.numa_node,
        address=dev.address,
    )


# -- sizing and placement --------------------------------------------------------------------
