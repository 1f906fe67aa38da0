"""Plan adding or removing host PCI devices on a domain definition, as a previewable change.

A pure function of values: the host as scanned, the domain's inactive XML and who else holds which
device. Dropping any function of a card means passing every function of its slot; bridges are never
passed; other devices in the same IOMMU groups are blockers, and the plan is refused with them named
unless the caller takes them too. The result carries the old and new XML and their unified diff, so
the window shows exactly what ``defineXML`` will receive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vfiodeck.core.host.candidates import display_name
from vfiodeck.core.host.model import HostModel
from vfiodeck.core.host.pci import address_key, short_address
from vfiodeck.core.vm.domainxml import DomainXml, diff


@dataclass(frozen=True)
class AssignmentPlan:
    domain: str
    old_xml: str
    new_xml: str
    added: tuple[str, ...] = ()  # addresses that become hostdevs
    removed: tuple[str, ...] = ()
    blockers: tuple[str, ...] = ()  # group members that must come along (or were taken along)
    elsewhere: Mapping[str, str] = field(default_factory=dict)  # address -> other VM that passes it
    refused: str | None = None  # why nothing may be applied; None when the plan can be applied

    @property
    def diff(self) -> str:
        return str(diff(self.old_xml, self.new_xml, f"{self.domain}.xml"))

    @property
    def changes(self) -> bool:
        return self.refused is None and self.old_xml != self.new_xml


def label(host: HostModel, address: str) -> str:
    dev = host.device(address)
    return f"{short_address(address)} {display_name(dev)}" if dev is not None else short_address(address)


def slot_functions(host: HostModel, addresses: Iterable[str]) -> tuple[str, ...]:
    """Every non-bridge function of the slots of ``addresses`` that the host has, sorted."""
    slots = {a.rsplit(".", 1)[0] for a in addresses}
    found = {d.address for d in host.pci_devices if d.slot in slots and not d.is_bridge}
    return tuple(sorted(found, key=address_key))


def blockers_of(host: HostModel, functions: Iterable[str]) -> tuple[str, ...]:
    """Non-bridge members of the functions' IOMMU groups that are not among the functions."""
    chosen = set(functions)
    found: set[str] = set()
    for address in chosen:
        dev = host.device(address)
        group = host.group(dev.iommu_group) if dev is not None and dev.iommu_group is not None else None
        for member in group.devices if group is not None else ():
            other = host.device(member)
            if member not in chosen and not (other is not None and other.is_bridge):
                found.add(member)
    return tuple(sorted(found, key=address_key))


def plan_assign(
    host: HostModel,
    xml: str,
    addresses: Iterable[str],
    holders: Mapping[str, str],
    *,
    take_blockers: bool = False,
) -> AssignmentPlan:
    """Pass ``addresses`` (any function of a card, or a whole group) to the domain in ``xml``.
    ``holders`` maps addresses to the VMs whose definitions pass them (this one's own are ignored)."""
    doc = DomainXml.parse(xml)
    name = doc.name or "the VM"
    wanted = [a.lower() for a in addresses]
    missing = [a for a in wanted if host.device(a) is None]
    if missing:
        text = ", ".join(short_address(a) for a in missing)
        return AssignmentPlan(name, xml, xml, refused=f"{text} is not on this host.")
    if not host.iommu.enabled:
        return AssignmentPlan(name, xml, xml, refused="The IOMMU is off on this host: nothing can be passed.")
    functions = slot_functions(host, wanted)
    if not functions:
        return AssignmentPlan(name, xml, xml, refused="Bridges stay with the host: there is nothing to pass.")
    blockers = blockers_of(host, functions)
    while blockers and take_blockers:  # a blocker's own slot may reach into another group
        functions = slot_functions(host, (*functions, *blockers))
        blockers = blockers_of(host, functions)
    elsewhere = {a: holders[a] for a in functions if a in holders and holders[a] != name}
    if blockers and not take_blockers:
        named = "; ".join(label(host, b) for b in blockers)
        return AssignmentPlan(
            name,
            xml,
            xml,
            blockers=blockers,
            elsewhere=elsewhere,
            refused=f"Its IOMMU group also holds {named}. They must go to {name} too, or the group "
            "must be split.",
        )
    already = set(doc.pci_hostdevs())
    added = tuple(a for a in functions if a not in already)
    for address in added:
        doc.add_pci_hostdev(address)
    taken = tuple(a for a in functions if a not in slot_functions(host, wanted))
    return AssignmentPlan(name, xml, doc.to_string(), added=added, blockers=taken, elsewhere=elsewhere)


def plan_remove(host: HostModel | None, xml: str, addresses: Iterable[str]) -> AssignmentPlan:
    """Take ``addresses`` (and the other functions of their slots that the VM passes) off the domain."""
    doc = DomainXml.parse(xml)
    slots = {a.lower().rsplit(".", 1)[0] for a in addresses}
    removed = tuple(a for a in doc.pci_hostdevs() if a.rsplit(".", 1)[0] in slots)
    for address in removed:
        doc.remove_pci_hostdev(address)
    return AssignmentPlan(doc.name or "the VM", xml, doc.to_string(), removed=removed)
