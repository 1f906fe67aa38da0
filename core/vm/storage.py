"""Disk images for new VMs, made through libvirt's storage pools (no qemu-img of our own)."""

from __future__ import annotations

import os

import libvirt
from lxml import etree

from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.errors import VmError, translate
from vfiodeck.core.vm.newvm import new_volume_xml


def create_volume(hv: Hypervisor, path: str, size_gib: int) -> None:
    """A new sparse qcow2 volume at ``path``, in the storage pool whose folder holds it.
    Blocking (libvirt calls): run it on a worker."""
    folder, name = os.path.split(path)
    try:
        for pool in hv.conn.listAllStoragePools(0):
            target = etree.fromstring(pool.XMLDesc(0).encode()).findtext("target/path")
            if target and os.path.normpath(target) == os.path.normpath(folder):
                pool.createXML(new_volume_xml(name, size_gib), 0)
                return
    except libvirt.libvirtError as err:
        raise translate(err) from err
    raise VmError(
        f"No libvirt storage pool holds {folder}: create the image yourself (qemu-img create -f qcow2 "
        f"{path} {size_gib}G) and choose “Existing image”, or pick a folder of a pool."
    )
