"""Pre-flight on hosts built from real IOMMU listings and real /proc + sysfs captures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.hostbuilder import build_root_from_listing, scan_root
from vfiodeck.core.host.model import HostModel, IommuInfo
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.vm.domainxml import VFIODECK_NS, DomainXml
from vfiodeck.core.vm.errors import InvalidDomainXmlError
from vfiodeck.core.vm.preflight import (
    AssignedDevice,
    DomainNeeds,
    HostResources,
    PreflightIssue,
    needs_from_xml,
    preflight,
    read_resources,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
LISTINGS = FIXTURES / "listings"
LIBVIRT_XML = FIXTURES / "libvirt-xml" / "valid"
# z690: lspci -nnk with drivers; RX 560 (04:00.x) already on vfio-pci, RX 6700 XT on amdgpu.
Z690 = LISTINGS / "z690-asus-alderlake-rx6700xt-rx560-tb4-lspci-nnk.txt"
# b550m: GT 710 inside the chipset group 13 (with USB, SATA and the 2.5 GbE NIC), RTX 2070 SUPER isolated.
B550M = LISTINGS / "b550m-msi-mortar-rtx2070super-turing-gt710.txt"
# 2x Xeon Silver 4108: MemAvailable 83337000 kB, 4096 free 2 MiB pages, 0 pages of 1 GiB.
XEON = FIXTURES / "hwloc" / "32intel64-2p8co2t+8ve" / "32intel64-2p8co2t+8ve.tar.bz2"

PLENTY = HostResources(mem_available_kib=None)


@pytest.fixture(scope="module")
def z690(tmp_path_factory: pytest.TempPathFactory) -> HostModel:
    return scan_root(build_root_from_listing(Z690, tmp_path_factory.mktemp("z690")))


@pytest.fixture(scope="module")
def b550m(tmp_path_factory: pytest.TempPathFactory) -> HostModel:
    return scan_root(build_root_from_listing(B550M, tmp_path_factory.mktemp("b550m")))


@pytest.fixture(scope="module")
def xeon_root() -> HostRoot:
    # Unpacked by the same safe extractor as --root (once per process).
    return HostRoot.open(XEON)


@pytest.fixture(scope="module")
def demo_root() -> HostRoot:
    from vfiodeck.resources import demo_host_path

    return HostRoot.open(demo_host_path())


def domain_xml(name: str, *addresses: str, ids: dict[str, str] | None = None, extra: str = "") -> str:
    hostdevs = ""
    for addr in addresses:
        dom, bus, rest = addr.split(":")
        slot, fn = rest.split(".")
        hostdevs += (
            "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
            f"<address domain='0x{dom}' bus='0x{bus}' slot='0x{slot}' function='0x{fn}'/>"
            "</source></hostdev>"
        )
    metadata = ""
    if ids:
        devices = "".join(f"<vd:device address='{a}' ids='{v}'/>" for a, v in ids.items())
        metadata = f"<metadata><vd:devices xmlns:vd='{VFIODECK_NS}'>{devices}</vd:devices></metadata>"
    return (
        f"<domain type='kvm'><name>{name}</name>{metadata}<memory unit='GiB'>16</memory><vcpu>8</vcpu>"
        f"<os><type arch='x86_64' machine='q35'>hvm</type></os>{extra}<devices>{hostdevs}</devices></domain>"
    )


def titles(issues: tuple[PreflightIssue, ...]) -> list[str]:
    return [i.title for i in issues]


# -- devices and IOMMU groups -----------------------------------------------------------------------


def test_clean_pass_of_a_card_already_on_vfio_pci(z690: HostModel) -> None:
    needs = needs_from_xml(
        domain_xml(
            "win11",
            "0000:04:00.0",
            "0000:04:00.1",
            ids={"0000:04:00.0": "1002:67ff", "0000:04:00.1": "1002:aae0"},
        )
    )
    assert needs.devices == (
        AssignedDevice("0000:04:00.0", "1002", "67ff"),
        AssignedDevice("0000:04:00.1", "1002", "aae0"),
    )
    assert preflight(z690, needs, {}, PLENTY) == ()


def test_group_member_used_by_a_host_driver_blocks(z690: HostModel) -> None:
    # Group 18: LPC 00:1f.0 (no driver), HD audio 00:1f.3, SMBus 00:1f.4 (i801_smbus),
    # SPI 00:1f.5 (no driver).
    issues = preflight(z690, needs_from_xml(domain_xml("audio", "0000:00:1f.3")), {}, PLENTY)
    assert titles(issues) == [
        "Alder Lake-S PCH SMBus Controller (00:1f.4) shares IOMMU group 18 with 0000:00:1f.3 "
        "and is used by the host driver i801_smbus"
    ]
    assert issues[0].fix == "Pass it to this VM as well, or bind it to vfio-pci before starting."


def test_members_without_a_driver_do_not_block(z690: HostModel) -> None:
    # Group 7: xHCI 00:14.0 and Shared SRAM 00:14.2, which has no driver.
    assert preflight(z690, needs_from_xml(domain_xml("usb", "0000:00:14.0")), {}, PLENTY) == ()


def test_bridges_never_block(z690: HostModel) -> None:
    host = z690
    # Put the upstream switch port (a bridge on pcieport) into the GPU's group: it must still pass.
    groups = tuple(
        dataclasses.replace(g, devices=tuple(sorted(g.devices + ("0000:01:00.0",)))) if g.id == 23 else g
        for g in host.iommu.groups
        if g.id != 19
    )
    merged = dataclasses.replace(host, iommu=IommuInfo(True, groups))
    merged = dataclasses.replace(
        merged,
        pci_devices=tuple(
            dataclasses.replace(d, iommu_group=23) if d.address == "0000:01:00.0" else d
            for d in host.pci_devices
        ),
    )
    needs = needs_from_xml(domain_xml("win11", "0000:04:00.0", "0000:04:00.1"))
    assert preflight(merged, needs, {}, PLENTY) == ()


def test_a_device_that_is_gone(z690: HostModel) -> None:
    # The RTX 2070 SUPER's address on the b550m board does not exist on the z690 host.
    needs = needs_from_xml(domain_xml("win11", "0000:2b:00.0", ids={"0000:2b:00.0": "10de:1e84"}))
    issues = preflight(z690, needs, {}, PLENTY)
    assert titles(issues) == ["0000:2b:00.0 is no longer on this host"]
    assert "moved to another slot" in issues[0].fix


def test_a_different_card_at_the_recorded_address(z690: HostModel) -> None:
    # Recorded as the RTX 2070 SUPER; on this host 03:00.0 is the RX 6700 XT (1002:73df, amdgpu).
    needs = needs_from_xml(domain_xml("win11", "0000:03:00.0", ids={"0000:03:00.0": "10de:1e84"}))
    assert titles(preflight(z690, needs, {}, PLENTY)) == [
        "0000:03:00.0 is now a different device (1002:73df, was 10de:1e84)"
    ]


def test_ids_recorded_by_domainxml_are_compared(z690: HostModel) -> None:
    # What plan.assign.apply_assign writes through DomainXml.record_device_ids.
    doc = DomainXml.parse(domain_xml("win11", "0000:03:00.0"))
    doc.record_device_ids("0000:03:00.0", "10de:1e84")
    needs = needs_from_xml(doc.to_string())
    assert needs.devices == (AssignedDevice("0000:03:00.0", "10de", "1e84"),)
    assert titles(preflight(z690, needs, {}, PLENTY)) == [
        "0000:03:00.0 is now a different device (1002:73df, was 10de:1e84)"
    ]
    doc.record_device_ids("0000:03:00.0", "1002:73df")
    assert preflight(z690, needs_from_xml(doc.to_string()), {}, PLENTY) == ()


def test_a_device_held_by_another_running_vm(z690: HostModel) -> None:
    needs = needs_from_xml(domain_xml("win11", "0000:04:00.0", "0000:04:00.1"))
    running = {"linux-ml": ["0000:04:00.0", "0000:04:00.1"], "win11": ["0000:04:00.0"]}
    issues = preflight(z690, needs, running, PLENTY)
    assert titles(issues) == [
        "0000:04:00.0 is in use by the running VM “linux-ml”",
        "0000:04:00.1 is in use by the running VM “linux-ml”",
    ]
    assert issues[0].fix == "Shut down “linux-ml” first, or remove the device from one of the two VMs."


def test_a_group_split_between_two_vms(b550m: HostModel) -> None:
    # The GT 710 sits in chipset group 13; a NAS VM already holds that group's SATA controller.
    needs = needs_from_xml(domain_xml("htpc", "0000:04:00.0", "0000:04:00.1"))
    issues = preflight(b550m, needs, {"nas": ["0000:02:00.1"]}, PLENTY)
    assert titles(issues) == [
        "IOMMU group 13 is split: 500 Series Chipset SATA Controller (02:00.1) is in the running VM “nas”"
    ]


def test_iommu_off_says_so_once(z690: HostModel) -> None:
    off = dataclasses.replace(z690, iommu=IommuInfo(False))
    needs = needs_from_xml(domain_xml("win11", "0000:04:00.0", "0000:04:00.1"))
    assert titles(preflight(off, needs, {}, PLENTY)) == [
        "The IOMMU is off, so no device can be passed through"
    ]


def test_libvirt_test_suite_hostdevs_are_read() -> None:
    needs = needs_from_xml((LIBVIRT_XML / "hostdev-vfio.xml").read_text())
    assert needs.name == "QEMUGuest2"
    assert [d.address for d in needs.devices] == [
        "0000:06:12.1",
        "0000:06:12.2",
        "0000:06:12.3",
        "0000:06:12.4",
    ]
    assert needs.memory_kib == 219100
    multi = needs_from_xml((LIBVIRT_XML / "hostdev-vfio-multidomain.x86_64-latest.xml").read_text())
    assert [d.address for d in multi.devices] == ["0021:de:1f.1"]


def test_not_xml_is_a_clear_error() -> None:
    with pytest.raises(InvalidDomainXmlError):
        needs_from_xml("<domain><name>x</name>")


# -- memory and huge pages, against a real capture ---------------------------------------------------


def test_read_resources_from_a_real_root(xeon_root: HostRoot) -> None:
    res = read_resources(DomainNeeds("x"), xeon_root)
    assert res.mem_available_kib == 83337000
    assert dict(res.free_hugepages) == {2048: 4096, 1048576: 0}


def test_enough_free_memory(z690: HostModel, xeon_root: HostRoot) -> None:
    needs = DomainNeeds("vm", memory_kib=64 * 1024**2)
    assert preflight(z690, needs, {}, read_resources(needs, xeon_root)) == ()


def test_not_enough_free_memory(z690: HostModel, xeon_root: HostRoot) -> None:
    needs = DomainNeeds("vm", memory_kib=96 * 1024**2)
    assert titles(preflight(z690, needs, {}, read_resources(needs, xeon_root))) == [
        "Not enough free memory: the VM needs 96 GiB, 79 GiB is available"
    ]


def test_hugepages_of_the_default_size(z690: HostModel, xeon_root: HostRoot) -> None:
    # libvirt's own hugepages-default.xml: 219136 KiB on default-size pages -> 107 pages of 2 MiB.
    needs = needs_from_xml((LIBVIRT_XML / "hugepages-default.xml").read_text())
    assert (needs.memory_kib, needs.hugepage_kib) == (219136, 2048)
    assert preflight(z690, needs, {}, read_resources(needs, xeon_root)) == ()
    big = dataclasses.replace(needs, memory_kib=16 * 1024**2)  # 8192 pages, 4096 free
    assert titles(preflight(z690, big, {}, read_resources(big, xeon_root))) == [
        "Not enough free huge pages: the VM needs 8192 of 2 MiB, 4096 are free"
    ]


def test_gigabyte_pages_none_free(z690: HostModel, xeon_root: HostRoot) -> None:
    xml = domain_xml(
        "win11", extra="<memoryBacking><hugepages><page size='1' unit='GiB'/></hugepages></memoryBacking>"
    )
    needs = needs_from_xml(xml)
    assert needs.hugepage_kib == 1048576
    assert titles(preflight(z690, needs, {}, read_resources(needs, xeon_root))) == [
        "Not enough free huge pages: the VM needs 16 of 1 GiB, 0 are free"
    ]


def test_page_size_the_host_does_not_have(z690: HostModel, xeon_root: HostRoot) -> None:
    needs = DomainNeeds("vm", memory_kib=1024**2, hugepage_kib=64)
    issues = preflight(z690, needs, {}, read_resources(needs, xeon_root))
    assert titles(issues) == ["The VM wants 64 KiB huge pages, and this host has none of that size"]
    assert issues[0].fix.startswith("Reserve 16384 pages of 64 KiB")


# -- firmware ---------------------------------------------------------------------------------------


def test_manual_firmware_files_missing(z690: HostModel, xeon_root: HostRoot) -> None:
    # libvirt's own test XML points at Fedora's paths; the captured root has no /usr/share at all.
    needs = needs_from_xml((LIBVIRT_XML / "firmware-manual-efi-nvram-template.x86_64-latest.xml").read_text())
    assert needs.firmware_files == ("/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd")
    issues = preflight(z690, needs, {}, read_resources(needs, xeon_root))
    assert "Firmware file /usr/share/edk2/ovmf/OVMF_CODE.fd is missing" in titles(issues)
    assert "Firmware file /usr/share/edk2/ovmf/OVMF_VARS.fd is missing" in titles(issues)
    # ...and says nothing about installed packages: unknown, not "missing".
    assert "No UEFI firmware (OVMF) is installed for the VM" not in titles(issues)


def test_firmware_present_under_the_root(z690: HostModel, tmp_path: Path) -> None:
    needs = needs_from_xml((LIBVIRT_XML / "firmware-manual-efi-nvram-template.x86_64-latest.xml").read_text())
    for path in needs.firmware_files:
        (tmp_path / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path.lstrip("/")).write_bytes(b"")
    res = read_resources(needs, HostRoot(tmp_path))
    assert res.efi_firmware_available is True
    assert [i for i in preflight(z690, needs, {}, res) if "irmware" in i.title] == []


def test_hugepages_that_could_not_be_read_are_unknown_not_none(z690: HostModel, tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    needs = DomainNeeds("vm", memory_kib=1024**2, hugepage_kib=2048)
    res = read_resources(needs, HostRoot(tmp_path))  # a capture without sys/kernel/mm/hugepages
    assert res.free_hugepages is None
    assert preflight(z690, needs, {}, res) == ()


def test_a_refused_read_is_an_issue_of_its_own(z690: HostModel) -> None:
    res = HostResources(None, None, unreadable=("proc/meminfo: permission denied",))
    assert titles(preflight(z690, DomainNeeds("vm", memory_kib=1024), {}, res)) == [
        "Could not read proc/meminfo: permission denied"
    ]


def test_the_demo_host_reads_its_own_hugepages(demo_root: HostRoot) -> None:
    needs = DomainNeeds("vm", memory_kib=1024**2, hugepage_kib=2048)
    res = read_resources(needs, demo_root)
    assert res.free_hugepages is not None
    assert res.free_hugepages.get(2048) == 4096
