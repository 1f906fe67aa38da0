"""scan_pci and pci.ids names, against hwloc's real sysfs captures and the live host."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import HWLOC_DIR
from vfiodeck.core.host.model import PciDevice, ProblemKind
from vfiodeck.core.host.pci import address_key, parse_address, parse_resource, scan_pci
from vfiodeck.core.host.pciids import PciIds
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.sysfs import Reader
from vfiodeck.core.text import short_address

DAX = "32em64t-2n8c+dax+nvme+mic+dimms"
DOMAIN32 = "2pa-pcidomain32bits"
LOCALITY = "40intel64-2g2n4c+pcilocality"

HwlocRoot = Callable[[str], HostRoot]


def _scan(root: HostRoot) -> tuple[tuple[PciDevice, ...], Reader]:
    reader = Reader(root)
    return scan_pci(reader), reader


def _by_address(devices: tuple[PciDevice, ...]) -> dict[str, PciDevice]:
    return {dev.address: dev for dev in devices}


# -- addresses --------------------------------------------------------------------------------


def test_parse_address_accepts_kernel_names() -> None:
    assert parse_address("0000:0A:00.1") == "0000:0a:00.1"
    assert parse_address("10000:00:04.0") == "10000:00:04.0"


@pytest.mark.parametrize(
    "name", ["0a:00.0", "0000:0a:00.8", "0000:0a:20.0", "0000:0a:00", "pci0000:00", "zzzz:00:00.0"]
)
def test_parse_address_rejects_other_names(name: str) -> None:
    assert parse_address(name) is None


def test_addresses_sort_numerically_by_domain() -> None:
    addresses = ["10000:00:00.0", "ffff:00:00.0", "0000:0a:00.0", "0000:00:1f.3"]
    assert sorted(addresses, key=address_key) == [
        "0000:00:1f.3",
        "0000:0a:00.0",
        "ffff:00:00.0",
        "10000:00:00.0",
    ]


def test_short_address_drops_only_domain_zero() -> None:
    assert short_address("0000:08:00.0") == "08:00.0"
    assert short_address("10000:00:04.0") == "10000:00:04.0"


# -- hwloc captures ---------------------------------------------------------------------------


def test_dax_capture_has_137_functions_sorted(hwloc_root: HwlocRoot) -> None:
    devices, reader = _scan(hwloc_root(DAX))
    assert len(devices) == 137
    assert [d.address for d in devices] == sorted((d.address for d in devices), key=address_key)
    assert reader.problems == []


def _hwloc_xml_devices(name: str) -> dict[str, tuple[str, str, str, str, str, str]]:
    """hwloc's own record: pci_type="CCSS [vvvv:dddd] [ssvv:ssdd] RR PP" per bus id."""
    text = (HWLOC_DIR / name / f"{name}.xml").read_text()
    found = {}
    for busid, pci_type in re.findall(r'pci_busid="([^"]+)" pci_type="([^"]+)"', text):
        m = re.fullmatch(r"(\w{4}) \[(\w{4}):(\w{4})\] \[(\w{4}):(\w{4})\] (\w{2}) (\w{2})", pci_type)
        assert m, pci_type
        cls, vid, did, svid, sdid, rev, progif = m.groups()
        found[busid] = (cls + progif, vid, did, svid, sdid, rev)
    return found


@pytest.mark.parametrize(("name", "count"), [(DAX, 136), (LOCALITY, 37)])
def test_ids_class_and_revision_match_hwloc(hwloc_root: HwlocRoot, name: str, count: int) -> None:
    expected = _hwloc_xml_devices(name)
    assert len(expected) == count
    devices = _by_address(_scan(hwloc_root(name))[0])
    for address, (class_code, vid, did, svid, sdid, rev) in expected.items():
        dev = devices[address]
        got = (dev.class_code, dev.vendor_id, dev.device_id, dev.subsystem_vendor_id, dev.subsystem_device_id)
        assert got == (class_code, vid, did, svid, sdid), address
        # These captures have no `revision` file: it comes from byte 8 of config space.
        assert dev.revision == rev, address


def test_five_digit_domain(hwloc_root: HwlocRoot) -> None:
    devices, _ = _scan(hwloc_root(DOMAIN32))
    assert [d.address for d in devices] == [
        "0000:00:00.0",
        "0000:00:01.0",
        "0000:00:01.1",
        "0000:00:01.2",
        "0000:00:01.3",
        "0000:00:02.0",
        "0000:00:03.0",
        "10000:00:00.0",
        "10000:00:04.0",
    ]
    virtio_blk = devices[-1]
    assert (virtio_blk.vendor_id, virtio_blk.device_id, virtio_blk.class_code) == ("1af4", "1001", "010000")
    assert virtio_blk.slot == "10000:00:04"


