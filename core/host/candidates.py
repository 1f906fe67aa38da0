"""Passthrough candidates and their verdicts, by the rules in DESIGN.md ("Rules the model follows").

A *unit* is the non-bridge functions of one slot that share one IOMMU group (without groups, the
whole slot). A unit led by a GPU, NIC, USB, storage or audio function is one candidate; in any
other unit (an LPC bridge or a dummy function 0 in front) each such function is a candidate alone.
Every other endpoint of the candidate's group blocks it; bridges never do.

Everything here runs once per scan and in time linear in the devices: group membership, slot
units and same-id maps are built once, and each candidate's blockers are cut from its group's
sorted member tuple by slicing instead of re-sorting the group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby

from vfiodeck.core.host.model import (
    Binding,
    BindingMethod,
    Candidate,
    CandidateKind,
    HostModel,
    HostUse,
    PciDevice,
)
from vfiodeck.core.host.pci import address_key
from vfiodeck.core.text import device_name, short_address

# By base class ("03") or base class + subclass ("0c03"): what makes a function a candidate.
_CANDIDATE_CLASSES: dict[str, CandidateKind] = {
    "03": CandidateKind.GPU,
    "02": CandidateKind.NIC,
    "0c03": CandidateKind.USB,
    "01": CandidateKind.STORAGE,
    "0401": CandidateKind.AUDIO,
    "0403": CandidateKind.AUDIO,
}
# What a GPU takes along from its slot when it sits in another group: HDMI audio, USB-C xHCI, UCSI.
_COMPANION_CLASSES = frozenset({"0401", "0403", "0c03", "0c80"})
_LISTED = 4  # addresses named in one sentence before "and N more"


def candidate_kind(dev: PciDevice) -> CandidateKind | None:
    class_id = dev.class_id
    if class_id is None:
        return None
    return _CANDIDATE_CLASSES.get(class_id) or _CANDIDATE_CLASSES.get(class_id[:2])


def device_kind(dev: PciDevice) -> str:
    """ "gpu", "audio", "usb", "nic", "storage", "bridge" or "other": for icons and short labels."""
    class_id = dev.class_id or ""
    base = class_id[:2]
    if base == "03":
        return "gpu"
    if class_id in ("0401", "0403"):
        return "audio"
    if class_id == "0c03":
        return "usb"
    if base == "02":
        return "nic"
    if base == "01":
        return "storage"
    if base == "06":
        return "bridge"
    return "other"


def _listed(addresses: list[str]) -> str:
    shown = ", ".join(map(short_address, addresses[:_LISTED]))
    more = len(addresses) - _LISTED
    return f"{shown} and {more} more" if more > 0 else shown


@dataclass
class _Group:
    """One IOMMU group's members in address order, and where each sits in that order."""

    members: list[str] = field(default_factory=list)
    endpoints: tuple[str, ...] = ()
    position: dict[str, int] = field(default_factory=dict)
    bridges: int = 0
    uses: list[HostUse] = field(default_factory=list)  # what the host needs of its members


