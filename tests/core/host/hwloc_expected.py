"""A small reader of hwloc's expected test output (``lstopo -v`` text or hwloc XML).

hwloc's own test suite keeps, next to each captured tarball, what lstopo printed for it. That
is an independent statement of the machine's topology, so our scan is compared with it. Only
what VFIO Deck models is extracted: PUs, packages, cores, NUMA nodes (cpus, memory,
distances) and L3 caches. Sets of CPUs are OS indexes (``P#``), as sysfs numbers them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

_UNIT_BYTES = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
# Objects that hang off the CPU tree without PUs below them (memory and I/O children).
_NON_CPU_TYPES = ("NUMANode", "MemCache", "HostBridge", "PCIBridge", "PCI", "OSDev", "Bridge", "Misc")


@dataclass(frozen=True)
class Amount:
    """A size as hwloc printed it: ``value`` in ``unit`` bytes (rounded by lstopo), or exact."""

    value: int
    unit: int

    def matches(self, size_bytes: int, precision: int = 0) -> bool:
        """Whether ``size_bytes`` (known to within ``precision`` bytes below the truth) is what
        hwloc meant: lstopo rounds to the nearest unit ("28160K" prints as "28MiB")."""
        return abs(size_bytes - self.value * self.unit) <= self.unit // 2 + precision


@dataclass
class ExpectedNode:
    os_index: int
    cpus: frozenset[int]
    memory: Amount | None


@dataclass
class ExpectedCore:
    package: int | None
    core: int
    cpus: frozenset[int]


@dataclass
class Expected:
    pus: frozenset[int] = frozenset()
    packages: dict[int, frozenset[int]] = field(default_factory=dict)
    cores: list[ExpectedCore] = field(default_factory=list)
    nodes: dict[int, ExpectedNode] = field(default_factory=dict)
    l3: list[tuple[frozenset[int], Amount]] = field(default_factory=list)  # (cpus, size)
    cpu_vendor: str | None = None  # the first package's CPUVendor / CPUModel infos
    cpu_model: str | None = None
    # node os index -> its row, with columns in ascending node os index (sysfs's order)
    distances: dict[int, tuple[int, ...]] = field(default_factory=dict)


@dataclass
class _Obj:
    type: str
    logical: int | None
    os_index: int | None
    attrs: dict[str, str]
    parent: _Obj | None = None
    children: list[_Obj] = field(default_factory=list)

    def pus(self) -> frozenset[int]:
        if self.type == "PU":
            return frozenset({self.os_index}) if self.os_index is not None else frozenset()
        found: set[int] = set()
        for child in self.children:
            found |= child.pus()
        return frozenset(found)

    def ancestor(self, type_: str) -> _Obj | None:
        obj = self.parent
        while obj is not None and obj.type != type_:
            obj = obj.parent
        return obj

    def cpu_parent(self) -> _Obj | None:
        """The nearest ancestor that holds PUs (a NUMA node may sit below a MemCache)."""
        obj = self.parent
        while obj is not None and obj.type in _NON_CPU_TYPES:
            obj = obj.parent
        return obj

    def walk(self) -> list[_Obj]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


def load(folder: Path) -> Expected:
    """The expected output next to ``folder/<name>.tar.bz2``: ``<name>.console`` or ``<name>.xml``."""
    console = folder / f"{folder.name}.console"
    if console.exists():
        return parse_console(console.read_text())
    return parse_xml(ET.parse(folder / f"{folder.name}.xml").getroot())


# -- common -----------------------------------------------------------------------------------


def _expected_from_tree(root: _Obj) -> Expected:
    exp = Expected(pus=root.pus())
    for obj in root.walk():
        if obj.type == "Package" and obj.os_index is not None:
            exp.packages[obj.os_index] = obj.pus()
            exp.cpu_vendor = exp.cpu_vendor or obj.attrs.get("CPUVendor")
            exp.cpu_model = exp.cpu_model or obj.attrs.get("CPUModel")
        elif obj.type == "Core" and obj.os_index is not None:
            package = obj.ancestor("Package")
            exp.cores.append(ExpectedCore(package.os_index if package else None, obj.os_index, obj.pus()))
        elif obj.type == "L3Cache":
            exp.l3.append((obj.pus(), _cache_size(obj.attrs)))
        elif obj.type == "NUMANode" and obj.os_index is not None:
            holder = obj.cpu_parent()
            cpus = holder.pus() if holder is not None else frozenset()
            exp.nodes[obj.os_index] = ExpectedNode(obj.os_index, cpus, _node_memory(obj.attrs))
    return exp


def _cache_size(attrs: dict[str, str]) -> Amount:
    if "cache_size" in attrs:  # XML: exact bytes
        return Amount(int(attrs["cache_size"]), 1)
    return _amount(attrs["size"])


def _node_memory(attrs: dict[str, str]) -> Amount | None:
    if "local_memory" in attrs:  # XML: exact bytes
        return Amount(int(attrs["local_memory"]), 1)
    if "local" in attrs:
        return _amount(attrs["local"])
    return None


def _amount(text: str) -> Amount:
    match = re.fullmatch(r"(\d+)(B|KiB|MiB|GiB|TiB)", text)
    if match is None:
        raise ValueError(f"not an lstopo size: {text!r}")
    return Amount(int(match.group(1)), _UNIT_BYTES[match.group(2)])


# -- lstopo -v text -----------------------------------------------------------------------------

_LINE = re.compile(r"(?P<indent> *)(?P<type>[A-Za-z0-9]+)\S*(?: L#(?P<logical>\d+))?(?: \((?P<attrs>.*)\))?")
_ATTR = re.compile(r'(\w+)=("[^"]*"|\S+)')
_OS_INDEX = re.compile(r"^P#(\d+)")


def parse_console(text: str) -> Expected:
    lines = text.splitlines()
    root, end = _parse_tree(lines)
    exp = _expected_from_tree(root)
    exp.distances = _console_distances(lines[end:], root)
    return exp


def _parse_tree(lines: list[str]) -> tuple[_Obj, int]:
    """The object tree: two spaces of indent per level, from "Machine" up to the first
    unindented line after it ("depth 0: ..."). Returns the root and the index after the tree."""
    stack: list[_Obj] = []
    root: _Obj | None = None
    for number, line in enumerate(lines):
        indent = len(line) - len(line.lstrip(" "))
        if root is not None and indent == 0:
            return root, number
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"line {number + 1}: not an lstopo object: {line!r}")
        attrs_text = match.group("attrs") or ""
        os_match = _OS_INDEX.match(attrs_text)
        obj = _Obj(
            type=match.group("type"),
            logical=int(match.group("logical")) if match.group("logical") else None,
            os_index=int(os_match.group(1)) if os_match else None,
            attrs={key: value.strip('"') for key, value in _ATTR.findall(attrs_text)},
        )
        depth = indent // 2
        del stack[depth:]
        if stack:
            obj.parent = stack[-1]
            stack[-1].children.append(obj)
        else:
            root = obj
        stack.append(obj)
    if root is None:
        raise ValueError("no object tree")
    return root, len(lines)


def _console_distances(lines: list[str], root: _Obj) -> dict[int, tuple[int, ...]]:
    """The NUMA latency matrix. Its labels are logical indexes (L#), which we map to OS
    indexes through the tree; rows and columns are then put in OS index order."""
    os_of = {
        o.logical: o.os_index
        for o in root.walk()
        if o.type == "NUMANode" and o.logical is not None and o.os_index is not None
    }
    starts = [i for i, line in enumerate(lines) if line.startswith("Relative latency matrix (name NUMA")]
    if not starts:
        return {}
    number = starts[0]
    header = lines[number + 1].split()
    if header[0] != "index":
        raise ValueError(f"unexpected matrix header: {lines[number + 1]!r}")
    columns = [os_of[int(label)] for label in header[1:]]
    raw: dict[int, dict[int, int]] = {}
    for line in lines[number + 2 : number + 2 + len(columns)]:
        label, *values = line.split()
        raw[os_of[int(label)]] = dict(zip(columns, (int(v) for v in values), strict=True))
    order = sorted(raw)
    return {row: tuple(raw[row][col] for col in order) for row in order}


# -- hwloc XML ----------------------------------------------------------------------------------


def parse_bitmap(text: str) -> frozenset[int]:
    """hwloc's bitmap text: 32-bit hex words, most significant first ("0x00000055,0x55555555")."""
    bits: set[int] = set()
    words = text.split(",")
    for position, word in enumerate(reversed(words)):
        value = int(word, 16)
        bits.update(position * 32 + bit for bit in range(32) if value >> bit & 1)
    return frozenset(bits)


def parse_xml(root_el: ET.Element) -> Expected:
    machine = root_el.find("object")
    if machine is None:
        raise ValueError("no object in the XML")
    root = _xml_obj(machine, None)
    exp = _expected_from_tree(root)
    # The XML states each object's cpuset outright: take it rather than the derived one.
    for el in root_el.iter("object"):
        if el.get("type") == "NUMANode" and el.get("os_index") is not None:
            exp.nodes[int(el.get("os_index", "0"))].cpus = parse_bitmap(el.get("cpuset", "0x0"))
    exp.distances = _xml_distances(root_el)
    return exp


def _xml_obj(el: ET.Element, parent: _Obj | None) -> _Obj:
    os_index = el.get("os_index")
    attrs = dict(el.attrib)
    attrs.update((info.get("name", ""), info.get("value", "")) for info in el.findall("info"))
    obj = _Obj(el.get("type", ""), None, int(os_index) if os_index is not None else None, attrs, parent)
    obj.children = [_xml_obj(child, obj) for child in el.findall("object")]
    return obj


def _xml_distances(root_el: ET.Element) -> dict[int, tuple[int, ...]]:
    for dist in root_el.iter("distances2"):
        if dist.get("type") != "NUMANode" or dist.get("name") != "NUMALatency":
            continue
        if dist.get("indexing") != "os":
            raise ValueError("only os-indexed distances are supported")
        indexes = [int(v) for v in (dist.findtext("indexes") or "").split()]
        values = [int(v) for v in " ".join(el.text or "" for el in dist.iter("u64values")).split()]
        n = len(indexes)
        rows = {indexes[i]: dict(zip(indexes, values[i * n : (i + 1) * n], strict=True)) for i in range(n)}
        order = sorted(rows)
        return {row: tuple(rows[row][col] for col in order) for row in order}
    return {}
