"""Which PCI functions go to a VM together: the slot's functions, and what shares their IOMMU groups.

API (pure, over a ``HostModel``):
- ``slot_functions(host, address)``: every function of the address's slot.
- ``group_blockers(host, functions)``: non-bridge devices sharing an IOMMU group with ``functions``.
- ``functions_and_blockers(host, addresses, take_blockers=False)``: (what goes, what blocks it / was
  added for it).
- ``is_nvidia_consumer_gpu(dev)``: a GeForce, whose older drivers stop with error 43 under a hypervisor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from vfiodeck.core.host.model import HostModel, PciDevice
from vfiodeck.core.text import slot_of

_NVIDIA = "10de"
# Workstation and data-centre lines: their drivers never refused to run under a hypervisor.
_NVIDIA_PRO = re.compile(
    r"quadro|tesla|nvs|grid|\bRTX A\d|\bA\d{2,3}\b|\bL\d{1,2}\b|\bH\d{3}\b", re.IGNORECASE
)


def slot_functions(host: HostModel, address: str) -> tuple[str, ...]:
    dev = host.device(address)
    slot = dev.slot if dev is not None else slot_of(address)
    return tuple(sorted(d.address for d in host.pci_devices if d.slot == slot)) or (address,)


def group_blockers(host: HostModel, functions: tuple[str, ...]) -> tuple[str, ...]:
    """Devices that share an IOMMU group with ``functions`` and are neither those nor bridges."""
    blockers: set[str] = set()
    for address in functions:
        dev = host.device(address)
        group = host.group(dev.iommu_group) if dev is not None and dev.iommu_group is not None else None
        for member in group.devices if group is not None else ():
            other = host.device(member)
            if member not in functions and not (other is not None and other.is_bridge):
                blockers.add(member)
    return tuple(sorted(blockers))


def is_nvidia_consumer_gpu(dev: PciDevice | None) -> bool:
    if dev is None or dev.vendor_id != _NVIDIA or not (dev.class_id or "").startswith("03"):
        return False
    return not _NVIDIA_PRO.search(dev.device_name or "")


def _is_bridge(host: HostModel, address: str) -> bool:
    dev = host.device(address)
    return dev is not None and dev.is_bridge


def slots_functions(host: HostModel, addresses: Iterable[str]) -> tuple[str, ...]:
    """Every function of the slots of ``addresses``; bridges stay with the host."""
    found = {f for a in addresses for f in slot_functions(host, a) if not _is_bridge(host, f)}
    return tuple(sorted(found))


def functions_and_blockers(
    host: HostModel, addresses: Iterable[str], *, take_blockers: bool = False
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the functions of the slots of ``addresses``, the devices sharing their IOMMU groups).
    With ``take_blockers`` the first item is everything that has to go together (a blocker's own slot
    may reach into another group) and the second what of it was not asked for."""
    functions = slots_functions(host, (a.lower() for a in addresses))
    blockers = group_blockers(host, functions)
    if not take_blockers:
        return functions, blockers
    wanted = functions
    while extra := group_blockers(host, wanted):
        wanted = slots_functions(host, (*wanted, *extra))
    return wanted, tuple(a for a in wanted if a not in functions)
