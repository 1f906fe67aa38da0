"""Give a PCI device to a VM (or take it back): which functions, what blocks it, who else has it.

Pure: ``plan_assign`` (one dragged address) and ``plan_assign_many`` (a whole card or group) look at a
``HostModel`` and the domain XMLs of every VM and return an ``AssignPlan``; ``apply_assign`` writes it
into one ``DomainXml`` (the hostdevs, and each device's vendor:device ids in VFIO Deck's
``<metadata>`` for the pre-flight), whose diff the user sees before anything is defined.
``assign_change``/``remove_change`` do the same on XML text and return an ``XmlChange``: the old and
new definitions and the diff between them, which is what a window confirms, defines and undoes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vfiodeck.core.host.model import HostModel, PciDevice
from vfiodeck.core.vm.domainxml import DomainXml, diff

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
    # (address, "vvvv:dddd") for every device the VM passes once applied, as the host reports them
    device_ids: tuple[tuple[str, str], ...] = ()
    blocked: bool = False  # refused only for the blockers: the same plan with take_blockers would do

    @property
    def ok(self) -> bool:
        return self.refused is None


@dataclass(frozen=True)
class XmlChange:
    """One domain definition before and after an edit: what the user confirms and undo restores."""

    vm: str
    old_xml: str
    new_xml: str
    addresses: tuple[str, ...]  # the hostdevs added (or removed)

    @property
    def diff(self) -> str:
        return diff(self.old_xml, self.new_xml, f"{self.vm}.xml")

    @property
    def changes(self) -> bool:
        return self.old_xml != self.new_xml


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


def _is_bridge(host: HostModel, address: str) -> bool:
    dev = host.device(address)
    return dev is not None and dev.is_bridge


def _functions(host: HostModel, addresses: Iterable[str]) -> tuple[str, ...]:
    """Every function of the slots of ``addresses``; bridges stay with the host."""
    found = {f for a in addresses for f in slot_functions(host, a) if not _is_bridge(host, f)}
    return tuple(sorted(found))


def functions_and_blockers(
    host: HostModel, addresses: Iterable[str], *, take_blockers: bool = False
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the functions of the slots of ``addresses``, the devices sharing their IOMMU groups).
    With ``take_blockers`` the first item is everything that has to go together (a blocker's own slot
    may reach into another group) and the second what of it was not asked for."""
    functions = _functions(host, (a.lower() for a in addresses))
    blockers = group_blockers(host, functions)
    if not take_blockers:
        return functions, blockers
    wanted = functions
    while extra := group_blockers(host, wanted):
        wanted = _functions(host, (*wanted, *extra))
    return wanted, tuple(a for a in wanted if a not in functions)


def _held_elsewhere(
    domains: Mapping[str, DomainXml], vm: str, host: HostModel, addresses: tuple[str, ...]
) -> list[str]:
    warnings = []
    for other, doc in sorted(domains.items()):
        if other == vm:
            continue
        shared = sorted(set(addresses) & set(doc.assigned_pci_addresses()))
        if shared:
            names = ", ".join(_describe(host, a) for a in shared)
            warnings.append(f"VM “{other}” already has {names}: only one of the two VMs can run at a time.")
    return warnings


def _refusal(
    host: HostModel, vm: str, known: bool, requested: tuple[str, ...], functions: tuple[str, ...]
) -> str | None:
    missing = [a for a in requested if host.device(a) is None]
    if not known:
        return f"There is no VM called “{vm}”."
    if missing:
        return f"The host has no PCI device {', '.join(missing)}."
    if not functions:
        return "Bridges stay with the host: there is nothing to pass."
    return None


def plan_assign(
    host: HostModel,
    domains: Mapping[str, DomainXml],
    vm: str,
    address: str,
    *,
    take_blockers: bool = False,
) -> AssignPlan:
    """What giving ``address`` (and the rest of its slot) to ``vm`` means."""
    return plan_assign_many(host, domains, vm, (address,), take_blockers=take_blockers)


