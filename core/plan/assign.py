"""Give PCI devices to a VM, or take them back: the proposal a window shows before anything is defined.

API (pure; ``definitions`` maps every VM's name to its inactive domain XML text, as
``core.vm.inventory.read_definitions`` reads it):
- ``propose_assign(host, definitions, vm, addresses, take_blockers=False, *, hide_hypervisor=None)
  -> Proposal``: the slots of ``addresses`` go to ``vm``. Devices sharing their IOMMU groups
  ("blockers") are added only when ``take_blockers`` is True; otherwise the proposal is refused with a
  ``BLOCKERS_NEEDED`` note naming them. ``hide_hypervisor``: None follows the advice (on for a GeForce
  whose VM does not hide it yet), True/False is the user's choice; either way a ``HIDE_HYPERVISOR``
  note says whether the change includes it, so the user can untick it and propose again.
- ``propose_remove(host, definitions, vm, addresses) -> Proposal``: take the slots of ``addresses``
  (and their recorded ids) off ``vm``; ``host`` may be None (a card that left the host).
- ``Proposal``: ``change`` (an ``XmlChange``: ``old_xml``/``before``, ``new_xml``/``after``, ``diff``,
  ``addresses``) or None when ``refused`` says why; ``notes``: typed ``Note(kind, text, devices, vms,
  applied)``; ``note(kind)`` finds one. Never match notes by their text.
Apply a proposal with ``core.vm.history.apply_define(hv, vm, change.old_xml, change.new_xml)``.

Older API kept until the VMs page moves to proposals: ``plan_assign``/``plan_assign_many``
(``AssignPlan``), ``apply_assign``, ``assign_change``, ``remove_change``, ``remove_device``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.plan.groups import (
    functions_and_blockers,
    group_blockers,
    is_nvidia_consumer_gpu,
    slot_functions,
)
from vfiodeck.core.text import device_label, slot_of
from vfiodeck.core.vm.domainxml import DomainXml, DomainXmlError
from vfiodeck.core.vm.history import XmlChange

__all__ = [
    "HIDE_HYPERVISOR_WHY",
    "HIDDEN_VENDOR_ID",
    "AssignPlan",
    "Note",
    "NoteKind",
    "Proposal",
    "XmlChange",
    "apply_assign",
    "assign_change",
    "functions_and_blockers",
    "group_blockers",
    "is_nvidia_consumer_gpu",
    "plan_assign",
    "plan_assign_many",
    "propose_assign",
    "propose_remove",
    "remove_change",
    "remove_device",
    "slot_functions",
]

HIDE_HYPERVISOR_WHY = (
    "NVIDIA's consumer (GeForce) drivers before version 465 stop with error 43 when they see a "
    "hypervisor; hiding it (KVM signature hidden, a Hyper-V vendor id of our own) lets older "
    "drivers load, and costs nothing with newer ones."
)
HIDDEN_VENDOR_ID = "vfiodeck0000"


class NoteKind(str, Enum):
    HIDE_HYPERVISOR = "hide-hypervisor"  # optional; ``applied`` says whether the change includes it
    BLOCKERS_NEEDED = "blockers-needed"  # refused: propose again with take_blockers=True to take them
    BLOCKERS_TAKEN = "blockers-taken"  # the VM also takes these; the host loses them while it runs
    HELD_ELSEWHERE = "held-elsewhere"  # another VM passes these too: only one of them can run
    IOMMU_UNKNOWN = "iommu-unknown"  # no IOMMU groups: sharing cannot be checked
    ALREADY_PASSED = "already-passed"  # nothing to add: the VM has them all
    NOT_PASSED = "not-passed"  # removal: the VM does not have them
    MEMORY_OVER_NODE = "memory-over-node"  # a new VM: more memory than its NUMA node has
    PINNING_SHORT = "pinning-short"  # a new VM: fewer pinned vCPUs than asked (the host keeps a core)


@dataclass(frozen=True)
class Note:
    kind: NoteKind
    text: str
    devices: tuple[str, ...] = ()
    vms: tuple[str, ...] = ()
    applied: bool | None = None  # for an optional change: is it in the proposal's XML?


@dataclass(frozen=True)
class Proposal:
    vm: str
    requested: tuple[str, ...]
    functions: tuple[str, ...]  # the slots' functions (bridges excepted)
    blockers: tuple[str, ...]  # the groups' other endpoints, taken or not
    change: XmlChange | None  # None when refused
    notes: tuple[Note, ...]
    refused: str | None = None

    @property
    def ok(self) -> bool:
        return self.refused is None and self.change is not None

    def note(self, kind: NoteKind) -> Note | None:
        return next((n for n in self.notes if n.kind is kind), None)


def _names(host: HostModel | None, addresses: Iterable[str]) -> str:
    return ", ".join(device_label(host.device(a) if host else None, a) for a in addresses)


def _parse_others(definitions: Mapping[str, str], vm: str) -> dict[str, DomainXml]:
    """The other VMs' definitions; one that does not parse is left out of the "held elsewhere" check."""
    docs: dict[str, DomainXml] = {}
    for name, xml in definitions.items():
        if name != vm:
            try:
                docs[name] = DomainXml.parse(xml)
            except DomainXmlError:
                continue
    return docs


