"""Disk images for new VMs, made through libvirt's storage pools (no qemu-img of our own).

API (blocking libvirt calls: run on a worker):
- ``pool_for(hv, directory) -> str | None``: the pool whose target folder is ``directory``.
- ``create_dir_pool(hv, directory, name="default") -> str``: define, build, start and autostart a
  directory pool there (what a fresh libvirt lacks); another name when ``name`` is taken.
- ``create_volume(hv, path, size_gib, *, create_pool=False)``: a sparse qcow2 volume at ``path`` in the
  pool of its folder; without a pool, ``create_pool`` makes one, else ``NoStoragePoolError`` says what
  to do. ``delete_volume(hv, path)`` takes it back (a define that failed after it).
"""

from __future__ import annotations

import os

import libvirt
from lxml import etree

from vfiodeck.core.vm import lossless
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.errors import VmError, translate


class NoStoragePoolError(VmError):
    """No libvirt storage pool holds the folder; create one (with the user's consent) or pick a path."""


def new_volume_xml(name: str, capacity_gib: int, fmt: str = "qcow2") -> str:
    """A storage volume for ``virStoragePool.createXML``: a sparse image of ``capacity_gib``."""
    vol = etree.Element("volume")
    etree.SubElement(vol, "name").text = name if name.endswith(f".{fmt}") else f"{name}.{fmt}"
    etree.SubElement(vol, "capacity", unit="GiB").text = str(capacity_gib)
    etree.SubElement(vol, "allocation", unit="GiB").text = "0"
    etree.SubElement(etree.SubElement(vol, "target"), "format", type=fmt)
    lossless.layout(vol, "", "  ")
    return str(lossless.fresh(vol)) + "\n"


def _dir_pool_xml(name: str, directory: str) -> str:
    pool = etree.Element("pool", type="dir")
    etree.SubElement(pool, "name").text = name
    etree.SubElement(etree.SubElement(pool, "target"), "path").text = directory
    lossless.layout(pool, "", "  ")
    return str(lossless.fresh(pool)) + "\n"


def _pool(hv: Hypervisor, directory: str) -> libvirt.virStoragePool | None:
    for pool in hv.conn.listAllStoragePools(0):
        target = etree.fromstring(pool.XMLDesc(0).encode()).findtext("target/path")
        if target and os.path.normpath(target) == os.path.normpath(directory):
            return pool
    return None


def pool_for(hv: Hypervisor, directory: str) -> str | None:
    try:
        pool = _pool(hv, directory)
        return None if pool is None else str(pool.name())
    except libvirt.libvirtError as err:
        raise translate(err) from err


def create_dir_pool(hv: Hypervisor, directory: str, name: str = "default") -> str:
    try:
        taken = set(hv.conn.listStoragePools()) | set(hv.conn.listDefinedStoragePools())
        chosen, n = name, 1
        while chosen in taken:
            n += 1
            chosen = f"{name}-{n}"
        pool = hv.conn.storagePoolDefineXML(_dir_pool_xml(chosen, directory), 0)
        pool.build(0)
        pool.create(0)
        pool.setAutostart(1)
        return chosen
    except libvirt.libvirtError as err:
        raise translate(err) from err


def create_volume(hv: Hypervisor, path: str, size_gib: int, *, create_pool: bool = False) -> None:
    folder, name = os.path.split(path)
    try:
        pool = _pool(hv, folder)
        if pool is None and create_pool:
            create_dir_pool(hv, folder)
            pool = _pool(hv, folder)
        if pool is not None:
            if not pool.isActive():
                pool.create(0)
            pool.createXML(new_volume_xml(name, size_gib), 0)
            return
    except libvirt.libvirtError as err:
        raise translate(err) from err
    raise NoStoragePoolError(
        f"No libvirt storage pool holds {folder}: let VFIO Deck create one there, create the image "
        f"yourself (qemu-img create -f qcow2 {path} {size_gib}G) and choose “Existing image”, or pick "
        "a folder of a pool."
    )


def delete_volume(hv: Hypervisor, path: str) -> None:
    try:
        hv.conn.storageVolLookupByPath(path).delete(0)
    except libvirt.libvirtError as err:
        raise translate(err) from err