class _Index:
    """The maps every candidate needs, built once per host."""

    def __init__(self, host: HostModel) -> None:
        self.host = host
        self.devices = sorted(host.pci_devices, key=lambda d: address_key(d.address))
        self.order = {dev.address: i for i, dev in enumerate(self.devices)}
        self.group_of: dict[str, int] = {}
        groups: dict[int, _Group] = defaultdict(_Group)
        for grp in host.iommu.groups:
            for address in grp.devices:
                self.group_of[address] = grp.id
                groups[grp.id].members.append(address)
        for dev in self.devices:
            if dev.address not in self.group_of and dev.iommu_group is not None:
                self.group_of[dev.address] = dev.iommu_group
                groups[dev.iommu_group].members.append(dev.address)
        for group in groups.values():
            group.members.sort(key=address_key)
            endpoints = []
            for address in group.members:
                member = host.device(address)
                # A member we have no device for cannot be shown to be a bridge: it blocks.
                if member is not None and member.is_bridge:
                    group.bridges += 1
                else:
                    endpoints.append(address)
            group.endpoints = tuple(endpoints)
            group.position = {a: i for i, a in enumerate(endpoints)}
        self.groups = dict(groups)
        self.id_users: dict[str, list[str]] = defaultdict(list)
        for dev in self.devices:
            if dev.ids:
                self.id_users[dev.ids].append(dev.address)
        self.uses: dict[str, list[HostUse]] = defaultdict(list)
        for use in host.host_uses:
            self.uses[use.address].append(use)
            if use.address in self.group_of:
                self.groups[self.group_of[use.address]].uses.append(use)

    def units(self) -> Iterable[tuple[list[PciDevice], list[PciDevice]]]:
        """(unit, slot's non-bridge functions) per unit, in address order."""
        for _, slot in groupby(self.devices, key=lambda d: d.slot):
            endpoints = [f for f in slot if not f.is_bridge]
            keys = [self.group_of.get(f.address) for f in endpoints]
            if not self.host.iommu.enabled or None in keys:
                # No groups, or a function no group lists: nothing shows the slot is split.
                keys = [None] * len(endpoints)
            by_group: dict[int | None, list[PciDevice]] = {}
            for function, key in zip(endpoints, keys, strict=True):
                by_group.setdefault(key, []).append(function)
            for unit in by_group.values():
                yield unit, endpoints

    def blockers(self, group_id: int, own: list[str]) -> tuple[str, ...]:
        """The group's endpoints without ``own``, cut by slicing around their positions."""
        group = self.groups[group_id]
        cuts = sorted(group.position[a] for a in own if a in group.position)
        if not cuts:
            return group.endpoints
        parts: list[str] = []
        start = 0
        for cut in cuts:
            parts.extend(group.endpoints[start:cut])
            start = cut + 1
        parts.extend(group.endpoints[start:])
        return tuple(parts)


def find_candidates(host: HostModel) -> tuple[Candidate, ...]:
    """Every candidate of ``host`` by DESIGN.md's rules, sorted by address. Prefer
    ``host.candidates``, which computes this once per model."""
    index = _Index(host)
    found: list[Candidate] = []
    for unit, slot in index.units():
        lead_kind = candidate_kind(unit[0])
        if lead_kind is not None:
            found.append(_judge(index, unit[0], lead_kind, unit, slot))
            continue
        for function in unit:
            kind = candidate_kind(function)
            if kind is not None:
                found.append(_judge(index, function, kind, [function], slot))
    found.sort(key=lambda c: index.order[c.device])
    return tuple(found)


def _judge(
    index: _Index, lead: PciDevice, kind: CandidateKind, functions: list[PciDevice], slot: list[PciDevice]
) -> Candidate:
    host = index.host
    addresses = [f.address for f in functions]
    group_ids = tuple(sorted({index.group_of[a] for a in addresses if a in index.group_of}))
    blockers: tuple[str, ...] = ()
    if host.iommu.enabled and len(group_ids) == 1:
        blockers = index.blockers(group_ids[0], addresses)
    elif host.iommu.enabled and group_ids:  # a slot no group fully lists: every group it touches
        found = {a for g in group_ids for a in index.blockers(g, addresses)}
        blockers = tuple(sorted(found, key=address_key))
    ungrouped = [a for a in addresses if a not in index.group_of]
    isolated = host.iommu.enabled and not blockers and not ungrouped
    subject = f"{device_name(lead)} at {short_address(lead.address)}"
    if not host.iommu.enabled:
        verdict = f"{subject} cannot be judged: the IOMMU is off (no groups)"
    elif ungrouped:
        verdict = f"{subject} cannot be judged: {_listed(ungrouped)} is in no IOMMU group"
    elif blockers:
        verdict = _blocked_verdict(host, subject, group_ids[0], blockers)
    else:
        verdict = _alone_verdict(subject, len(addresses), group_ids, index.groups[group_ids[0]].bridges)
    companions = _companions(index, kind, functions, slot)
    # A group's uses cover its functions and its blockers alike; ungrouped functions speak for themselves.
    uses = [use for g in group_ids for use in index.groups[g].uses]
    uses += [use for a in ungrouped for use in index.uses.get(a, ())]
    if not host.iommu.enabled:
        uses = [use for a in addresses for use in index.uses.get(a, ())]
    return Candidate(
        device=lead.address,
        kind=kind,
        functions=tuple(addresses),
        group_ids=group_ids,
        blockers=blockers,
        isolated=isolated,
        binding=choose_binding(functions, index.id_users),
        verdict=verdict,
        companions=companions,
        host_uses=tuple(uses),
    )


