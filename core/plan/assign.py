"""Give a PCI device to a VM (or take it back): which functions, what blocks it, who else has it.

Pure: ``plan_assign`` looks at a ``HostModel`` and the domain XMLs of every VM and returns an
``AssignPlan``; ``apply_assign`` writes it into one ``DomainXml``, whose ``diff()`` the user sees
before anything is defined.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from vfiodeck.core.host.model import HostModel, PciDevice
from vfiodeck.core.vm.domainxml import DomainXml

_NVIDIA = "10de"
# Workstation and data-centre lines: their drivers never refused to run under a hypervisor.
_NVIDIA_PRO = re.compile(
    r"quadro|tesla|nvs|grid|\bRTX A\d|\bA\d{2,3}\b|\bL\d{1,2}\b|\bH\d{3}\b", re.IGNORECASE
)

HIDE_HYPERVISOR_WHY = (
    "NVIDIA's consumer (GeForce) drivers before version 465 stop with error 43 when they see a "
    "hypervisor; hiding it (KVM signature hidden, a Hyper-V vendor id of our own) lets older "
    "drivers load, and costs nothing with newer ones."
)


@dataclass(frozen=True)
class AssignPlan:
    vm: str
    device: str  # the address the user dragged
    functions: tuple[str, ...]  # every function of its slot
    blockers: tuple[str, ...]  # other non-bridge devices in the same IOMMU groups
    add: tuple[str, ...]  # addresses the VM gets; () when refused or already there
    refused: str | None  # why nothing is added (names the blockers); None when the plan can apply
    warnings: tuple[str, ...]
    hide_hypervisor_advised: bool

    @property
    def ok(self) -> bool:
        return self.refused is None


def _describe(host: HostModel, address: str) -> str:
    dev = host.device(address)
    name = dev.device_name if dev is not None and dev.device_name else None
    return f"{address} ({name})" if name else address


def slot_functions(host: HostModel, address: str) -> tuple[str, ...]:
    dev = host.device(address)
    slot = dev.slot if dev is not None else address.rsplit(".", 1)[0]
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


def _held_elsewhere(domains: Mapping[str, DomainXml], vm: str, addresses: tuple[str, ...]) -> list[str]:
    warnings = []
    for other, doc in sorted(domains.items()):
        if other == vm:
            continue
        shared = sorted(set(addresses) & set(doc.assigned_pci_addresses()))
        if shared:
            warnings.append(
                f"VM “{other}” already has {', '.join(shared)}: only one of the two VMs can run at a time."
            )
    return warnings


def plan_assign(
    host: HostModel,
    domains: Mapping[str, DomainXml],
    vm: str,
    address: str,
    *,
    take_blockers: bool = False,
) -> AssignPlan:
    """What giving ``address`` (and the rest of its slot) to ``vm`` means."""
    address = address.lower()
    target = domains.get(vm)
    functions = slot_functions(host, address)
    blockers = group_blockers(host, functions)
    warnings: list[str] = []
    refused: str | None = None
    if target is None:
        refused = f"There is no VM called “{vm}”."
    elif host.device(address) is None:
        refused = f"The host has no PCI device {address}."
    elif blockers and not take_blockers:
        names = ", ".join(_describe(host, b) for b in blockers)
        refused = (
            f"{address} shares its IOMMU group with {names}. Give the VM those too, "
            "or split the group (ACS override, which weakens isolation)."
        )
    if not host.iommu.enabled:
        warnings.append(
            "The IOMMU is off or its groups are unknown, so devices sharing a group cannot be checked."
        )
    wanted = functions + (blockers if take_blockers else ())
    if take_blockers and blockers:
        warnings.append(f"The VM also takes {', '.join(blockers)}; the host loses them while it runs.")
    warnings.extend(_held_elsewhere(domains, vm, wanted))
    have = set(target.pci_hostdevs()) if target is not None else set()
    add = () if refused else tuple(a for a in wanted if a not in have)
    nvidia = is_nvidia_consumer_gpu(host.device(address)) and target is not None and not target.kvm_hidden()
    if nvidia:
        warnings.append(HIDE_HYPERVISOR_WHY)
    return AssignPlan(vm, address, functions, blockers, add, refused, tuple(warnings), nvidia)


def apply_assign(plan: AssignPlan, doc: DomainXml, *, hide_hypervisor: bool = False) -> tuple[str, ...]:
    """Add the plan's hostdevs to ``doc`` (and hide the hypervisor when asked). Returns what was added."""
    if not plan.ok:
        return ()
    added = tuple(a for a in plan.add if doc.add_pci_hostdev(a))
    if hide_hypervisor:
        doc.set_kvm_hidden(True)
        if doc.hyperv_vendor_id() is None:
            doc.set_hyperv_vendor_id("vfiodeck0000")
    return added


def remove_device(host: HostModel, doc: DomainXml, address: str) -> tuple[str, ...]:
    """Take ``address`` and the other functions of its slot back from ``doc``. Returns what was removed."""
    functions = slot_functions(host, address.lower())
    return tuple(a for a in functions if doc.remove_pci_hostdev(a))
