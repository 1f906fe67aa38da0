"""pci.ids lookups on a small file with the layout's corner cases (lines copied from pci.ids)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vfiodeck.core.host.pciids import PciIds

SAMPLE = """\
# comment at the top
1000  Broadcom / LSI
\t0001  53c810
\t\t1000 1000  LSI53C810AE PCI to SCSI I/O Processor
# a comment inside a vendor block
\t0002  53c820
10de  NVIDIA Corporation
\t0001  NV1 [EDGE 3D]
\t1b80  GP104 [GeForce GTX 1080]
\t\t1043 8591  GeForce GTX 1080
\t\t10de 119e  GeForce GTX 1080
\t1b81  GP104 [GeForce GTX 1070]
\t\t1043 8599  GeForce GTX 1070
1022  Advanced Micro Devices, Inc. [AMD]
\t0002  should not be NVIDIA's

C 03  Display controller
\t00  VGA compatible controller
\t\t00  VGA controller
\t02  3D controller
C 0c  Serial bus controller
\t03  USB controller
\t\t30  XHCI
C ff  Unassigned class
"""


@pytest.fixture
def ids(tmp_path: Path) -> PciIds:
    path = tmp_path / "pci.ids"
    path.write_text(SAMPLE, encoding="utf-8")
    return PciIds.from_path(str(path))


def test_vendor_and_device_names(ids: PciIds) -> None:
    assert ids.vendor("10DE") == "NVIDIA Corporation"
    assert ids.vendor("1000") == "Broadcom / LSI"  # the first line of the file
    assert ids.device("10de", "1b81") == "GP104 [GeForce GTX 1070]"
    assert ids.device("1000", "0002") == "53c820"  # after a comment inside the block


def test_a_device_is_looked_up_inside_its_vendor_block_only(ids: PciIds) -> None:
    assert ids.device("10de", "0002") is None  # 1000's and 1022's 0002 are not NVIDIA's
    assert ids.device("1022", "0001") is None
    assert ids.device("1022", "0002") == "should not be NVIDIA's"
    assert ids.vendor("1043") is None  # a subsystem vendor id is not a vendor line


def test_subsystems_belong_to_their_device(ids: PciIds) -> None:
    assert ids.subsystem("10de", "1b80", "1043", "8591") == "GeForce GTX 1080"
    assert ids.subsystem("10de", "1b80", "1043", "8599") is None  # the 1070's card
    assert ids.subsystem("10de", "1b81", "1043", "8599") == "GeForce GTX 1070"
    assert ids.subsystem("1000", "0001", "1000", "1000") == "LSI53C810AE PCI to SCSI I/O Processor"


def test_classes_and_subclasses(ids: PciIds) -> None:
    assert ids.class_name("030000") == "VGA compatible controller"
    assert ids.class_name("0302") == "3D controller"
    assert ids.class_name("0c0330") == "USB controller"
    assert ids.class_name("0c0700") == "Serial bus controller"  # no such subclass: the base class
    assert ids.class_name("ff0000") == "Unassigned class"  # last line of the file


def test_answers_are_the_same_when_asked_twice(ids: PciIds) -> None:
    first = [ids.device("10de", "1b80"), ids.class_name("0300"), ids.vendor("ffff")]
    assert [ids.device("10de", "1b80"), ids.class_name("0300"), ids.vendor("ffff")] == first
