"""CPU / NUMA / L3 topology of the hwloc captures, checked against hwloc's own expected output.

Each capture in tests/fixtures/hwloc/<name>/ comes with what lstopo printed for it (``.console``
text or ``.xml``). ``hwloc_expected`` reads that, and every test below compares our scan with
it systematically, so a regression on any machine shows up as a difference with hwloc.

Where we model things differently from hwloc (not a disagreement about the machine):
- hwloc hides a Die level with one die per package and shows clusters/groups; we only keep
  die_id as a core's attribute, so dies and groups are not compared.
- lstopo prints sizes rounded to the nearest unit ("28160K" of L3 prints as "28MiB"), so sizes
  are compared within half a printed unit (``Amount.matches``).
- hwloc's NUMA memory is MemTotal from the node's meminfo, like ours; we floor it to MiB.
- The .test files' options do not touch what we compare: ``--whole-io`` and
  HWLOC_PCI_LOCALITY add I/O objects and PCI-locality Groups, HWLOC_CPUKINDS=midr=0 only
  changes GB10's CPU kinds (we read the default nvidia-dgx-gb10.xml).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.core.host.hwloc_expected import Expected, load, parse_xml
from vfiodeck.core.host.model import CpuInfo, Topology
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.sysfs import Reader
from vfiodeck.core.host.topology import parse_cache_size, scan_cpu, scan_topology

HWLOC_DIR = Path(__file__).parents[2] / "fixtures" / "hwloc"
CAPTURES = sorted(p.name for p in HWLOC_DIR.iterdir() if p.is_dir())


@dataclass(frozen=True)
class Scanned:
    topology: Topology
    cpu: CpuInfo
    problems: tuple[object, ...]
    expected: Expected


@pytest.fixture(scope="session")
def scanned(hwloc_root: Callable[[str], HostRoot]) -> Callable[[str], Scanned]:
    """``scanned(name)``: our scan of one capture and hwloc's expected output (once each)."""
    cache: dict[str, Scanned] = {}

    def get(name: str) -> Scanned:
        if name not in cache:
            reader = Reader(hwloc_root(name))
            topology = scan_topology(reader)
            cpu = scan_cpu(reader, topology)
            cache[name] = Scanned(topology, cpu, tuple(reader.problems), load(HWLOC_DIR / name))
        return cache[name]

    return get


def test_all_ten_captures_are_here() -> None:
    assert len(CAPTURES) == 10


# -- every capture against hwloc --------------------------------------------------------------


@pytest.mark.parametrize("name", CAPTURES)
def test_online_cpus_are_hwloc_pus(scanned: Callable[[str], Scanned], name: str) -> None:
    got = scanned(name)
    assert {cpu.id for cpu in got.topology.cpus} == got.expected.pus
    assert got.cpu.threads == len(got.expected.pus)


@pytest.mark.parametrize("name", CAPTURES)
def test_scan_records_no_problem(scanned: Callable[[str], Scanned], name: str) -> None:
    assert scanned(name).problems == ()


@pytest.mark.parametrize("name", CAPTURES)
def test_packages(scanned: Callable[[str], Scanned], name: str) -> None:
    got = scanned(name)
    packages: dict[int | None, set[int]] = {}
    for cpu in got.topology.cpus:
        packages.setdefault(cpu.package, set()).add(cpu.id)
    assert packages == got.expected.packages
    assert got.cpu.packages == len(got.expected.packages)


@pytest.mark.parametrize("name", CAPTURES)
def test_cores(scanned: Callable[[str], Scanned], name: str) -> None:
    got = scanned(name)
    ours = {(core.package, core.core, frozenset(core.cpus)) for core in got.topology.cores}
    theirs = {(core.package, core.core, core.cpus) for core in got.expected.cores}
    assert ours == theirs
    assert got.cpu.cores == len(got.expected.cores)


@pytest.mark.parametrize("name", CAPTURES)
def test_smt_siblings_are_the_core(scanned: Callable[[str], Scanned], name: str) -> None:
    topology = scanned(name).topology
    core_of = {cpu: core.cpus for core in topology.cores for cpu in core.cpus}
    for cpu in topology.cpus:
        assert cpu.siblings == core_of[cpu.id]


