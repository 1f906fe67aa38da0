"""IOMMU groups from sys/kernel/iommu_groups."""

from __future__ import annotations

from vfiodeck.core.host.model import IommuGroup, IommuInfo, PciDevice, ProblemKind
from vfiodeck.core.host.sysfs import Reader

GROUPS_DIR = "sys/kernel/iommu_groups"


def scan_iommu(reader: Reader, devices: tuple[PciDevice, ...]) -> IommuInfo:
    """Groups as the kernel lists them. The IOMMU counts as enabled when at least one group
    exists: an empty ``iommu_groups`` folder is what a host with the IOMMU off shows."""
    groups: list[IommuGroup] = []
    for name in reader.listdir(GROUPS_DIR):
        if not (name.isascii() and name.isdigit()):
            reader.problem(f"{GROUPS_DIR}/{name}", ProblemKind.GARBAGE, "not a group number")
            continue
        members = reader.listdir(f"{GROUPS_DIR}/{name}/devices")
        groups.append(IommuGroup(int(name), tuple(sorted(m.lower() for m in members))))
    groups.sort(key=lambda g: g.id)
    _check_links(reader, devices, groups)
    return IommuInfo(enabled=bool(groups), groups=tuple(groups))


def _check_links(reader: Reader, devices: tuple[PciDevice, ...], groups: list[IommuGroup]) -> None:
    """A device's ``iommu_group`` link and the group folders are two views of one kernel fact;
    when a capture or a half-finished hotplug makes them disagree, say so instead of guessing."""
    listed = {address: group.id for group in groups for address in group.devices}
    for dev in devices:
        in_folder = listed.get(dev.address)
        if dev.iommu_group is None or in_folder == dev.iommu_group:
            continue
        where = f"group {in_folder} lists it" if in_folder is not None else "no group lists it"
        reader.problem(
            f"sys/bus/pci/devices/{dev.address}/iommu_group",
            ProblemKind.GARBAGE,
            f"the link says group {dev.iommu_group} but {where}",
        )