def test_dangling_driver_links_still_name_the_driver(hwloc_root: HwlocRoot) -> None:
    root = hwloc_root(DAX)
    link = root.join("sys/bus/pci/devices/0000:02:00.0/driver")
    assert os.path.islink(link)
    assert not os.path.exists(link)  # the capture left it dangling
    devices = _by_address(_scan(root)[0])
    assert devices["0000:02:00.0"].driver == "igb"
    assert devices["0000:00:02.0"].driver == "nvme"
    assert devices["0000:05:00.0"].driver is None  # the ASPEED VGA had no driver bound


def test_numa_node_minus_one_becomes_none(hwloc_root: HwlocRoot) -> None:
    root = hwloc_root(LOCALITY)
    assert Path(root.join("sys/bus/pci/devices/0000:00:00.0/numa_node")).read_text().strip() == "-1"
    devices = _scan(root)[0]
    assert {d.address: d.numa_node for d in devices if d.numa_node is not None} == {"0000:43:00.0": 2}


def test_boot_vga_and_missing_optional_files(hwloc_root: HwlocRoot) -> None:
    devices = _scan(hwloc_root(DOMAIN32))[0]
    assert [d.address for d in devices if d.boot_vga] == ["0000:00:02.0"]
    # hwloc captures hold no reset_method and no iommu_group: unknown, not empty.
    assert all(d.reset_methods is None and d.iommu_group is None for d in devices)


def test_bars_of_real_devices(hwloc_root: HwlocRoot) -> None:
    devices = _by_address(_scan(hwloc_root(DAX))[0])
    vga = devices["0000:05:00.0"]
    assert [(b.index, b.size, b.is_io) for b in vga.bars] == [
        (0, 16 << 20, False),
        (1, 128 << 10, False),
        (2, 128, True),
    ]
    nvme = devices["0000:00:02.0"]  # its resource file has a ROM on line 6: not a BAR
    assert [(b.index, b.start, b.size, b.is_64bit) for b in nvme.bars] == [(0, 0xC2700000, 0x4000, True)]
    phi = devices["0000:83:00.0"]
    assert [(b.index, b.size) for b in phi.bars] == [(0, 8 << 30), (4, 128 << 10)]
    assert phi.bars[0].above_4g
    assert phi.bars[0].is_64bit


def test_parse_resource_skips_zero_lines_and_flags_garbage(hwloc_root: HwlocRoot) -> None:
    text = Path(hwloc_root(DAX).join("sys/bus/pci/devices/0000:05:00.0/resource")).read_text()
    bars, bad = parse_resource(text)
    assert [b.index for b in bars] == [0, 1, 2]
    assert not bad
    lines = text.splitlines()
    lines[1] = "0x0000000091000000 garbage"
    bars, bad = parse_resource("\n".join(lines))
    assert [b.index for b in bars] == [0, 2]
    assert bad


def _copy_device(root: HostRoot, address: str, dest: Path) -> Path:
    """A one-device host root made from a real device directory (links are not copied)."""
    src = Path(root.join(f"sys/bus/pci/devices/{address}"))
    dev_dir = dest / "sys" / "devices" / "pci0000:00" / address
    shutil.copytree(src.resolve(), dev_dir, symlinks=True, ignore=shutil.ignore_patterns("0000:*", "*pcie*"))
    (dest / "sys" / "bus" / "pci" / "devices").mkdir(parents=True)
    os.symlink(f"../../../devices/pci0000:00/{address}", dest / "sys" / "bus" / "pci" / "devices" / address)
    return dev_dir


def test_garbage_ids_become_none_with_a_reason(hwloc_root: HwlocRoot, tmp_path: Path) -> None:
    dev_dir = _copy_device(hwloc_root(DAX), "0000:02:00.0", tmp_path)
    (dev_dir / "config").unlink()  # without a config header the ids come from their own files
    (dev_dir / "vendor").write_text("0xZZZZ\n")
    (dev_dir / "class").write_text("0x0200\n")  # too short: a class code has 6 digits
    (dev_dir / "numa_node").write_text("zero\n")
    devices, reader = _scan(HostRoot.open(tmp_path))
    (dev,) = devices
    assert (dev.vendor_id, dev.device_id, dev.class_code, dev.numa_node) == (None, "1521", None, None)
    assert dev.vendor_name is None
    assert {(p.path.rsplit("/", 1)[1], p.kind) for p in reader.problems} == {
        ("vendor", ProblemKind.GARBAGE),
        ("class", ProblemKind.GARBAGE),
        ("numa_node", ProblemKind.GARBAGE),
    }