def plan_assign_many(
    host: HostModel,
    domains: Mapping[str, DomainXml],
    vm: str,
    addresses: Iterable[str],
    *,
    take_blockers: bool = False,
) -> AssignPlan:
    """What giving ``addresses`` (a card, several, or a whole IOMMU group as dragged from the host
    view) and the rest of their slots to ``vm`` means. ``domains``: every VM's definition by name."""
    requested = tuple(dict.fromkeys(a.lower() for a in addresses))
    target = domains.get(vm)
    functions, blockers = functions_and_blockers(host, requested)
    refused = _refusal(host, vm, target is not None, requested, functions)
    blocked = refused is None and bool(blockers) and not take_blockers
    if blocked:
        names = ", ".join(_describe(host, b) for b in blockers)
        what = ", ".join(requested)
        refused = (
            f"{what} shares its IOMMU group with {names}. Give the VM those too, "
            "or split the group (ACS override, which weakens isolation)."
        )
    warnings: list[str] = []
    if not host.iommu.enabled:
        warnings.append(
            "The IOMMU is off or its groups are unknown, so devices sharing a group cannot be checked."
        )
    wanted = functions
    if take_blockers:
        wanted, blockers = functions_and_blockers(host, requested, take_blockers=True)
        if blockers:
            warnings.append(f"The VM also takes {', '.join(blockers)}; the host loses them while it runs.")
    warnings.extend(_held_elsewhere(domains, vm, host, wanted))
    have = set(target.pci_hostdevs()) if target is not None else set()
    add = () if refused else tuple(a for a in wanted if a not in have)
    nvidia = any(is_nvidia_consumer_gpu(host.device(a)) for a in functions)
    advised = nvidia and target is not None and not target.kvm_hidden()
    if advised:
        warnings.append(HIDE_HYPERVISOR_WHY)
    ids = tuple((a, i) for a in wanted if (d := host.device(a)) is not None and (i := d.ids) is not None)
    device = requested[0] if requested else ""
    return AssignPlan(vm, device, functions, blockers, add, refused, tuple(warnings), advised, ids, blocked)


def apply_assign(plan: AssignPlan, doc: DomainXml, *, hide_hypervisor: bool = False) -> tuple[str, ...]:
    """Add the plan's hostdevs to ``doc``, record their ids in its ``<metadata>`` (the pre-flight
    compares them with the host's), and hide the hypervisor when asked. Returns what was added."""
    if not plan.ok:
        return ()
    added = tuple(a for a in plan.add if doc.add_pci_hostdev(a))
    passed = set(doc.pci_hostdevs())
    for address, ids in plan.device_ids:
        if address in passed:
            doc.record_device_ids(address, ids)
    if hide_hypervisor:
        doc.set_kvm_hidden(True)
        if doc.hyperv_vendor_id() is None:
            doc.set_hyperv_vendor_id("vfiodeck0000")
    return added


def remove_device(host: HostModel | None, doc: DomainXml, address: str) -> tuple[str, ...]:
    """Take ``address`` and the other functions of its slot back from ``doc`` (with their recorded
    ids). Returns what was removed. The slot is read from the definition, so a card that left the
    host (``host`` may be None) can still be taken off."""
    slot = address.lower().rsplit(".", 1)[0]
    wanted = set(slot_functions(host, address.lower())) if host is not None else set()
    wanted |= {a for a in doc.pci_hostdevs() if a.rsplit(".", 1)[0] == slot}
    removed = tuple(a for a in sorted(wanted) if doc.remove_pci_hostdev(a))
    for a in removed:
        doc.forget_device_ids(a)
    return removed


def assign_change(plan: AssignPlan, xml: str, *, hide_hypervisor: bool = False) -> XmlChange:
    """``apply_assign`` on the definition text ``xml``: the new text and the diff to confirm."""
    doc = DomainXml.parse(xml)
    added = apply_assign(plan, doc, hide_hypervisor=hide_hypervisor)
    return XmlChange(plan.vm, xml, doc.to_string(), added)


def remove_change(host: HostModel | None, xml: str, addresses: Iterable[str]) -> XmlChange:
    """``remove_device`` for each of ``addresses`` on the definition text ``xml``."""
    doc = DomainXml.parse(xml)
    removed = tuple(a for address in addresses for a in remove_device(host, doc, address))
    return XmlChange(doc.name or "domain", xml, doc.to_string(), removed)
