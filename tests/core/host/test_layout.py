"""The topology layout on every hwloc capture: no two boxes overlap unless one holds the other,
every label fits its box, and every CPU, node and attached device is drawn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vfiodeck.core.host.candidates import find_candidates
from vfiodeck.core.host.layout import Box, BoxKind, TopologyLayout, layout_topology
from vfiodeck.core.host.model import HostModel
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.scan import scan_host
from vfiodeck.core.text import cpulist_text

HWLOC_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "hwloc"
CAPTURES = sorted(p.name for p in HWLOC_DIR.iterdir() if p.is_dir())


def fake_measure(text: str) -> tuple[float, float]:
    """A fixed-width font: 7 px per character, 14 px per line."""
    return 7.0 * len(text), 14.0


def lay_out(host: HostModel) -> TopologyLayout:
    return layout_topology(host, fake_measure, [c.device for c in find_candidates(host)])


@pytest.fixture(scope="module")
def scanned(hwloc_root: Callable[[str], HostRoot]) -> Callable[[str], HostModel]:
    cache: dict[str, HostModel] = {}

    def get(name: str) -> HostModel:
        if name not in cache:
            cache[name] = scan_host(hwloc_root(name))
        return cache[name]

    return get


def crossing(boxes: tuple[Box, ...]) -> list[tuple[str, str]]:
    bad = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a.overlaps(b) and not a.contains(b) and not b.contains(a):
                bad.append((a.key, b.key))
    return bad


def test_all_ten_captures_are_here() -> None:
    assert len(CAPTURES) == 10


@pytest.mark.parametrize("name", CAPTURES)
def test_no_boxes_overlap(name: str, scanned: Callable[[str], HostModel]) -> None:
    layout = lay_out(scanned(name))
    assert crossing(layout.boxes) == []
    keys = [b.key for b in layout.boxes]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("name", CAPTURES)
def test_children_sit_inside_their_parent(name: str, scanned: Callable[[str], HostModel]) -> None:
    layout = lay_out(scanned(name))
    for box in layout.boxes:
        if box.parent is not None:
            parent = layout.box(box.parent)
            assert parent is not None
            assert parent.contains(box), box.key
        assert box.x >= 0
        assert box.y >= 0
        assert box.x + box.w <= layout.width + 1e-6
        assert box.y + box.h <= layout.height + 1e-6


@pytest.mark.parametrize("name", CAPTURES)
def test_labels_fit(name: str, scanned: Callable[[str], HostModel]) -> None:
    for box in lay_out(scanned(name)).boxes:
        for text in box.lines:
            assert fake_measure(text)[0] <= box.w, (box.key, text)


@pytest.mark.parametrize("name", CAPTURES)
def test_every_cpu_node_and_device_is_drawn(name: str, scanned: Callable[[str], HostModel]) -> None:
    host = scanned(name)
    layout = lay_out(host)
    pus = sorted(b.cpus[0] for b in layout.boxes if b.kind is BoxKind.PU)
    assert pus == [cpu.id for cpu in host.topology.cpus]
    nodes = {b.node for b in layout.boxes if b.kind is BoxKind.NODE}
    assert nodes == {n.id for n in host.topology.numa_nodes}
    devices = {b.address for b in layout.boxes if b.kind is BoxKind.DEVICE}
    assert devices == {c.device for c in find_candidates(host)}


def test_128_cpus_in_4_nodes(scanned: Callable[[str], HostModel]) -> None:
    layout = lay_out(scanned("128arm-2pa2n8cluster4co"))
    assert len([b for b in layout.boxes if b.kind is BoxKind.PU]) == 128
    assert len([b for b in layout.boxes if b.kind is BoxKind.NODE]) == 4
    assert len([b for b in layout.boxes if b.kind is BoxKind.PACKAGE]) == 2
    # Readable: the drawing stays within a few screens, not one 128-box-long row.
    assert layout.width < 3000
    assert layout.height < 3000


def test_sub_numa_clustering_puts_l3_outside_nodes(scanned: Callable[[str], HostModel]) -> None:
    """memorysidecaches: 2 packages, each one L3 over two SNC nodes, interleaved CPU numbers."""
    host = scanned("memorysidecaches")
    layout = lay_out(host)
    for box in layout.boxes:
        if box.kind is BoxKind.NODE:
            parent = layout.box(box.parent or "")
            assert parent is not None
            assert parent.kind is BoxKind.CACHE
            node = next(n for n in host.topology.numa_nodes if n.id == box.node)
            assert box.cpus == node.cpus


def test_sparse_node_numbers_keep_their_ids(scanned: Callable[[str], HostModel]) -> None:
    host = scanned("48amd64-4pa2n6c-sparse")
    layout = lay_out(host)
    drawn = sorted(b.node for b in layout.boxes if b.kind is BoxKind.NODE and b.node is not None)
    assert drawn == sorted(n.id for n in host.topology.numa_nodes)


def test_unknown_locality_tray_holds_devices_without_node(scanned: Callable[[str], HostModel]) -> None:
    """40intel64-2g2n4c+pcilocality: numa_node -1 on PCI devices."""
    host = scanned("40intel64-2g2n4c+pcilocality")
    layout = lay_out(host)
    nodes = {d.address: d.numa_node for d in host.pci_devices}
    unplaced = {c.device for c in find_candidates(host) if nodes[c.device] is None}
    in_tray = {b.address for b in layout.boxes if b.kind is BoxKind.DEVICE and b.parent == "tray:unknown"}
    assert unplaced
    assert in_tray == unplaced


def test_selecting_a_device_lights_its_node_and_cores(scanned: Callable[[str], HostModel]) -> None:
    host = scanned("32intel64-2p8co2t+8ve")
    layout = lay_out(host)
    dev = next(b for b in layout.boxes if b.kind is BoxKind.DEVICE and b.node is not None)
    lit = layout.highlight(dev.key)
    node = next(n for n in host.topology.numa_nodes if n.id == dev.node)
    lit_cpus = sorted(int(k.split(":")[1]) for k in lit if k.startswith("cpu:"))
    assert f"node:{dev.node}" in lit
    assert lit_cpus == list(node.cpus)


def test_selecting_a_thread_lights_its_smt_sibling(scanned: Callable[[str], HostModel]) -> None:
    host = scanned("32intel64-2p8co2t+8ve")
    layout = lay_out(host)
    cpu0 = next(c for c in host.topology.cpus if c.id == 0)
    assert len(cpu0.siblings) == 2
    lit = layout.highlight("cpu:0")
    assert {f"cpu:{s}" for s in cpu0.siblings} <= lit


def test_cpulist_text() -> None:
    assert cpulist_text([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8"
    assert cpulist_text([]) == ""
