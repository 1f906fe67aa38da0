"""Deleting a VM, with or without its disks.

API (``delete_vm`` blocks on libvirt: run it on a worker):
- ``disk_images(xml) -> tuple[str, ...]``: the files and block devices the definition uses as disks
  (CD-ROM images are not its own), for the confirmation that offers to delete them.
- ``delete_vm(hv, name, disks, *, expected_xml=None) -> list[str]``: refuse a running VM
  (``InvalidStateError``: its disks are in use); undefine ``name`` (NVRAM too),
  then delete the chosen disk volumes through libvirt's storage pools. With ``expected_xml`` (what
  the confirmation showed) a definition changed meanwhile is refused with a diff and nothing is
  deleted. Returns the disks that could not be deleted, each with the reason (the VM is gone by then).
"""

from __future__ import annotations

from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.domainxml import DomainXml
from vfiodeck.core.vm.errors import InvalidStateError, VmError
from vfiodeck.core.vm.history import check_unchanged
from vfiodeck.core.vm.storage import delete_volume


def disk_images(xml: str) -> tuple[str, ...]:
    sources = DomainXml.parse(xml).root.findall("./devices/disk[@device='disk']/source")
    return tuple(p for s in sources if (p := s.get("file") or s.get("dev")))


def delete_vm(hv: Hypervisor, name: str, disks: list[str], *, expected_xml: str | None = None) -> list[str]:
    if hv.domain_info(name).state.is_active:
        raise InvalidStateError(f"“{name}” is running: shut it down (or force it off) first, then delete it.")
    if expected_xml is not None:
        check_unchanged(hv, name, expected_xml, "deleted")
    hv.undefine(name, keep_nvram=False)
    left: list[str] = []
    for path in disks:
        try:
            delete_volume(hv, path)
        except VmError as err:
            left.append(f"{path}: {err}")
    return left