def _held_notes(host: HostModel, others: Mapping[str, DomainXml], wanted: tuple[str, ...]) -> list[Note]:
    notes = []
    for other, doc in sorted(others.items()):
        shared = tuple(sorted(set(wanted) & set(doc.assigned_pci_addresses())))
        if shared:
            text = (
                f"VM “{other}” already has {_names(host, shared)}: only one of the two VMs can run at a time."
            )
            notes.append(Note(NoteKind.HELD_ELSEWHERE, text, shared, (other,)))
    return notes


def _refusal(
    host: HostModel, definitions: Mapping[str, str], vm: str, requested: tuple[str, ...]
) -> str | None:
    missing = [a for a in requested if host.device(a) is None]
    if vm not in definitions:
        return f"There is no VM called “{vm}”."
    if missing:
        return f"The host has no PCI device {', '.join(missing)}."
    return None


def _refused(vm: str, requested: tuple[str, ...], functions: tuple[str, ...], blockers: tuple[str, ...],
             why: str, notes: Iterable[Note] = ()) -> Proposal:  # fmt: skip
    return Proposal(vm, requested, functions, blockers, None, tuple(notes), why)


def write_assignment(
    host: HostModel, doc: DomainXml, addresses: Iterable[str], *, hide_hypervisor: bool
) -> tuple[str, ...]:
    """Add hostdevs for ``addresses`` to ``doc`` with each device's ids in VFIO Deck's ``<metadata>``
    (the pre-flight compares them with the host's); hide the hypervisor when asked. Returns what was added."""
    wanted = tuple(addresses)
    added = tuple(a for a in wanted if doc.add_pci_hostdev(a))
    for address in wanted:
        dev = host.device(address)
        if dev is not None and dev.ids is not None:
            doc.record_device_ids(address, dev.ids)
    if hide_hypervisor:
        doc.set_kvm_hidden(True)
        if doc.hyperv_vendor_id() is None:
            doc.set_hyperv_vendor_id(HIDDEN_VENDOR_ID)
    return added


def propose_assign(
    host: HostModel,
    definitions: Mapping[str, str],
    vm: str,
    addresses: Iterable[str],
    take_blockers: bool = False,
    *,
    hide_hypervisor: bool | None = None,
) -> Proposal:
    """What giving ``addresses`` (a card, several, or a whole IOMMU group) and the rest of their slots
    to ``vm`` changes in its definition, with notes on everything the user should know."""
    requested = tuple(dict.fromkeys(a.lower() for a in addresses))
    functions, blockers = functions_and_blockers(host, requested)
    refused = _refusal(host, definitions, vm, requested)
    if refused is None and not functions:
        refused = "Bridges stay with the host: there is nothing to pass."
    if refused is not None:
        return _refused(vm, requested, functions, blockers, refused)
    try:
        doc = DomainXml.parse(definitions[vm])
    except DomainXmlError as err:
        return _refused(vm, requested, functions, blockers, f"The definition of “{vm}” is {err}.")
    notes: list[Note] = []
    if not host.iommu.enabled:
        text = "The IOMMU is off or its groups are unknown, so devices sharing a group cannot be checked."
        notes.append(Note(NoteKind.IOMMU_UNKNOWN, text))
    if blockers and not take_blockers:
        text = (
            f"{_names(host, requested)} shares its IOMMU group with {_names(host, blockers)}. Give the VM "
            "those too, or split the group (ACS override, which weakens isolation)."
        )
        return _refused(
            vm, requested, functions, blockers, text, [Note(NoteKind.BLOCKERS_NEEDED, text, blockers)]
        )
    wanted, taken = (
        functions_and_blockers(host, requested, take_blockers=True) if blockers else (functions, ())
    )
    if taken:
        text = f"The VM also takes {_names(host, taken)}; the host loses them while it runs."
        notes.append(Note(NoteKind.BLOCKERS_TAKEN, text, taken))
    notes += _held_notes(host, _parse_others(definitions, vm), wanted)
    advised = any(is_nvidia_consumer_gpu(host.device(a)) for a in wanted) and not doc.kvm_hidden()
    hide = advised if hide_hypervisor is None else hide_hypervisor and not doc.kvm_hidden()
    if advised or hide:
        gpus = tuple(a for a in wanted if is_nvidia_consumer_gpu(host.device(a)))
        notes.append(Note(NoteKind.HIDE_HYPERVISOR, HIDE_HYPERVISOR_WHY, gpus, applied=hide))
    already = set(doc.pci_hostdevs())
    added = write_assignment(host, doc, wanted, hide_hypervisor=hide)
    if not added and set(wanted) <= already:
        notes.append(Note(NoteKind.ALREADY_PASSED, f"“{vm}” already passes {_names(host, wanted)}.", wanted))
    change = XmlChange(vm, definitions[vm], doc.to_string(), added)
    return Proposal(vm, requested, functions, taken or blockers, change, tuple(notes))