@pytest.mark.parametrize("name", CAPTURES)
def test_numa_nodes(scanned: Callable[[str], Scanned], name: str) -> None:
    got = scanned(name)
    nodes = {node.id: node for node in got.topology.numa_nodes}
    assert sorted(nodes) == sorted(got.expected.nodes)
    for node_id, expected in got.expected.nodes.items():
        node = nodes[node_id]
        assert frozenset(node.cpus) == expected.cpus, node_id
        assert expected.memory is not None
        assert node.memory_mib is not None
        assert expected.memory.matches(node.memory_mib << 20, precision=1 << 20), (node_id, node.memory_mib)


@pytest.mark.parametrize("name", CAPTURES)
def test_each_cpu_knows_its_node(scanned: Callable[[str], Scanned], name: str) -> None:
    got = scanned(name)
    for node_id, expected in got.expected.nodes.items():
        for cpu in got.topology.cpus:
            if cpu.id in expected.cpus:
                assert cpu.node == node_id


@pytest.mark.parametrize("name", CAPTURES)
def test_numa_distances(scanned: Callable[[str], Scanned], name: str) -> None:
    got = scanned(name)
    ours = {node.id: node.distances for node in got.topology.numa_nodes}
    if not got.expected.distances:
        # lstopo prints no matrix for one node; sysfs still says "10" (local).
        assert list(ours.values()) == [(10,)]
    else:
        assert ours == got.expected.distances


@pytest.mark.parametrize("name", CAPTURES)
def test_l3_domains(scanned: Callable[[str], Scanned], name: str) -> None:
    got = scanned(name)
    domains = got.topology.cache_domains
    assert [frozenset(d.cpus) for d in domains] == sorted(
        (cpus for cpus, _ in got.expected.l3), key=lambda cpus: sorted(cpus)
    )
    sizes = {frozenset(cpus): size for cpus, size in got.expected.l3}
    for domain in domains:
        assert domain.level == 3
        assert domain.size_kib is not None
        assert sizes[frozenset(domain.cpus)].matches(domain.size_kib * 1024), domain


@pytest.mark.parametrize("name", CAPTURES)
def test_cpu_vendor_and_model(scanned: Callable[[str], Scanned], name: str) -> None:
    got = scanned(name)
    if got.expected.cpu_vendor is not None:  # hwloc has none on arm64
        assert got.cpu.vendor == got.expected.cpu_vendor
    if got.expected.cpu_model is not None:
        assert got.cpu.model_name == got.expected.cpu_model.strip()


@pytest.mark.parametrize("name", CAPTURES)
def test_lists_are_sorted(scanned: Callable[[str], Scanned], name: str) -> None:
    topology = scanned(name).topology
    ids = [cpu.id for cpu in topology.cpus]
    assert ids == sorted(ids)
    assert [n.id for n in topology.numa_nodes] == sorted(n.id for n in topology.numa_nodes)
    assert [d.cpus for d in topology.cache_domains] == sorted(d.cpus for d in topology.cache_domains)
    for tup in [c.cpus for c in topology.cores] + [n.cpus for n in topology.numa_nodes]:
        assert list(tup) == sorted(tup)


# -- what makes each capture notable, stated by hand ------------------------------------------


def test_sparse_node_numbers(scanned: Callable[[str], Scanned]) -> None:
    topology = scanned("48amd64-4pa2n6c-sparse").topology
    assert [n.id for n in topology.numa_nodes] == [0, 1, 2, 33, 34, 45, 72, 73]
    assert topology.numa_nodes[3].cpus == (18, 19, 20, 21, 22, 23)
    # Two dies per package and no die_id on that kernel: core_id 0 appears twice in package 0.
    assert [c.cpus for c in scanned("48amd64-4pa2n6c-sparse").topology.cores if c.package == 0][:2] == [
        (0,),
        (6,),
    ]


