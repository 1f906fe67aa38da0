"""CPU pinning on real topologies (hwloc's captures) and on small hand-made ones."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from vfiodeck.core.host.model import Core, LogicalCpu, NumaNode, Topology
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.scan import scan_host
from vfiodeck.core.plan.pinning import PinningPlan, apply_pinning, plan_pinning
from vfiodeck.core.vm.domainxml import CpuTopology, DomainXml, NumaTune

FIXTURES = Path(__file__).parents[2] / "fixtures"


@pytest.fixture
def topology(hwloc_root: Callable[[str], HostRoot]) -> Callable[[str], Topology]:
    """``topology(name)``: the scanned topology of an hwloc capture (unpacked once per session)."""
    return lambda name: _scan(hwloc_root(name))


@cache
def _scan(root: HostRoot) -> Topology:
    return scan_host(root).topology


def _node_cpus(topo: Topology, node: int) -> set[int]:
    return set(next(n for n in topo.numa_nodes if n.id == node).cpus)


def _siblings(topo: Topology) -> dict[int, tuple[int, ...]]:
    return {cpu.id: cpu.siblings for cpu in topo.cpus}


def _assert_pairs_are_siblings(topo: Topology, plan: PinningPlan) -> None:
    sib = _siblings(topo)
    pins = plan.vcpupin
    for i in range(0, len(pins), plan.threads):
        group = pins[i : i + plan.threads]
        assert set(group) <= set(sib[group[0]]), f"vCPUs {i}.. are not SMT siblings: {group}"


def test_memorysidecaches_device_node_pairs_and_host_core(topology: Callable[[str], Topology]) -> None:
    """2x Xeon Gold 6230 in SNC2: CPUs are interleaved over 4 nodes (node 1 = 1, 5, 9, ...)."""
    topo = topology("memorysidecaches")
    plan = plan_pinning(topo, 8, device_nodes=[1])
    assert plan.node == 1
    assert plan.vcpupin == (1, 41, 5, 45, 9, 49, 13, 53)
    assert set(plan.vcpupin) <= _node_cpus(topo, 1)
    _assert_pairs_are_siblings(topo, plan)
    assert (plan.sockets, plan.cores, plan.threads) == (1, 4, 2)
    assert plan.host_cpus == (0, 40)
    assert not set(plan.emulator_cpus) & set(plan.vcpupin)
    assert set(plan.emulator_cpus) <= _node_cpus(topo, 1)
    assert any("node 1 is the node of the passed device" in r for r in plan.reasons)


def test_memorysidecaches_host_keeps_core_0_on_its_node(topology: Callable[[str], Topology]) -> None:
    topo = topology("memorysidecaches")
    plan = plan_pinning(topo, 18, device_nodes=[0])
    assert plan.node == 0
    assert {0, 40}.isdisjoint(plan.vcpupin)
    assert len(plan.vcpupin) == 18  # node 0 has 20 CPUs, core 0's pair stays with the host
    assert plan.emulator_cpus == (0, 40)
    _assert_pairs_are_siblings(topo, plan)


def test_memorysidecaches_too_many_vcpus_stay_in_one_node(topology: Callable[[str], Topology]) -> None:
    topo = topology("memorysidecaches")
    plan = plan_pinning(topo, 30, device_nodes=[2])
    assert plan.node == 2
    assert plan.vcpus == 20
    assert plan.requested_vcpus == 30
    assert set(plan.vcpupin) == _node_cpus(topo, 2)
    assert any("30 vCPUs became 20" in r for r in plan.reasons)


def test_odd_vcpu_count_is_rounded_to_whole_pairs(topology: Callable[[str], Topology]) -> None:
    plan = plan_pinning(topology("memorysidecaches"), 7, device_nodes=[3])
    assert plan.vcpus == 6
    assert plan.threads == 2
    assert any("SMT siblings are given as pairs" in r for r in plan.reasons)


def test_gb10_gaming_vm_gets_the_larger_l3(topology: Callable[[str], Topology]) -> None:
    """NVIDIA GB10: two L3 domains of 8 MiB (CPUs 0-9) and 16 MiB (CPUs 10-19)."""
    topo = topology("nvidia-dgx-gb10")
    plan = plan_pinning(topo, 8)
    big = next(d for d in topo.cache_domains if d.size_kib == 16384)
    assert set(plan.vcpupin) <= set(big.cpus)
    assert plan.threads == 1
    assert 0 in plan.emulator_cpus


def test_hybrid_laptop_prefers_smt_cores_then_falls_back_to_one_thread(
    topology: Callable[[str], Topology],
) -> None:
    """Core i7-1370P: 6 P-cores with SMT (CPUs 0-11), 8 E-cores (12-19)."""
    topo = topology("20em64t-hybrid-1p6c2t+2ca4co1t")
    plan = plan_pinning(topo, 8)
    assert plan.vcpupin == (2, 3, 4, 5, 6, 7, 8, 9)
    assert (plan.cores, plan.threads) == (4, 2)
    mixed = plan_pinning(topo, 16)
    assert mixed.vcpus == 16
    assert mixed.threads == 1
    assert {0, 1}.isdisjoint(mixed.vcpupin)


def test_opteron_device_node_and_numa_distance(topology: Callable[[str], Topology]) -> None:
    """4x Opteron 6276: 8 nodes of 8 CPUs, one L3 each."""
    topo = topology("64amd64-4s2n4ca2co")
    plan = plan_pinning(topo, 6, device_nodes=[5, 5, None])
    assert plan.node == 5
    assert set(plan.vcpupin) <= _node_cpus(topo, 5)
    assert len({d.cpus for d in topo.cache_domains if set(plan.vcpupin) & set(d.cpus)}) == 1


def _toy(smt: bool = True, nodes: int = 1) -> Topology:
    """A hand-made 4-core host per node, SMT siblings numbered like Intel (n, n+count)."""
    per = 4 * nodes
    cpus: list[LogicalCpu] = []
    cores: list[Core] = []
    for core in range(per):
        node = core // 4
        ids = (core, core + per) if smt else (core,)
        cores.append(Core(0, 0, core, ids))
        cpus.extend(LogicalCpu(i, 0, 0, core, node, ids) for i in ids)
    numa = tuple(NumaNode(n, tuple(sorted(c.id for c in cpus if c.node == n))) for n in range(nodes))
    return Topology(tuple(sorted(cpus, key=lambda c: c.id)), tuple(cores), numa, ())


def test_toy_host_leaves_core_0_and_puts_the_emulator_there() -> None:
    plan = plan_pinning(_toy(), 6)
    assert plan.vcpupin == (1, 5, 2, 6, 3, 7)
    assert plan.emulator_cpus == (0, 4)
    assert (plan.sockets, plan.cores, plan.threads) == (1, 3, 2)


def test_toy_host_asking_for_everything_still_leaves_the_host_a_core() -> None:
    plan = plan_pinning(_toy(), 8)
    assert plan.vcpus == 6
    assert 0 not in plan.vcpupin


def test_without_topology_nothing_is_pinned() -> None:
    plan = plan_pinning(Topology(), 4)
    assert plan.vcpupin == ()
    assert "unknown" in plan.reasons[0]


def test_single_core_host_has_nothing_to_give() -> None:
    topo = Topology(cpus=(LogicalCpu(0, 0, 0, 0, 0, (0,)),), cores=(Core(0, 0, 0, (0,)),))
    plan = plan_pinning(topo, 2)
    assert plan.vcpupin == ()
    assert "No core is left" in plan.reasons[-1]


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "hwloc").iterdir() if p.is_dir()))
def test_every_capture_gives_a_consistent_plan(topology: Callable[[str], Topology], name: str) -> None:
    topo = topology(name)
    plan = plan_pinning(topo, 4)
    online = {c.id for c in topo.cpus}
    assert 1 <= plan.vcpus <= 4  # the 2-CPU QEMU guest has a single CPU to give
    assert set(plan.vcpupin) <= online
    assert len(set(plan.vcpupin)) == plan.vcpus
    assert not set(plan.host_cpus) & set(plan.vcpupin)
    assert not set(plan.emulator_cpus) & set(plan.vcpupin)
    assert plan.sockets * plan.cores * plan.threads == plan.vcpus
    nodes = {c.node for c in topo.cpus if c.id in plan.vcpupin}
    assert len(nodes) == 1


def test_apply_pinning_writes_vcpus_cputune_numatune_and_topology(
    topology: Callable[[str], Topology],
) -> None:
    text = (FIXTURES / "libvirt-xml/valid/hostdev-vfio.xml").read_text()
    doc = DomainXml.parse(text)
    plan = plan_pinning(topology("memorysidecaches"), 8, device_nodes=[1])
    apply_pinning(doc, plan, hugepages=True)
    again = DomainXml.parse(doc.to_string())
    assert again.vcpus == 8
    assert again.vcpupins() == {i: (cpu,) for i, cpu in enumerate(plan.vcpupin)}
    assert again.emulatorpin() == plan.emulator_cpus
    assert again.numatune() == NumaTune("strict", "1", None)
    assert again.cpu_topology() == CpuTopology(1, None, 4, 2)
    assert again.hugepages()
    assert again.pci_hostdevs() == DomainXml.parse(text).pci_hostdevs()
