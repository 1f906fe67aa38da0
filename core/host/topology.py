"""CPU, NUMA and cache topology, read from sys/devices/system/{cpu,node} under a host root.

Only online CPUs count: a capture may list 128 possible CPUs of which 16 are online, and the
kernel leaves an offline CPU's topology files stale or absent. Values the kernel marks as
unknown (``-1`` for ``physical_package_id``/``die_id`` on arm64) become ``None`` without a
problem; values that do not parse become ``None`` with a problem in ``reader.problems``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from vfiodeck.core.host.cpuinfo import read_cpuinfo
from vfiodeck.core.host.model import (
    CacheDomain,
    Core,
    CpuInfo,
    LogicalCpu,
    NumaNode,
    ProblemKind,
    Topology,
)
from vfiodeck.core.host.sysfs import Reader

CPU_DIR = "sys/devices/system/cpu"
NODE_DIR = "sys/devices/system/node"

# Patterns, not compiled objects: ``re`` compiles (and caches) one on its first use, so a
# command that never reads a meminfo or a cache size never pays for compiling it.
_MEMTOTAL = r"^Node\s+\d+\s+MemTotal:\s+(\d+)\s*kB"
_CACHE_SIZE = r"(\d+)\s*([KMG])(?:i?B)?"
_SIZE_UNIT_KIB = {"K": 1, "M": 1024, "G": 1024 * 1024}


def numbered(name: str, prefix: str, suffix: str = "") -> int | None:
    """N from "<prefix>N<suffix>" ("cpu12", "hugepages-2048kB"), else None; no regex."""
    if not (name.startswith(prefix) and name.endswith(suffix)):
        return None
    digits = name[len(prefix) : len(name) - len(suffix)]
    return int(digits) if digits.isascii() and digits.isdigit() else None


# -- online CPUs ------------------------------------------------------------------------------


def online_cpus(reader: Reader) -> tuple[int, ...]:
    """``cpu/online`` when it parses; otherwise the cpuN folders not marked offline."""
    rel = f"{CPU_DIR}/online"
    cpus = reader.cpulist(rel)
    if cpus:
        return cpus
    if cpus == ():
        reader.problem(rel, ProblemKind.GARBAGE, "empty cpulist")
    return _cpus_from_folders(reader)


def _cpus_from_folders(reader: Reader) -> tuple[int, ...]:
    found: list[int] = []
    for name in reader.listdir(CPU_DIR):
        number = numbered(name, "cpu")
        if number is None:
            continue
        # cpu0 often has no "online" file (it cannot be unplugged): missing means online.
        if reader.integer(f"{CPU_DIR}/{name}/online") == 0:
            continue
        found.append(number)
    return tuple(sorted(found))


# -- one logical CPU --------------------------------------------------------------------------


def _topology_id(reader: Reader, rel: str) -> int | None:
    """A topology id; the kernel writes -1 where the firmware gave none (arm64 die_id)."""
    value: int | None = reader.integer(rel)
    if value is None or value < 0:
        return None
    return value


def _listed_siblings(reader: Reader, cpu: int) -> tuple[int, ...]:
    """The kernel's SMT sibling list. ``core_cpus_list`` is the newer name (Linux 5.3) of
    ``thread_siblings_list``; both hold the same list where both exist."""
    base = f"{CPU_DIR}/cpu{cpu}/topology"
    rel = f"{base}/core_cpus_list"
    listed = reader.cpulist(rel)
    if listed is None and not reader.exists(rel):
        rel = f"{base}/thread_siblings_list"
        listed = reader.cpulist(rel)
    if listed == ():
        reader.problem(rel, ProblemKind.GARBAGE, "empty cpulist")
    return listed or ()


_Ids = tuple[int | None, int | None, int | None]  # package, die, core_id


def _read_ids(reader: Reader, cpu: int) -> _Ids:
    base = f"{CPU_DIR}/cpu{cpu}/topology"
    return (
        _topology_id(reader, f"{base}/physical_package_id"),
        _topology_id(reader, f"{base}/die_id"),  # absent before Linux 5.2
        _topology_id(reader, f"{base}/core_id"),
    )


def _same_core(cpu: int, listed: tuple[int, ...], ids: dict[int, _Ids]) -> tuple[int, ...]:
    """Listed siblings that are online and have this CPU's (package, die, core_id).

    AMD family 15h (Bulldozer) kernels list both cores of a compute unit as thread siblings
    although each has its own core_id; hwloc shows them as two cores, and so do we.
    """
    mine = ids[cpu]
    keep = {c for c in listed if c in ids and (mine[2] is None or ids[c] == mine)}
    return tuple(sorted(keep | {cpu}))


def read_cpus(reader: Reader, cpu_ids: tuple[int, ...], owner: dict[int, int]) -> tuple[LogicalCpu, ...]:
    ids = {cpu: _read_ids(reader, cpu) for cpu in cpu_ids}
    listed = {cpu: _listed_siblings(reader, cpu) for cpu in cpu_ids}
    return tuple(
        LogicalCpu(
            id=cpu,
            package=ids[cpu][0],
            die=ids[cpu][1],
            core=ids[cpu][2],
            node=owner.get(cpu),
            siblings=_same_core(cpu, listed[cpu], ids),
        )
        for cpu in cpu_ids
    )


# -- NUMA nodes -------------------------------------------------------------------------------


def node_ids(reader: Reader) -> tuple[int, ...]:
    """nodeN folders; numbers may be sparse (0, 1, 2, 33, 34, ...)."""
    ids = []
    for name in reader.listdir(NODE_DIR):
        number = numbered(name, "node")
        if number is not None:
            ids.append(number)
    return tuple(sorted(ids))


def _node_memory_mib(reader: Reader, node: int) -> int | None:
    rel = f"{NODE_DIR}/node{node}/meminfo"
    text = reader.text(rel)
    if text is None:
        return None
    match = re.search(_MEMTOTAL, text, re.MULTILINE | re.ASCII)
    if match is None:
        reader.problem(rel, ProblemKind.GARBAGE, "no 'Node N MemTotal: X kB' line")
        return None
    return int(match.group(1)) // 1024


def _node_distances(reader: Reader, node: int) -> tuple[int, ...] | None:
    rel = f"{NODE_DIR}/node{node}/distance"
    text = reader.text(rel)
    if text is None:
        return None
    words = text.split()
    if not words or not all(word.isascii() and word.isdigit() for word in words):
        reader.problem(rel, ProblemKind.GARBAGE, f"not a list of distances: {text.strip()[:40]!r}")
        return None
    return tuple(int(word) for word in words)


def _node_hugepages(reader: Reader, node: int) -> tuple[tuple[int, int], ...]:
    base = f"{NODE_DIR}/node{node}/hugepages"
    pages: list[tuple[int, int]] = []
    for name in reader.listdir(base):
        size = numbered(name, "hugepages-", "kB")
        if size is None:
            continue
        count = reader.integer(f"{base}/{name}/nr_hugepages")
        if count is not None:
            pages.append((size, count))
    return tuple(sorted(pages))


def _read_node(reader: Reader, node: int, online: frozenset[int]) -> NumaNode:
    # An empty cpulist is normal here: memory-only nodes (CXL, Optane, HBM) have no CPUs.
    cpus = reader.cpulist(f"{NODE_DIR}/node{node}/cpulist") or ()
    return NumaNode(
        id=node,
        cpus=tuple(c for c in cpus if c in online),
        memory_mib=_node_memory_mib(reader, node),
        distances=_node_distances(reader, node),
        hugepages=_node_hugepages(reader, node),
    )


def _node_of(nodes: Iterable[NumaNode]) -> dict[int, int]:
    """CPU -> node; with a (broken) CPU listed twice, the lowest node wins."""
    owner: dict[int, int] = {}
    for node in nodes:
        for cpu in node.cpus:
            owner.setdefault(cpu, node.id)
    return owner


# -- L3 cache domains -------------------------------------------------------------------------


def parse_cache_size(text: str) -> int | None:
    """sysfs cache ``size`` ("16384K"; "32M" on some arm64 firmware) -> KiB."""
    match = re.fullmatch(_CACHE_SIZE, text.strip(), re.IGNORECASE | re.ASCII)
    if match is None:
        return None
    return int(match.group(1)) * _SIZE_UNIT_KIB[match.group(2).upper()]


def _cache_indexes(reader: Reader, cpu: int) -> list[str]:
    base = f"{CPU_DIR}/cpu{cpu}/cache"
    names = [name for name in reader.listdir(base) if numbered(name, "index") is not None]
    return sorted(names, key=lambda name: int(name[5:]))


def _l3_of(reader: Reader, cpu: int, online: frozenset[int]) -> CacheDomain | None:
    """The level-3 data/unified cache this CPU sits in, or None."""
    for index in _cache_indexes(reader, cpu):
        base = f"{CPU_DIR}/cpu{cpu}/cache/{index}"
        if reader.integer(f"{base}/level") != 3 or reader.string(f"{base}/type") == "Instruction":
            continue
        rel = f"{base}/shared_cpu_list"
        shared = reader.cpulist(rel)
        if shared == ():
            reader.problem(rel, ProblemKind.GARBAGE, "empty cpulist")
        if not shared:
            return None
        return CacheDomain(
            level=3, cpus=tuple(c for c in shared if c in online), size_kib=_cache_size(reader, base)
        )
    return None


def _cache_size(reader: Reader, base: str) -> int | None:
    rel = f"{base}/size"
    text = reader.string(rel)
    if text is None:
        return None
    size = parse_cache_size(text)
    if size is None:
        reader.problem(rel, ProblemKind.GARBAGE, f"not a cache size: {text[:40]!r}")
    return size


def l3_domains(reader: Reader, cpus: tuple[int, ...]) -> tuple[CacheDomain, ...]:
    """One domain per distinct L3 ``shared_cpu_list``. A CPU already covered by a domain is
    not read again: its siblings in the domain have the same list, and a 128-CPU host would
    otherwise cost 128 x 4 cache folders."""
    online = frozenset(cpus)
    domains: dict[tuple[int, ...], CacheDomain] = {}
    covered: set[int] = set()
    for cpu in cpus:
        if cpu in covered:
            continue
        domain = _l3_of(reader, cpu, online)
        if domain is None or not domain.cpus:
            continue
        domains.setdefault(domain.cpus, domain)
        covered.update(domain.cpus)
    return tuple(domains[key] for key in sorted(domains))


# -- cores ------------------------------------------------------------------------------------


def _core_key(cpu: LogicalCpu) -> tuple[object, ...]:
    # core_id alone is not enough: it is unique only inside a package (and die), and old
    # kernels on multi-die packages (Magny-Cours, Bulldozer) have no die_id while each die
    # numbers its cores from 0. The sibling list tells those cores apart.
    return (cpu.package, cpu.die, cpu.core, cpu.siblings)


def _none_last(value: int | None) -> tuple[bool, int]:
    return (value is None, value or 0)


def group_cores(cpus: Iterable[LogicalCpu]) -> tuple[Core, ...]:
    """Logical CPUs grouped by (package, die, core_id), sorted by package, die, core, cpus."""
    groups: dict[tuple[object, ...], list[LogicalCpu]] = {}
    for cpu in cpus:
        groups.setdefault(_core_key(cpu), []).append(cpu)
    cores = [
        Core(
            package=members[0].package,
            die=members[0].die,
            core=members[0].core,
            cpus=tuple(sorted(m.id for m in members)),
        )
        for members in groups.values()
    ]
    cores.sort(key=lambda c: (_none_last(c.package), _none_last(c.die), _none_last(c.core), c.cpus))
    return tuple(cores)


# -- entry points -----------------------------------------------------------------------------


def scan_topology(reader: Reader) -> Topology:
    cpu_ids = online_cpus(reader)
    online = frozenset(cpu_ids)
    nodes = tuple(_read_node(reader, node, online) for node in node_ids(reader))
    cpus = read_cpus(reader, cpu_ids, _node_of(nodes))
    return Topology(
        cpus=cpus,
        cores=group_cores(cpus),
        numa_nodes=nodes,
        cache_domains=l3_domains(reader, cpu_ids),
    )


def scan_cpu(reader: Reader, topology: Topology) -> CpuInfo:
    facts = read_cpuinfo(reader)
    return CpuInfo(
        vendor=facts.vendor,
        model_name=facts.model_name,
        virtualization=facts.virtualization,
        # A package id the kernel did not give (None) still counts as one package.
        packages=len({cpu.package for cpu in topology.cpus}),
        cores=len(topology.cores),
        threads=len(topology.cpus),
        flags=facts.flags,
    )
