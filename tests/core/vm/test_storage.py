"""New disk images go into the libvirt storage pool that owns their folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.errors import VmError
from vfiodeck.core.vm.storage import create_volume

HOST_XML = Path(__file__).resolve().parents[2] / "fixtures" / "libvirt" / "host-two-vms.xml"

POOL_XML = """<pool type='dir'>
  <name>images</name>
  <target><path>{path}</path></target>
</pool>"""


@pytest.fixture
def hv(tmp_path: Path) -> Iterator[Hypervisor]:
    hyp = Hypervisor("test://" + str(HOST_XML), events=False)
    hyp.connect()
    hyp.conn.storagePoolCreateXML(POOL_XML.format(path=tmp_path / "images"), 0)
    yield hyp
    hyp.close()


def test_volume_is_made_in_the_pool_that_holds_the_folder(hv: Hypervisor, tmp_path: Path) -> None:
    create_volume(hv, str(tmp_path / "images" / "win11.qcow2"), 64)
    pool = hv.conn.storagePoolLookupByName("images")
    assert pool.listVolumes() == ["win11.qcow2"]
    assert pool.storageVolLookupByName("win11.qcow2").info()[1] == 64 << 30  # capacity in bytes


def test_a_folder_outside_every_pool_says_what_to_do(hv: Hypervisor, tmp_path: Path) -> None:
    with pytest.raises(VmError) as err:
        create_volume(hv, str(tmp_path / "elsewhere" / "disk.qcow2"), 20)
    message = str(err.value)
    assert "No libvirt storage pool holds" in message
    assert "qemu-img create -f qcow2" in message
    assert "20G" in message
