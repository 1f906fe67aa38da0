"""Which group each readiness check belongs to: the CLI checklist and the Readiness page share it."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from vfiodeck.core.checks.model import Check


class Group(str, Enum):
    FIRMWARE = "Firmware"
    KERNEL = "Kernel"
    DEVICES = "Devices"
    VIRTUALIZATION = "Virtualization"


# In display order; within a group, the order of the checks in run.py.
GROUP_IDS: dict[Group, tuple[str, ...]] = {
    Group.FIRMWARE: (
        "cpu_virtualization",
        "iommu_firmware",
        "firmware_uefi",
        "secure_boot",
        "above_4g_decoding",
    ),
    Group.KERNEL: (
        "iommu_enabled",
        "iommu_kernel_param",
        "interrupt_remapping",
        "unsafe_interrupts",
        "acs_override",
        "lockdown",
        "vfio_modules",
        "kernel_vfio_modules",
    ),
    Group.DEVICES: (
        "boot_gpu",
        "boot_framebuffer",
        "reset_support",
        "reset_bug",
        "acs_path",
        "rebar_fit",
        "vfio_variant_driver",
    ),
    Group.VIRTUALIZATION: (
        "kvm_device",
        "libvirt_access",
        "ovmf",
        "hugepages",
        "hugepages_per_node",
    ),
}

_GROUP_OF: dict[str, Group] = {cid: group for group, ids in GROUP_IDS.items() for cid in ids}


def group_of(check_id: str) -> Group:
    """The group a check id is shown in; an id nobody placed goes to Kernel rather than vanish."""
    return _GROUP_OF.get(check_id, Group.KERNEL)


def grouped(checks: Iterable[Check]) -> list[tuple[Group, list[Check]]]:
    """The checks by group, groups in display order, empty groups left out."""
    by_group: dict[Group, list[Check]] = {group: [] for group in Group}
    for check in checks:
        by_group[group_of(check.id)].append(check)
    return [(group, found) for group, found in by_group.items() if found]
