"""Passthrough candidates and their verdicts, by the rules in DESIGN.md ("Rules the model follows").

A candidate is a slot whose first function is a GPU, NIC, USB or storage controller. Passing it
means passing every function of the slot; every non-bridge device that shares one of its IOMMU
groups and is not one of those functions is a blocker.
"""

from __future__ import annotations

from collections import defaultdict

from vfiodeck.core.host.model import (
    Binding,
    BindingMethod,
    Candidate,
    CandidateKind,
    HostModel,
    PciDevice,
)
from vfiodeck.core.host.pci import address_key
from vfiodeck.core.text import device_name, short_address

# By base class ("03") or base class + subclass ("0c03"): what a slot's first function must be.
_CANDIDATE_CLASSES: dict[str, CandidateKind] = {
    "03": CandidateKind.GPU,
    "02": CandidateKind.NIC,
    "0c03": CandidateKind.USB,
    "01": CandidateKind.STORAGE,
}


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


def _group_of(host: HostModel) -> dict[str, int]:
    """Address -> group: the group folders first, the device's own link where no folder lists it."""
    groups = {address: group.id for group in host.iommu.groups for address in group.devices}
    for dev in host.pci_devices:
        if dev.address not in groups and dev.iommu_group is not None:
            groups[dev.address] = dev.iommu_group
    return groups


def _slots(host: HostModel) -> dict[str, list[PciDevice]]:
    slots: dict[str, list[PciDevice]] = defaultdict(list)
    for dev in host.pci_devices:
        slots[dev.slot].append(dev)
    for functions in slots.values():
        functions.sort(key=lambda d: d.function)
    return slots


def find_candidates(host: HostModel) -> tuple[Candidate, ...]:
    """One candidate per slot whose first function is a GPU, NIC, USB or storage controller,
    sorted by address."""
    group_of = _group_of(host)
    members: dict[int, list[str]] = defaultdict(list)
    for address, group_id in group_of.items():
        members[group_id].append(address)
    ids_users: dict[str, set[str]] = defaultdict(set)
    for dev in host.pci_devices:
        if dev.ids:
            ids_users[dev.ids].add(dev.address)
    found: list[Candidate] = []
    for functions in _slots(host).values():
        kind = candidate_kind(functions[0])
        if kind is None:
            continue
        found.append(_judge(host, functions, kind, group_of, members, ids_users))
    found.sort(key=lambda c: address_key(c.device))
    return tuple(found)


def _judge(
    host: HostModel,
    functions: list[PciDevice],
    kind: CandidateKind,
    group_of: dict[str, int],
    members: dict[int, list[str]],
    ids_users: dict[str, set[str]],
) -> Candidate:
    addresses = tuple(sorted((f.address for f in functions), key=address_key))
    own = set(addresses)
    group_ids = tuple(sorted({group_of[a] for a in addresses if a in group_of}))
    blockers_by_group: dict[int, list[str]] = {}
    bridges = 0
    for group_id in group_ids:
        for address in sorted(members[group_id], key=address_key):
            if address in own:
                continue
            dev = host.device(address)
            # A group member we have no device for cannot be shown to be a bridge: it blocks.
            if dev is not None and dev.is_bridge:
                bridges += 1
            else:
                blockers_by_group.setdefault(group_id, []).append(address)
    blockers = tuple(sorted({a for group in blockers_by_group.values() for a in group}, key=address_key))
    ungrouped = [a for a in addresses if a not in group_of]
    isolated = host.iommu.enabled and not blockers and not ungrouped
    subject = f"{device_name(functions[0])} at {short_address(functions[0].address)}"
    if not host.iommu.enabled:
        verdict = f"{subject} cannot be judged: the IOMMU is off (no groups)"
    elif ungrouped:
        where = ", ".join(map(short_address, ungrouped))
        verdict = f"{subject} cannot be judged: {where} is in no IOMMU group"
    elif blockers:
        verdict = _blocked_verdict(host, subject, blockers_by_group)
    else:
        verdict = _alone_verdict(subject, len(addresses), group_ids, bridges)
    return Candidate(
        device=functions[0].address,
        kind=kind,
        functions=addresses,
        group_ids=group_ids,
        blockers=blockers,
        isolated=isolated,
        binding=choose_binding(functions, ids_users),
        verdict=verdict,
    )


def choose_binding(functions: list[PciDevice], ids_users: dict[str, set[str]]) -> Binding:
    """vfio-pci.ids claims every device with those ids, so use it only when no device outside
    the candidate shares one; otherwise bind by address."""
    own = {f.address for f in functions}
    ids = tuple(sorted({f.ids for f in functions if f.ids}))
    unknown = [f.address for f in functions if not f.ids]
    if unknown:
        return Binding(
            BindingMethod.DRIVER_OVERRIDE,
            ids,
            f"The ids of {', '.join(short_address(a) for a in unknown)} are unknown: bind by address.",
        )
    twins = sorted((a for i in ids for a in ids_users.get(i, ()) if a not in own), key=address_key)
    if twins:
        shared = sorted({i for i in ids if ids_users.get(i, set()) - own})
        return Binding(
            BindingMethod.DRIVER_OVERRIDE,
            ids,
            f"{', '.join(shared)} is also used by {', '.join(short_address(a) for a in twins)}: "
            "vfio-pci.ids would take that device too, so bind by address (driver_override).",
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


def _blocked_verdict(host: HostModel, subject: str, blockers_by_group: dict[int, list[str]]) -> str:
    parts = [
        f"group {group_id} also holds {', '.join(_label(host, a) for a in addresses)}"
        for group_id, addresses in sorted(blockers_by_group.items())
    ]
    return f"{subject} needs its blockers: {'; '.join(parts)}"


def _alone_verdict(subject: str, function_count: int, group_ids: tuple[int, ...], bridges: int) -> str:
    count = f"{function_count} function{'s' if function_count != 1 else ''}"
    tail = " and a bridge" if bridges == 1 else f" and {bridges} bridges" if bridges > 1 else ""
    return f"{subject} can be passed alone: {count}, {_groups_phrase(group_ids)} only them{tail}"


def _label(host: HostModel, address: str) -> str:
    dev = host.device(address)
    what = (dev.class_name or device_kind(dev)) if dev is not None else "unknown device"
    return f"{short_address(address)} {what}"
