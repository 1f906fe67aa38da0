"""New passthrough VMs from the wizard's answers, validated by libvirt's test driver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import libvirt
import pytest

from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.scan import scan_host
from vfiodeck.core.plan.pinning import apply_pinning, plan_pinning
from vfiodeck.core.vm.domainxml import DomainXml
from vfiodeck.core.vm.newvm import DiskSpec, VmSpec, build_domain_xml, spec_problems
from vfiodeck.core.vm.preflight import needs_from_xml
from vfiodeck.core.vm.storage import new_volume_xml

FIXTURES = Path(__file__).parents[2] / "fixtures"
TEST_HOST = FIXTURES / "libvirt" / "vm-planner-host.xml"
UUID = "5b0a2c1e-8f0e-4a57-9a0b-2f6d4c3b1a00"
RTX = ("0000:2b:00.0", "0000:2b:00.1", "0000:2b:00.2", "0000:2b:00.3")


def validate(conn: libvirt.virConnect, xml: str) -> list[str]:
    """libvirt's schema and parser verdict, by defining on this test's own connection."""
    try:
        conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE).undefine()
    except libvirt.libvirtError as err:
        return [str(err)]
    return []


@pytest.fixture
def conn() -> Iterator[libvirt.virConnect]:
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    connection = libvirt.open(f"test:///{TEST_HOST.resolve()}")
    yield connection
    connection.close()


def _win11(**changes: object) -> VmSpec:
    base = VmSpec(
        name="win11",
        memory_mib=16384,
        vcpus=8,
        uuid=UUID,
        disk=DiskSpec("/var/lib/libvirt/images/win11.qcow2"),
        iso="/var/lib/libvirt/isos/Win11_23H2.iso",
        hostdevs=RTX,
    )
    return VmSpec(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_windows_11_vm_defines_with_validation(conn: libvirt.virConnect) -> None:
    xml = build_domain_xml(_win11())
    assert validate(conn, xml) == []
    dom = conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    doc = DomainXml.parse(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert doc.name == "win11"
    assert doc.uuid == UUID
    assert doc.memory_kib == 16384 * 1024
    assert doc.pci_hostdevs() == RTX
    assert doc.hyperv_features()["stimer"] == "on"


def test_windows_11_essentials_are_in_the_xml() -> None:
    doc = DomainXml.parse(build_domain_xml(_win11()))
    root = doc.root
    assert root.find("os").get("firmware") == "efi"
    assert doc.machine == "q35"
    features = {f.get("name"): f.get("enabled") for f in root.findall("os/firmware/feature")}
    assert features == {"secure-boot": "yes", "enrolled-keys": "yes"}
    assert root.find("features/smm").get("state") == "on"
    tpm = root.find("devices/tpm")
    assert tpm.get("model") == "tpm-crb"
    assert tpm.find("backend").attrib == {"type": "emulator", "version": "2.0"}
    assert (
        root.find("devices/disk[@device='cdrom']/source").get("file")
        == "/var/lib/libvirt/isos/Win11_23H2.iso"
    )
    assert [b.get("dev") for b in root.findall("os/boot")] == ["cdrom", "hd"]
    assert not doc.kvm_hidden()


def test_secure_boot_off_and_no_tpm(conn: libvirt.virConnect) -> None:
    xml = build_domain_xml(_win11(secure_boot=False, tpm=False, hyperv=False))
    assert validate(conn, xml) == []
    doc = DomainXml.parse(xml)
    assert {f.get("enabled") for f in doc.root.findall("os/firmware/feature")} == {"no"}
    assert doc.root.find("features/smm") is None
    assert doc.root.find("devices/tpm") is None
    assert doc.hyperv_features() == {}


def test_hidden_hypervisor_for_older_nvidia_drivers(conn: libvirt.virConnect) -> None:
    xml = build_domain_xml(_win11(hide_hypervisor=True))
    assert validate(conn, xml) == []
    doc = DomainXml.parse(xml)
    assert doc.kvm_hidden()
    assert doc.hyperv_vendor_id() == "vfiodeck0000"


def test_block_device_disk_bios_and_no_extras(conn: libvirt.virConnect) -> None:
    spec = _win11(
        firmware="bios", disk=DiskSpec("/dev/nvme1n1", kind="block", format="raw", bus="sata"), iso=None,
        network=None, graphics=False, hostdevs=(),
    )  # fmt: skip
    xml = build_domain_xml(spec)
    assert validate(conn, xml) == []
    disk = DomainXml.parse(xml).root.find("devices/disk")
    assert disk.get("type") == "block"
    assert disk.find("source").get("dev") == "/dev/nvme1n1"
    assert disk.find("driver").get("io") == "native"
    assert disk.find("target").attrib == {"dev": "sda", "bus": "sata"}


def test_pinning_and_hugepages_from_a_real_topology(
    conn: libvirt.virConnect, hwloc_root: Callable[[str], HostRoot]
) -> None:
    topo = scan_host(hwloc_root("memorysidecaches")).topology
    plan = plan_pinning(topo, 8, device_nodes=[1])
    doc = DomainXml.parse(build_domain_xml(_win11(hugepages=True)))
    apply_pinning(doc, plan)
    xml = doc.to_string()
    assert validate(conn, xml) == []
    doc = DomainXml.parse(xml)
    assert doc.vcpus == 8
    assert doc.vcpupins() == {i: (c,) for i, c in enumerate(plan.vcpupin)}
    assert doc.emulatorpin() == plan.emulator_cpus
    assert doc.numatune() is not None
    assert doc.hugepages()
    topology = doc.cpu_topology()
    assert topology is not None
    assert (topology.sockets, topology.cores, topology.threads) == (1, 4, 2)
    assert doc.root.find("cpu").get("mode") == "host-passthrough"


def test_output_is_stable_and_round_trips() -> None:
    xml = build_domain_xml(_win11())
    assert xml == build_domain_xml(_win11())
    doc = DomainXml.parse(xml)
    doc.touch()
    assert doc.to_string() == xml
    assert "\t" not in xml
    assert xml.endswith("</domain>\n")


def test_volume_xml_for_a_storage_pool() -> None:
    xml = new_volume_xml("win11", 128)
    assert "<name>win11.qcow2</name>" in xml
    assert "<capacity unit='GiB'>128</capacity>" in xml
    assert "<format type='qcow2'/>" in xml


def test_recorded_ids_define_and_reach_the_preflight(conn: libvirt.virConnect) -> None:
    # The ids lspci -nn gives for the RTX 2070 SUPER's four functions on the B550M listing.
    ids = (("0000:2b:00.0", "10de:1e84"), ("0000:2b:00.1", "10de:10f8"), ("0000:2b:00.9", "10de:ffff"))
    xml = build_domain_xml(_win11(hostdev_ids=ids))
    assert validate(conn, xml) == []
    dom = conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    kept = DomainXml.parse(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    # libvirt keeps our metadata; 2b:00.9 is not passed, so nothing is recorded for it
    assert kept.recorded_device_ids() == {"0000:2b:00.0": "10de:1e84", "0000:2b:00.1": "10de:10f8"}
    devices = {d.address: (d.vendor_id, d.device_id) for d in needs_from_xml(xml).devices}
    assert devices["0000:2b:00.1"] == ("10de", "10f8")
    assert devices["0000:2b:00.2"] == (None, None)


def test_spec_problems_in_words() -> None:
    assert spec_problems(_win11()) == []
    bad = _win11(
        name="my vm!", memory_mib=128, vcpus=0, firmware="bios", secure_boot=True,
        disk=DiskSpec("images/win11.qcow2"), iso="Win11.iso",
    )  # fmt: skip
    assert spec_problems(bad) == [
        "The name must start with a letter or digit and use only letters, digits, . _ + -.",
        "Give the VM at least 256 MiB of memory.",
        "Give the VM at least one vCPU.",
        "Secure boot needs UEFI firmware.",
        "The disk images/win11.qcow2 must be a full path (starting with /).",
        "The installer ISO Win11.iso must be a full path (starting with /).",
    ]
    assert spec_problems(_win11(firmware="bios", secure_boot=False)) == []


def test_disk_kind_and_format_from_the_path() -> None:
    assert DiskSpec.for_path("/dev/disk/by-id/nvme-Samsung_SSD_970") == DiskSpec(
        "/dev/disk/by-id/nvme-Samsung_SSD_970", kind="block", format="raw"
    )
    assert DiskSpec.for_path("/var/lib/libvirt/images/win11.qcow2").format == "qcow2"
    assert DiskSpec.for_path("/srv/win11.img") == DiskSpec("/srv/win11.img", format="raw")
