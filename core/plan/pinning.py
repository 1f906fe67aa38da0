"""CPU pinning for a passthrough VM, from the host topology, by the rules in DESIGN.md ("Pinning").

A pure function of values: ``plan_pinning(topology, vcpus, device_nodes=...)`` returns which host CPU
each vCPU runs on, where the emulator thread goes, the NUMA node for memory, a guest CPU topology that
matches the pinned SMT pairs, and one sentence per decision so the user can see why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from vfiodeck.core.host.model import Topology
from vfiodeck.core.text import cpulist_text, kib_text
from vfiodeck.core.vm.domainxml import DomainXml

_Core = tuple[int, ...]  # the online CPUs of one physical core (SMT siblings), sorted


@dataclass(frozen=True)
class PinningPlan:
    vcpupin: tuple[int, ...]  # host CPU of vCPU 0, 1, 2, ...
    emulator_cpus: tuple[int, ...]
    host_cpus: tuple[int, ...]  # the core kept for the host (and its siblings)
    node: int | None  # NUMA node for the VM's memory; None on a host without NUMA information
    sockets: int
    cores: int
    threads: int
    requested_vcpus: int
    reasons: tuple[str, ...]

    @property
    def vcpus(self) -> int:
        return len(self.vcpupin)

    def vcpupin_map(self) -> dict[int, tuple[int, ...]]:
        return {vcpu: (cpu,) for vcpu, cpu in enumerate(self.vcpupin)}


@dataclass(frozen=True)
class _Domain:
    """The cores of one L3 cache domain inside the chosen node."""

    cores: tuple[_Core, ...]
    size_kib: int | None

    @property
    def capacity(self) -> int:
        return sum(len(core) for core in self.cores)


def _cores(topology: Topology) -> list[_Core]:
    online = {cpu.id for cpu in topology.cpus}
    cores: list[_Core] = []
    seen: set[int] = set()
    for core in topology.cores:
        cpus = tuple(sorted(c for c in core.cpus if c in online and c not in seen))
        if cpus:
            cores.append(cpus)
            seen.update(cpus)
    for cpu in topology.cpus:  # CPUs no core lists: their sibling list, else alone
        if cpu.id not in seen:
            cpus = tuple(sorted(c for c in cpu.siblings if c in online and c not in seen)) or (cpu.id,)
            cores.append(cpus)
            seen.update(cpus)
    return sorted(cores)


def _node_of(topology: Topology) -> dict[int, int | None]:
    node: dict[int, int | None] = {cpu.id: cpu.node for cpu in topology.cpus}
    for numa in topology.numa_nodes:
        for cpu in numa.cpus:
            if node.get(cpu) is None and cpu in node:
                node[cpu] = numa.id
    return node


def _distance(topology: Topology, src: int | None, dst: int | None) -> int:
    if src is None or dst is None:
        return 0
    if src == dst:
        return 10
    ids = [n.id for n in topology.numa_nodes]
    for numa in topology.numa_nodes:
        if numa.id == src and numa.distances and dst in ids and len(numa.distances) == len(ids):
            return int(numa.distances[ids.index(dst)])
    return 20  # unknown but different: farther than local


def _device_node(device_nodes: Iterable[int | None]) -> int | None:
    counts = Counter(n for n in device_nodes if n is not None)
    return min(counts, key=lambda n: (-counts[n], n)) if counts else None


def _domains(topology: Topology, cores: list[_Core]) -> list[_Domain]:
    groups: dict[int, list[_Core]] = {}
    for core in cores:
        index = next((i for i, d in enumerate(topology.cache_domains) if core[0] in d.cpus), -1)
        groups.setdefault(index, []).append(core)
    return [
        _Domain(tuple(group), topology.cache_domains[i].size_kib if i >= 0 else None)
        for i, group in sorted(groups.items())
    ]


def _pick_domains(domains: list[_Domain], need: int, gaming: bool) -> list[_Domain]:
    """The fewest L3 domains that hold ``need`` CPUs; for a gaming VM the largest cache first."""
    sizes = {d.size_kib for d in domains if d.size_kib}
    by_cache = gaming and len(sizes) > 1

    def key(d: _Domain) -> tuple[int, int, int]:
        return (-(d.size_kib or 0) if by_cache else 0, -d.capacity, d.cores[0][0])

    fits = sorted((d for d in domains if d.capacity >= need), key=key)
    if fits:
        return [fits[0]]
    chosen: list[_Domain] = []
    for domain in sorted(domains, key=key):
        if sum(d.capacity for d in chosen) >= need:
            break
        chosen.append(domain)
    return chosen


def _round_to_pairs(vcpus: int, threads: int, capacity: int) -> int:
    whole = min(vcpus, capacity)
    return max(threads, whole - whole % threads) if threads > 1 else max(1, whole)


def plan_pinning(
    topology: Topology,
    vcpus: int,
    *,
    device_nodes: Iterable[int | None] = (),
    gaming: bool = True,
) -> PinningPlan:
    """Pin ``vcpus`` vCPUs. ``device_nodes`` are the NUMA nodes of the passed devices (None = unknown)."""
    reasons: list[str] = []
    cores = _cores(topology)
    if not cores or vcpus < 1:
        reason = "The host's CPU topology is unknown." if not cores else "No vCPUs were asked for."
        return PinningPlan((), (), (), None, 1, max(vcpus, 1), 1, vcpus, (reason + " Nothing is pinned.",))
    host_core = next((c for c in cores if 0 in c), cores[0])
    which = "core 0" if 0 in host_core else f"the core of CPU {host_core[0]}"
    sibling = " and its SMT sibling" if len(host_core) > 1 else ""
    plural = "s" if len(host_core) > 1 else ""
    reasons.append(f"CPU{plural} {cpulist_text(host_core)} ({which}{sibling}) stay with the host.")
    free = [c for c in cores if c != host_core]
    if not free:
        return PinningPlan(
            (), host_core, host_core, None, 1, vcpus, 1, vcpus, (*reasons, "No core is left for the VM.")
        )

    node_of = _node_of(topology)
    dev_node = _device_node(device_nodes)
    nodes = sorted({node_of.get(c[0]) for c in free}, key=lambda n: -1 if n is None else n)
    capacity = {n: sum(len(c) for c in free if node_of.get(c[0]) == n) for n in nodes}
    threads_max = max(len(c) for c in free)
    need = _round_to_pairs(vcpus, threads_max, vcpus)

    def node_key(n: int | None) -> tuple[int, int, int]:
        return (_distance(topology, dev_node, n), -capacity[n], -1 if n is None else n)

    ordered = sorted(nodes, key=node_key)
    node = next((n for n in ordered if capacity[n] >= need), None)
    if node is None:
        node = min(ordered, key=lambda n: (-capacity[n], node_key(n)))
        reasons.append(
            f"No NUMA node has {need} free CPUs; the VM gets node {node}'s {capacity[node]} "
            "so that it stays inside one node."
        )
    if node is not None and dev_node is not None:
        where = (
            "the node of the passed device" if node == dev_node else f"the node nearest to node {dev_node}"
        )
        reasons.append(f"NUMA node {node} is {where}: its memory and CPUs are local to the device.")
    elif node is not None and len(nodes) > 1:
        reasons.append(f"NUMA node {node} has the most free CPUs; vCPUs and memory stay inside it.")

    node_cores = [c for c in free if node_of.get(c[0]) == node]
    threads = max(len(c) for c in node_cores)
    count = _round_to_pairs(vcpus, threads, sum(len(c) for c in node_cores))
    if count != vcpus:
        why = (
            "SMT siblings are given as pairs"
            if count < vcpus and vcpus <= capacity[node]
            else "that is what fits"
        )
        reasons.append(f"{vcpus} vCPUs became {count}: {why}.")

    domains = _pick_domains(_domains(topology, node_cores), count, gaming)
    if len(topology.cache_domains) > 1:
        sizes = ", ".join(kib_text(d.size_kib) if d.size_kib else "unknown size" for d in domains)
        reasons.append(
            f"The vCPUs share {len(domains)} L3 cache domain{'s' if len(domains) > 1 else ''} ({sizes})."
        )

    picked: list[_Core] = []
    remaining = count
    pool = [c for d in domains for c in sorted(d.cores, key=lambda c: (-len(c), c[0]))]
    for core in pool:
        if remaining <= 0:
            break
        take = core[:remaining]
        picked.append(take)
        remaining -= len(take)
    guest_threads = len(picked[0]) if len({len(c) for c in picked}) == 1 else 1
    if guest_threads == 1 and threads > 1:
        reasons.append("The pinned cores have different SMT widths, so the guest sees one thread per core.")
    elif guest_threads > 1:
        reasons.append(
            f"vCPUs come in groups of {guest_threads}: one core's SMT siblings, one core in the guest."
        )
    vcpupin = tuple(cpu for core in picked for cpu in core)

    used = set(vcpupin)
    leftover = tuple(sorted(cpu for c in cores if node_of.get(c[0]) == node for cpu in c if cpu not in used))
    emulator = leftover or host_core
    reasons.append(
        f"The emulator thread runs on the host's CPUs {cpulist_text(emulator)}, never on a vCPU's."
    )
    return PinningPlan(
        vcpupin=vcpupin,
        emulator_cpus=emulator,
        host_cpus=host_core,
        node=node,
        sockets=1,
        cores=len(vcpupin) // guest_threads,
        threads=guest_threads,
        requested_vcpus=vcpus,
        reasons=tuple(reasons),
    )


def apply_pinning(doc: DomainXml, plan: PinningPlan, *, hugepages: bool | None = None) -> None:
    """Write ``plan`` into ``doc``: vCPU count, vcpupin/emulatorpin, numatune, guest CPU topology."""
    if not plan.vcpupin:
        return
    doc.set_vcpus(plan.vcpus)
    doc.set_pinning(plan.vcpupin_map(), plan.emulator_cpus)
    if plan.node is not None:
        doc.set_numatune(str(plan.node))
    doc.set_cpu_topology(plan.sockets, plan.cores, plan.threads)
    if hugepages is not None:
        doc.set_hugepages(hugepages)
