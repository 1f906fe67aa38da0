"""scan_iommu: groups from sys/kernel/iommu_groups, on listing roots, a capture and the live host."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostbuilder import LISTINGS_DIR, build_root_from_listing
from vfiodeck.core.host.iommu import scan_iommu
from vfiodeck.core.host.model import ProblemKind
from vfiodeck.core.host.pci import scan_pci
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.sysfs import Reader

HwlocRoot = Callable[[str], HostRoot]


def _z370_root(dest: Path) -> Path:
    (path,) = LISTINGS_DIR.glob("z370*.txt")
    return build_root_from_listing(path, dest)


def test_groups_from_a_listing_root(tmp_path: Path) -> None:
    root = _z370_root(tmp_path)
    reader = Reader(HostRoot.open(root))
    iommu = scan_iommu(reader, scan_pci(reader))
    assert iommu.enabled
    assert [g.id for g in iommu.groups] == list(range(15))  # numeric order, not "0, 1, 10, 11..."
    assert iommu.groups[2].devices == ("0000:00:01.0", "0000:01:00.0", "0000:01:00.1")
    assert iommu.groups[10].devices == ("0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3", "0000:00:1f.4")
    assert reader.problems == []


def test_a_link_that_disagrees_with_the_group_folder_is_reported(tmp_path: Path) -> None:
    root = _z370_root(tmp_path)
    link = root / "sys/devices/pci0000:01/0000:01:00.1/iommu_group"
    link.unlink()
    os.symlink("../../../kernel/iommu_groups/3", link)
    reader = Reader(HostRoot.open(root))
    devices = scan_pci(reader)
    scan_iommu(reader, devices)
    assert [(p.path, p.kind, p.detail) for p in reader.problems] == [
        (
            "sys/bus/pci/devices/0000:01:00.1/iommu_group",
            ProblemKind.GARBAGE,
            "the link says group 3 but group 2 lists it",
        )
    ]


def test_odd_folder_names_are_reported(tmp_path: Path) -> None:
    root = _z370_root(tmp_path)
    (root / "sys/kernel/iommu_groups/README").mkdir()
    reader = Reader(HostRoot.open(root))
    iommu = scan_iommu(reader, scan_pci(reader))
    assert len(iommu.groups) == 15
    assert [p.path for p in reader.problems] == ["sys/kernel/iommu_groups/README"]


def test_capture_without_groups_means_iommu_off(hwloc_root: HwlocRoot) -> None:
    reader = Reader(hwloc_root("40intel64-2g2n4c+pcilocality"))
    iommu = scan_iommu(reader, scan_pci(reader))
    assert not iommu.enabled
    assert iommu.groups == ()
    assert reader.problems == []


@pytest.mark.host
def test_live_host_does_not_crash() -> None:
    reader = Reader(HostRoot.live_host())
    devices = scan_pci(reader)
    iommu = scan_iommu(reader, devices)
    has_groups = bool(os.path.isdir("/sys/kernel/iommu_groups") and os.listdir("/sys/kernel/iommu_groups"))
    assert iommu.enabled is has_groups
    if not has_groups:
        assert all(d.iommu_group is None for d in devices)