def test_only_online_cpus_count(
    hwloc_root: Callable[[str], HostRoot], scanned: Callable[[str], Scanned]
) -> None:
    # 128 possible CPUs, 16 online (cpu/online says "0-15").
    name = "32em64t-2n8c+dax+nvme+mic+dimms"
    assert Reader(hwloc_root(name)).string("sys/devices/system/cpu/possible") == "0-127"
    topology = scanned(name).topology
    assert len(topology.cpus) == 16
    assert [n.cpus for n in topology.numa_nodes] == [tuple(range(8)), tuple(range(8, 16))]


def test_interleaved_numbering_with_snc2(scanned: Callable[[str], Scanned]) -> None:
    got = scanned("memorysidecaches")
    assert got.topology.numa_nodes[0].cpus[:4] == (0, 4, 8, 12)
    assert got.topology.cache_domains[0].cpus[:3] == (0, 2, 4)
    assert got.topology.cache_domains[0].size_kib == 28160
    assert (got.cpu.packages, got.cpu.cores, got.cpu.threads) == (2, 40, 80)


def test_big_little_l3_sizes_differ(scanned: Callable[[str], Scanned]) -> None:
    got = scanned("nvidia-dgx-gb10")
    assert [(d.cpus[0], d.cpus[-1], d.size_kib) for d in got.topology.cache_domains] == [
        (0, 9, 8192),
        (10, 19, 16384),
    ]
    assert got.cpu.vendor == "ARM"
    assert got.cpu.virtualization is None


def test_hybrid_laptop(scanned: Callable[[str], Scanned]) -> None:
    got = scanned("20em64t-hybrid-1p6c2t+2ca4co1t")
    assert (got.cpu.packages, got.cpu.cores, got.cpu.threads) == (1, 14, 20)
    assert sum(len(c.cpus) == 2 for c in got.topology.cores) == 6  # P-cores with HT
    assert got.cpu.virtualization == "vmx"


def test_arm_kunpeng(scanned: Callable[[str], Scanned]) -> None:
    got = scanned("128arm-2pa2n8cluster4co")
    assert got.cpu.vendor == "HiSilicon"
    assert got.cpu.model_name is None
    assert got.cpu.virtualization is None
    assert "asimd" in got.cpu.flags
    # arm64 writes die_id -1 ("not given"): that is None, not a die numbered -1.
    assert {cpu.die for cpu in got.topology.cpus} == {None}
    assert [len(n.cpus) for n in got.topology.numa_nodes] == [32, 32, 32, 32]


def test_bulldozer_compute_units_are_two_cores(scanned: Callable[[str], Scanned]) -> None:
    # The kernel lists cpu0 and cpu1 as thread siblings (one compute unit) with core_ids 0 and 1.
    got = scanned("64amd64-4s2n4ca2co")
    assert got.topology.cpus[0].siblings == (0,)
    assert got.cpu.virtualization == "svm"
    assert got.cpu.cores == 64


@pytest.mark.parametrize(
    ("text", "kib"), [("16384K", 16384), ("32M", 32768), ("5118K\n", 5118), ("1G", 1 << 20)]
)
def test_parse_cache_size(text: str, kib: int) -> None:
    assert parse_cache_size(text) == kib


@pytest.mark.parametrize("text", ["", "K", "12X", "-1K", "0x10K"])
def test_parse_cache_size_rejects(text: str) -> None:
    assert parse_cache_size(text) is None


# -- the machine the tests run on -------------------------------------------------------------
@pytest.mark.host
def test_live_host_scans() -> None:
    reader = Reader(HostRoot.open("/"))
    topology = scan_topology(reader)
    cpu = scan_cpu(reader, topology)
    assert cpu.threads == os.cpu_count()
    assert cpu.cores >= 1
    assert cpu.packages >= 1
    for node in topology.numa_nodes:
        assert all(topology.cpus[0].id <= c for c in node.cpus)


