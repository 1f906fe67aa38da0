"""IOMMU groups from sys/kernel/iommu_groups."""

from __future__ import annotations

from vfiodeck.core.host.model import IommuGroup, IommuInfo, PciDevice, ProblemKind
from vfiodeck.core.host.sysfs import Reader


def scan_iommu(reader: Reader, devices: tuple[PciDevice, ...]) -> IommuInfo:
    """Groups as the kernel lists them. The IOMMU counts as enabled when at least one group
    exists: an empty ``iommu_groups`` folder is what a host with the IOMMU off shows."""
    groups: list[IommuGroup] = []
    for name in reader.listdir("sys/kernel/iommu_groups"):
        if not name.isdigit():
            reader.problem(f"sys/kernel/iommu_groups/{name}", ProblemKind.GARBAGE, "not a group number")
            continue
        members = reader.listdir(f"sys/kernel/iommu_groups/{name}/devices")
        groups.append(IommuGroup(int(name), tuple(sorted(m.lower() for m in members))))
    groups.sort(key=lambda g: g.id)
    return IommuInfo(enabled=bool(groups), groups=tuple(groups))