def propose_remove(
    host: HostModel | None, definitions: Mapping[str, str], vm: str, addresses: Iterable[str]
) -> Proposal:
    """What taking ``addresses`` and the other functions of their slots off ``vm`` changes. The slots
    are read from the definition too, so a card that left the host can still be taken off."""
    requested = tuple(dict.fromkeys(a.lower() for a in addresses))
    if vm not in definitions:
        return _refused(vm, requested, (), (), f"There is no VM called “{vm}”.")
    try:
        doc = DomainXml.parse(definitions[vm])
    except DomainXmlError as err:
        return _refused(vm, requested, (), (), f"The definition of “{vm}” is {err}.")
    removed = tuple(a for address in requested for a in remove_device(host, doc, address))
    notes = []
    if not removed:
        text = f"“{vm}” does not pass {_names(host, requested)}."
        notes.append(Note(NoteKind.NOT_PASSED, text, requested))
    change = XmlChange(vm, definitions[vm], doc.to_string(), removed)
    return Proposal(vm, requested, removed, (), change, tuple(notes))


def remove_device(host: HostModel | None, doc: DomainXml, address: str) -> tuple[str, ...]:
    """Take ``address`` and the other functions of its slot back from ``doc`` (with their recorded
    ids). Returns what was removed."""
    slot = slot_of(address.lower())
    wanted = set(slot_functions(host, address.lower())) if host is not None else set()
    wanted |= {a for a in doc.pci_hostdevs() if slot_of(a) == slot}
    removed = tuple(a for a in sorted(wanted) if doc.remove_pci_hostdev(a))
    for a in removed:
        doc.forget_device_ids(a)
    return removed


# -- the older API, until the VMs page moves to proposals -------------------------------------------


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
    device_ids: tuple[tuple[str, str], ...] = ()
    blocked: bool = False  # refused only for the blockers: the same plan with take_blockers would do

    @property
    def ok(self) -> bool:
        return self.refused is None


def plan_assign(
    host: HostModel, domains: Mapping[str, DomainXml], vm: str, address: str, *, take_blockers: bool = False
) -> AssignPlan:
    return plan_assign_many(host, domains, vm, (address,), take_blockers=take_blockers)


def plan_assign_many(
    host: HostModel,
    domains: Mapping[str, DomainXml],
    vm: str,
    addresses: Iterable[str],
    *,
    take_blockers: bool = False,
) -> AssignPlan:
    """``propose_assign`` in the older shape (without hiding the hypervisor)."""
    texts = {name: doc.to_string() for name, doc in domains.items()}
    p = propose_assign(host, texts, vm, addresses, take_blockers, hide_hypervisor=False)
    hide = p.note(NoteKind.HIDE_HYPERVISOR)
    warnings = tuple(n.text for n in p.notes if n.kind is not NoteKind.ALREADY_PASSED)
    wanted = p.functions + tuple(a for a in p.blockers if take_blockers)
    ids = tuple((a, i) for a in sorted(wanted) if (d := host.device(a)) is not None and (i := d.ids))
    add = p.change.addresses if p.change is not None else ()
    blocked = p.note(NoteKind.BLOCKERS_NEEDED) is not None
    device = p.requested[0] if p.requested else ""
    return AssignPlan(
        vm, device, p.functions, p.blockers, add, p.refused, warnings, hide is not None, ids, blocked
    )


def apply_assign(plan: AssignPlan, doc: DomainXml, *, hide_hypervisor: bool = False) -> tuple[str, ...]:
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
            doc.set_hyperv_vendor_id(HIDDEN_VENDOR_ID)
    return added


def assign_change(plan: AssignPlan, xml: str, *, hide_hypervisor: bool = False) -> XmlChange:
    doc = DomainXml.parse(xml)
    added = apply_assign(plan, doc, hide_hypervisor=hide_hypervisor)
    return XmlChange(plan.vm, xml, doc.to_string(), added)


def remove_change(host: HostModel | None, xml: str, addresses: Iterable[str]) -> XmlChange:
    doc = DomainXml.parse(xml)
    removed = tuple(a for address in addresses for a in remove_device(host, doc, address))
    return XmlChange(doc.name or "domain", xml, doc.to_string(), removed)