def _companions(
    index: _Index, kind: CandidateKind, functions: list[PciDevice], slot: list[PciDevice]
) -> tuple[str, ...]:
    """A GPU's own audio and USB-C functions (same vendor) that the IOMMU put in groups of their
    own: groups holding nothing else, so offering them with the GPU adds no blocker."""
    if kind is not CandidateKind.GPU or len(slot) == len(functions):
        return ()
    lead = functions[0]
    own = {f.address for f in functions}
    eligible = {
        f.address
        for f in slot
        if f.address not in own and f.vendor_id == lead.vendor_id and (f.class_id or "") in _COMPANION_CLASSES
    }
    found = []
    for address in sorted(eligible, key=index.order.__getitem__):
        group = index.groups.get(index.group_of.get(address, -1))
        if group is not None and all(a in eligible for a in group.endpoints):
            found.append(address)
    return tuple(found)


def choose_binding(functions: list[PciDevice], id_users: dict[str, list[str]]) -> Binding:
    """vfio-pci.ids claims every device with those ids, so use it only when no device outside
    the candidate shares one and none is a storage controller; otherwise bind by address."""
    own = {f.address for f in functions}
    ids = tuple(sorted({f.ids for f in functions if f.ids}))
    unknown = [f.address for f in functions if not f.ids]
    if unknown:
        return Binding(
            BindingMethod.DRIVER_OVERRIDE,
            ids,
            f"The ids of {_listed(unknown)} are unknown: bind by address.",
        )
    shared: list[str] = []
    twins: list[str] = []
    twin_count = 0
    for ids_value in ids:
        users = id_users.get(ids_value, ())
        inside = sum(1 for f in functions if f.ids == ids_value)
        if len(users) > inside:
            shared.append(ids_value)
            twin_count += len(users) - inside
            # Name a few twins: enough for the sentence, never a walk over thousands of them.
            for address in users:
                if len(twins) >= _LISTED:
                    break
                if address not in own and address not in twins:
                    twins.append(address)
    if twins:
        named = ", ".join(map(short_address, twins))
        more = twin_count - len(twins)
        tail = f" and {more} more" if more > 0 else ""
        return Binding(
            BindingMethod.DRIVER_OVERRIDE,
            ids,
            f"{', '.join(shared)} is also used by {named}{tail}: "
            "vfio-pci.ids would take that device too, so bind by address (driver_override).",
        )
    storage = [f.address for f in functions if (f.class_id or "").startswith("01")]
    if storage:
        return Binding(
            BindingMethod.DRIVER_OVERRIDE,
            ids,
            f"{_listed(storage)} is a storage controller: its model id could match a disk the host "
            "boots from, so bind by address (driver_override).",
        )
    return Binding(
        BindingMethod.IDS,
        ids,
        f"No other device uses {', '.join(ids)}, so vfio-pci.ids can claim it at boot.",
    )


def _groups_phrase(group_ids: tuple[int, ...]) -> str:
    if len(group_ids) == 1:
        return f"group {group_ids[0]} holds"
    return f"groups {', '.join(str(g) for g in group_ids)} hold"


def _blocked_verdict(host: HostModel, subject: str, group_id: int, blockers: tuple[str, ...]) -> str:
    named = ", ".join(_label(host, a) for a in blockers[:_LISTED])
    more = len(blockers) - _LISTED
    tail = f" and {more} more" if more > 0 else ""
    return f"{subject} needs its blockers: group {group_id} also holds {named}{tail}"


def _alone_verdict(subject: str, function_count: int, group_ids: tuple[int, ...], bridges: int) -> str:
    count = f"{function_count} function{'s' if function_count != 1 else ''}"
    tail = " and a bridge" if bridges == 1 else f" and {bridges} bridges" if bridges > 1 else ""
    them = "them" if function_count != 1 else "it"
    return f"{subject} can be passed alone: {count}, {_groups_phrase(group_ids)} only {them}{tail}"


def _label(host: HostModel, address: str) -> str:
    dev = host.device(address)
    what = (dev.class_name or device_kind(dev)) if dev is not None else "unknown device"
    return f"{short_address(address)} {what}"


def candidate_for(host: HostModel, address: str) -> Candidate | None:
    """The candidate of the scan whose functions include ``address``, or None."""
    for candidate in host.candidates:
        if address in candidate.functions:
            return candidate
    return None
