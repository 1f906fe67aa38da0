"""hugepages_per_node: free huge pages on each NUMA node against the VMs that ask for them.

A VM with <memoryBacking><hugepages/> fails to start ("unable to map backing store") when its
node lacks free pages, even while the host total looks fine. The VMs are libvirt's persistent
definitions (etc/libvirt/qemu/*.xml, readable by root); running ones already hold their pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.memory import MEMINFO, meminfo_hugepages
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.text import parse_cpulist

if TYPE_CHECKING:
    from lxml import etree

TITLE = "Huge pages free on the VMs' NUMA nodes"
NODE_DIR = "sys/devices/system/node"
DOMAINS = "etc/libvirt/qemu"
RUNNING = "run/libvirt/qemu"
_PAGES_DIR = re.compile(r"hugepages-(\d+)kB")
_UNITS_KIB = {
    "b": 1 / 1024,
    "bytes": 1 / 1024,
    "k": 1,
    "kib": 1,
    "kb": 1000 / 1024,
    "m": 1024,
    "mib": 1024,
    "mb": 1000**2 / 1024,
    "g": 1024**2,
    "gib": 1024**2,
    "gb": 1000**3 / 1024,
}


@dataclass(frozen=True)
class Demand:
    vm: str
    pages: tuple[tuple[int | None, int], ...]  # (page size kB or None for the default, KiB of RAM)
    nodes: tuple[int, ...]  # host nodes from <numatune><memory nodeset>; () means any node


def _kib(value: str | None, unit: str | None) -> int | None:
    if not value or not value.strip().isdigit():
        return None
    factor = _UNITS_KIB.get((unit or "KiB").lower())
    return int(int(value) * factor) if factor else None


def _page_split(
    root: etree._Element, backing: etree._Element, memory_kib: int
) -> list[tuple[int | None, int]]:
    """RAM per page size: a <page nodeset=...> covers those guest NUMA cells, a page without one
    covers the rest (libvirt's rule); no <page> at all is the host's default size for everything."""
    cells = {
        cell.get("id"): _kib(cell.get("memory"), cell.get("unit")) or 0
        for cell in root.iterfind("cpu/numa/cell")
    }
    split: list[tuple[int | None, int]] = []
    left = memory_kib
    rest_size: int | None = None
    for page in backing.iterfind("page"):
        size = _kib(page.get("size"), page.get("unit"))
        nodeset = page.get("nodeset")
        if nodeset is None:
            rest_size = size
            continue
        covered = sum(cells.get(str(cell), 0) for cell in parse_cpulist(nodeset) or ())
        split.append((size, covered))
        left -= covered
    if left > 0:
        split.append((rest_size, left))
    return split


def parse_demand(xml: bytes) -> Demand | None:
    """What one domain definition asks for; None when it wants no huge pages (or does not parse)."""
    from lxml import etree  # ~15 ms: only when a host has domain definitions to read

    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return None
    backing = root.find("memoryBacking/hugepages")
    memory = root.find("memory")
    memory_kib = _kib(memory.text, memory.get("unit")) if memory is not None else None
    if backing is None or memory_kib is None:
        return None
    tune = root.find("numatune/memory")
    nodeset = tune.get("nodeset") if tune is not None else None
    nodes = parse_cpulist(nodeset) if nodeset else ()
    return Demand(root.findtext("name") or "?", tuple(_page_split(root, backing, memory_kib)), nodes or ())


def free_pages(ctx: CheckContext) -> dict[int, dict[int, int]]:
    """node -> {page size kB: free pages}."""
    result: dict[int, dict[int, int]] = {}
    for node in ctx.host.topology.numa_nodes:
        base = f"{NODE_DIR}/node{node.id}/hugepages"
        for name in ctx.reader.listdir(base):
            match = _PAGES_DIR.fullmatch(name)
            free = ctx.reader.integer(f"{base}/{name}/free_hugepages") if match else None
            if match and free is not None:
                result.setdefault(node.id, {})[int(match.group(1))] = free
    return result


def _demands(ctx: CheckContext) -> tuple[list[Demand], str | None]:
    reader = ctx.reader
    before = len(reader.problems)
    names = [n for n in reader.listdir(DOMAINS) if n.endswith(".xml")]
    if len(reader.problems) > before:
        return [], f"{DOMAINS}: {reader.problems[-1].detail}"
    if not names and not reader.isdir(DOMAINS):
        # On the live host a missing folder means no VM was ever defined; a snapshot leaves it out.
        return [], None if reader.root.live else f"{DOMAINS}: not captured"
    demands = []
    for name in names:
        if reader.exists(f"{RUNNING}/{name}"):
            continue  # running: its pages are already taken out of "free"
        data = reader.data(f"{DOMAINS}/{name}", 1 << 20)
        demand = parse_demand(data) if data else None
        if demand is not None:
            demands.append(demand)
    return demands, None


def _shortfall(demand: Demand, free: dict[int, dict[int, int]], default_kib: int | None) -> list[str]:
    """What the VM lacks, per page size ("win11 needs 16 x 1048576 kB on node 0, 8 free")."""
    needed: dict[int, int] = {}
    for size, kib in demand.pages:
        size = size or default_kib
        if size:
            needed[size] = needed.get(size, 0) - (-kib // size)
    nodes = demand.nodes or tuple(sorted(free))
    where = f"node{'s' if len(nodes) > 1 else ''} {','.join(map(str, nodes))}"
    short = []
    for size, count in sorted(needed.items()):
        available = sum(free.get(n, {}).get(size, 0) for n in nodes)
        if available < count:
            short.append(f"{demand.vm} needs {count} x {size} kB on {where}, {available} free")
    return short


def _first_short_part(
    demand: Demand, free: dict[int, dict[int, int]], default_kib: int | None
) -> tuple[int, int]:
    """(page size kB, KiB of RAM) of the first part of the VM's memory that does not fit."""
    for size, kib in demand.pages:
        if _shortfall(Demand(demand.vm, ((size, kib),), demand.nodes), free, default_kib):
            return size or default_kib or 2048, kib
    return default_kib or 2048, 0


def _free_text(free: dict[int, dict[int, int]]) -> str:
    parts = []
    for node, sizes in sorted(free.items()):
        listed = ", ".join(f"{count} x {size} kB" for size, count in sorted(sizes.items()) if count)
        parts.append(f"node{node}: {listed or 'none'} free")
    return "; ".join(parts)


def _size_param(kib: int) -> str:
    return f"{kib >> 20}G" if kib >= 1 << 20 else f"{kib >> 10}M"


def check_hugepages_per_node(ctx: CheckContext) -> Check:
    free = free_pages(ctx)
    if not free:
        return Check(
            "hugepages_per_node", Status.UNKNOWN, TITLE, f"{NODE_DIR}/node*/hugepages: not captured", ""
        )
    demands, why_not = _demands(ctx)
    free_text = _free_text(free)
    if why_not is not None:
        return Check("hugepages_per_node", Status.UNKNOWN, TITLE, f"{free_text}; VMs: {why_not}", "")
    if not demands:
        return Check(
            "hugepages_per_node", Status.PASS, TITLE, f"{free_text}; no stopped VM asks for huge pages", ""
        )
    meminfo = ctx.reader.text(MEMINFO)
    default_kib = meminfo_hugepages(meminfo)[1] if meminfo is not None else None
    short = [line for d in demands for line in _shortfall(d, free, default_kib)]
    if not short:
        names = ", ".join(d.vm for d in demands)
        return Check("hugepages_per_node", Status.PASS, TITLE, f"{free_text}; enough for {names}", "")
    first = next(d for d in demands if _shortfall(d, free, default_kib))
    size, kib = _first_short_part(first, free, default_kib)
    node = (first.nodes or tuple(sorted(free)))[0]
    count = -(-kib // size)
    command = f"echo {count} | sudo tee {'/' + NODE_DIR}/node{node}/hugepages/hugepages-{size}kB/nr_hugepages"
    fix = (
        f"Reserve the pages on that node: `{command}` (1 GiB pages may fail once memory is fragmented: "
        f"then reserve them at boot with hugepagesz={_size_param(size)} hugepages={node}:{count} on the "
        "kernel command line)."
    )
    return Check("hugepages_per_node", Status.FAIL, TITLE, f"{'; '.join(short)} ({free_text})", fix, command)