@pytest.mark.host
@pytest.mark.skipif(shutil.which("lstopo-no-graphics") is None, reason="hwloc's lstopo is not installed")
def test_live_host_agrees_with_lstopo() -> None:
    out = subprocess.run(
        ["lstopo-no-graphics", "--of", "xml", "-"], check=True, capture_output=True, text=True
    ).stdout
    expected = parse_xml(ET.fromstring(out))
    topology = scan_topology(Reader(HostRoot.open("/")))
    assert {cpu.id for cpu in topology.cpus} == expected.pus
    assert {n.id: frozenset(n.cpus) for n in topology.numa_nodes} == {
        i: n.cpus for i, n in expected.nodes.items()
    }
    assert {(c.package, c.core, frozenset(c.cpus)) for c in topology.cores} == {
        (c.package, c.core, c.cpus) for c in expected.cores
    }
    assert sorted(frozenset(d.cpus) for d in topology.cache_domains) == sorted(c for c, _ in expected.l3)


# -- damaged files, one at a time -------------------------------------------------------------


@pytest.fixture
def small_root(hwloc_root: Callable[[str], HostRoot], tmp_path: Path) -> Path:
    """A writable copy of the 2-CPU QEMU guest's sys/devices/system and proc/cpuinfo."""
    original = hwloc_root("2pa-pcidomain32bits").path
    shutil.copytree(original / "sys/devices/system", tmp_path / "sys/devices/system", symlinks=True)
    (tmp_path / "proc").mkdir()
    shutil.copy(original / "proc/cpuinfo", tmp_path / "proc/cpuinfo")
    return tmp_path


def _scan(root: Path) -> tuple[Topology, CpuInfo, dict[str, str]]:
    reader = Reader(HostRoot.open(root))
    topology = scan_topology(reader)
    cpu = scan_cpu(reader, topology)
    return topology, cpu, {p.path: p.kind.value for p in reader.problems}


def test_empty_online_list_falls_back_to_cpu_folders(small_root: Path) -> None:
    (small_root / "sys/devices/system/cpu/online").write_text("\n")
    topology, cpu, problems = _scan(small_root)
    assert [c.id for c in topology.cpus] == [0, 1]
    assert problems == {"sys/devices/system/cpu/online": "garbage"}


def test_offline_cpu_folder_is_skipped_in_the_fallback(small_root: Path) -> None:
    (small_root / "sys/devices/system/cpu/online").unlink()
    (small_root / "sys/devices/system/cpu/cpu1/online").write_text("0\n")
    topology, cpu, problems = _scan(small_root)
    assert [c.id for c in topology.cpus] == [0]
    assert (cpu.threads, problems) == (1, {})


def test_garbage_ids_become_none_with_a_problem(small_root: Path) -> None:
    (small_root / "sys/devices/system/cpu/cpu1/topology/core_id").write_text("zero\n")
    (small_root / "sys/devices/system/cpu/cpu0/topology/thread_siblings_list").write_text("")
    (small_root / "sys/devices/system/node/node0/meminfo").write_text("Node 0 MemFree: 12 kB\n")
    (small_root / "sys/devices/system/node/node0/distance").write_text("10 ten\n")
    topology, cpu, problems = _scan(small_root)
    assert topology.cpus[1].core is None
    assert topology.cpus[0].siblings == (0,)
    assert topology.numa_nodes[0].memory_mib is None
    assert topology.numa_nodes[0].distances is None
    assert sorted(c for core in topology.cores for c in core.cpus) == [0, 1]
    assert problems == {
        "sys/devices/system/cpu/cpu1/topology/core_id": "garbage",
        "sys/devices/system/cpu/cpu0/topology/thread_siblings_list": "garbage",
        "sys/devices/system/node/node0/meminfo": "garbage",
        "sys/devices/system/node/node0/distance": "garbage",
    }


def test_missing_sysfs_gives_an_empty_topology(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cpuinfo").write_bytes(b"\xff\xfe garbage without a colon\n")
    topology, cpu, problems = _scan(tmp_path)
    assert topology == Topology()
    assert (cpu.packages, cpu.cores, cpu.threads, cpu.vendor) == (0, 0, 0, None)
    assert problems == {"proc/cpuinfo": "garbage"}
