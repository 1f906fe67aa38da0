"""Hot-plug and delete on libvirt's test driver (opened per test on a copied file). The test driver
cannot hot-plug, which is exactly the refusal a user gets from a hypervisor without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.domainxml import DomainXml
from vfiodeck.core.vm.errors import InvalidStateError
from vfiodeck.core.vm.history import DefinitionChangedError, History, XmlChange
from vfiodeck.core.vm.hotplug import HotplugRefusedError, hostdev_xml, hotplug
from vfiodeck.core.vm.removal import delete_vm, disk_images
from vfiodeck.core.vm.storage import create_dir_pool, create_volume

HOST_XML = Path(__file__).resolve().parents[2] / "gui" / "vms" / "host-vms.xml"
GTX1080 = "0000:08:00.0"


def _add(xml: str, address: str) -> str:
    doc = DomainXml.parse(xml)
    doc.add_pci_hostdev(address)
    return str(doc.to_string())


def test_a_refused_hotplug_is_explained_and_changes_nothing(hv: Hypervisor, tmp_path: Path) -> None:
    before = hv.inactive_xml("gaming")
    change = XmlChange("gaming", before, _add(before, GTX1080), (GTX1080,))
    history = History(tmp_path / "h.json")
    with pytest.raises(HotplugRefusedError, match="cannot hot-plug") as caught:
        hotplug(hv, "gaming", change, True, host="demo", history=history)
    assert "Choose “at next start”" in str(caught.value)
    assert hv.inactive_xml("gaming") == before
    assert history.entries(hv.uri, "demo") == []


def test_hotplug_refuses_a_definition_changed_since_the_preview(hv: Hypervisor) -> None:
    before = hv.inactive_xml("gaming")
    change = XmlChange("gaming", before, _add(before, GTX1080), (GTX1080,))
    hv.conn.defineXML(_add(before, "0000:43:00.1"))
    with pytest.raises(DefinitionChangedError, match="nothing was plugged"):
        hotplug(hv, "gaming", change, True)


def test_hostdev_xml() -> None:
    assert hostdev_xml("0000:0a:1f.3") == (
        "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
        "<address domain='0x0000' bus='0x0a' slot='0x1f' function='0x3'/></source></hostdev>"
    )


def test_delete_with_and_without_disks(hv: Hypervisor, tmp_path: Path) -> None:
    images = tmp_path / "images"
    create_dir_pool(hv, str(images))
    disk = str(images / "gaming.qcow2")
    create_volume(hv, disk, 1)
    xml = hv.inactive_xml("gaming")
    doc = DomainXml.parse(xml)
    assert disk_images(xml) == ()
    with_disk = xml.replace(
        "<devices>",
        f"<devices>\n    <disk type='file' device='disk'><source file='{disk}'/><target dev='vda'/></disk>"
        "\n    <disk type='file' device='cdrom'><source file='/isos/win.iso'/><target dev='sdb'/></disk>",
        1,
    )
    assert doc.name == "gaming"
    hv.conn.defineXML(with_disk)
    current = hv.inactive_xml("gaming")
    assert disk_images(current) == (disk,)
    with pytest.raises(InvalidStateError, match="is running"):
        delete_vm(hv, "gaming", [disk], expected_xml=current)
    hv.destroy("gaming")
    with pytest.raises(DefinitionChangedError):
        delete_vm(hv, "gaming", [disk], expected_xml=xml)
    assert delete_vm(hv, "gaming", [disk], expected_xml=current) == []
    assert "gaming" not in [d.name for d in hv.list_domains()]
    assert hv.conn.storagePoolLookupByName("default").listVolumes() == []
    hv.destroy("workstation")
    left = delete_vm(hv, "workstation", ["/nowhere/disk.qcow2"])
    assert len(left) == 1
    assert left[0].startswith("/nowhere/disk.qcow2: ")