def test_config_header_wins_and_the_files_stand_in_without_it(hwloc_root: HwlocRoot, tmp_path: Path) -> None:
    dev_dir = _copy_device(hwloc_root(DAX), "0000:02:00.0", tmp_path)
    assert _scan(HostRoot.open(tmp_path))[0][0].revision == "01"  # config byte 8
    (dev_dir / "revision").write_text("0x03\n")
    (dev_dir / "reset_method").write_text("flr bus\n")
    dev = _scan(HostRoot.open(tmp_path))[0][0]
    assert (dev.revision, dev.reset_methods) == ("01", ("flr", "bus"))  # one config read, no revision file
    (dev_dir / "config").write_bytes(b"\x86\x80")  # a short read: no header
    assert _scan(HostRoot.open(tmp_path))[0][0].revision == "03"


def test_ids_from_config_match_the_kernels_files_on_a_real_capture(
    hwloc_root: HwlocRoot, tmp_path: Path
) -> None:
    # (revision is left out: this 2013 capture has no revision files, only config byte 8)
    def facts(root: HostRoot) -> list[tuple[object, ...]]:
        return [
            (
                d.address,
                d.vendor_id,
                d.device_id,
                d.class_code,
                d.subsystem_vendor_id,
                d.subsystem_device_id,
                d.boot_vga,
            )
            for d in _scan(root)[0]
        ]

    root = hwloc_root(DAX)
    with_config = facts(root)
    copy = tmp_path / "copy"
    shutil.copytree(root.path, copy, symlinks=True)
    for config in (copy / "sys" / "devices").rglob("config"):
        config.unlink()
    assert facts(HostRoot.open(copy)) == with_config
    assert len(with_config) == 137


def test_unreadable_file_is_a_permission_problem(hwloc_root: HwlocRoot, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    dev_dir = _copy_device(hwloc_root(DAX), "0000:02:00.0", tmp_path)
    (dev_dir / "config").chmod(0)
    devices, reader = _scan(HostRoot.open(tmp_path))
    assert devices[0].revision is None
    assert [p.kind for p in reader.problems] == [ProblemKind.PERMISSION]


def test_odd_entry_names_are_skipped(hwloc_root: HwlocRoot, tmp_path: Path) -> None:
    _copy_device(hwloc_root(DAX), "0000:02:00.0", tmp_path)
    (tmp_path / "sys" / "bus" / "pci" / "devices" / "not-a-device").mkdir()
    devices, reader = _scan(HostRoot.open(tmp_path))
    assert [d.address for d in devices] == ["0000:02:00.0"]
    assert [p.path for p in reader.problems] == ["sys/bus/pci/devices/not-a-device"]


# -- names ------------------------------------------------------------------------------------


def test_names_come_from_pci_ids(hwloc_root: HwlocRoot) -> None:
    devices = _by_address(_scan(hwloc_root(DAX))[0])
    nic = devices["0000:02:00.0"]
    assert (nic.vendor_name, nic.device_name, nic.class_name) == (
        "Intel Corporation",
        "I350 Gigabit Network Connection",
        "Ethernet controller",
    )
    assert devices["0000:05:00.0"].device_name == "ASPEED Graphics Family"
    assert devices["0000:00:01.0"].class_name == "PCI bridge"


def test_pci_ids_lookups() -> None:
    ids = PciIds.load()
    assert ids.vendor("10de") == "NVIDIA Corporation"
    assert ids.device("10de", "1b80") == "GP104 [GeForce GTX 1080]"
    assert ids.device("10DE", "1B80") == "GP104 [GeForce GTX 1080]"
    assert ids.subsystem("8086", "1521", "8086", "0001") == "Ethernet Server Adapter I350-T4"
    assert ids.class_name("030000") == "VGA compatible controller"
    assert ids.class_name("0c0330") == "USB controller"
    assert ids.class_name("0b4000") == "Co-processor"
    assert ids.device("10de", "0000") is None
    assert ids.vendor(None) is None


def test_pci_ids_from_the_host_root_first(tmp_path: Path) -> None:
    system = PciIds.load().path
    assert system is not None
    target = tmp_path / "usr" / "share" / "hwdata" / "pci.ids"
    target.parent.mkdir(parents=True)
    shutil.copyfile(system, target)
    (tmp_path / "sys").mkdir()
    ids = PciIds.load(Reader(HostRoot.open(tmp_path)))
    assert ids.path == str(target)
    assert ids.vendor("1022") == "Advanced Micro Devices, Inc. [AMD]"


def test_class_names_without_pci_ids() -> None:
    ids = PciIds(None, None)
    assert ids.vendor("10de") is None
    assert ids.device("10de", "1b80") is None
    assert ids.class_name("030000") == "VGA compatible controller"
    assert ids.class_name("0c0330") == "USB controller"
    assert ids.class_name("0b4000") is None
    assert ids.class_name("028000") == "Network controller"


# -- the live host ----------------------------------------------------------------------------
@pytest.mark.host
def test_live_host_scan_does_not_crash() -> None:
    devices, reader = _scan(HostRoot.live_host())
    for dev in devices:
        assert parse_address(dev.address) == dev.address
    assert all(p.kind is not ProblemKind.GARBAGE for p in reader.problems)
