"""Run every readiness check on one host, in a fixed order."""

from __future__ import annotations

from collections.abc import Callable

from vfiodeck.core.checks.cpu import check_cpu_virtualization
from vfiodeck.core.checks.firmware import check_firmware_uefi, check_secure_boot
from vfiodeck.core.checks.gpus import check_above_4g_decoding, check_boot_gpu, check_reset_support
from vfiodeck.core.checks.interrupts import check_interrupt_remapping
from vfiodeck.core.checks.iommu import check_acs_override, check_iommu_enabled, check_iommu_kernel_param
from vfiodeck.core.checks.memory import check_hugepages
from vfiodeck.core.checks.model import Check, Status, check_to_dict
from vfiodeck.core.checks.modules import check_vfio_modules
from vfiodeck.core.checks.ovmf import check_ovmf
from vfiodeck.core.host.model import HostModel
from vfiodeck.core.host.sysfs import Reader

# check_to_dict is re-exported: the report imports it from here.
__all__ = ["CHECK_IDS", "check_to_dict", "run_checks"]

CheckFn = Callable[[HostModel, Reader], Check]

# The order the report and the Readiness page show: firmware and CPU first, then kernel, then
# devices, then software. Ids are part of the inspect JSON contract: never rename one.
_CHECKS: tuple[tuple[str, CheckFn], ...] = (
    ("cpu_virtualization", check_cpu_virtualization),
    ("iommu_enabled", check_iommu_enabled),
    ("iommu_kernel_param", check_iommu_kernel_param),
    ("interrupt_remapping", check_interrupt_remapping),
    ("above_4g_decoding", check_above_4g_decoding),
    ("firmware_uefi", check_firmware_uefi),
    ("secure_boot", check_secure_boot),
    ("vfio_modules", check_vfio_modules),
    ("ovmf", check_ovmf),
    ("hugepages", check_hugepages),
    ("reset_support", check_reset_support),
    ("boot_gpu", check_boot_gpu),
    ("acs_override", check_acs_override),
)

CHECK_IDS: tuple[str, ...] = tuple(check_id for check_id, _ in _CHECKS)


def _run_one(check_id: str, fn: CheckFn, host: HostModel, reader: Reader) -> Check:
    # A check is a reader of odd real-world files: a bug in one must not hide the others.
    try:
        return fn(host, reader)
    except Exception as exc:  # noqa: BLE001 - turned into an "unknown" the user can report
        import logging  # only on this rare path: a plain inspect does not load logging

        logging.getLogger(__name__).exception("check %s failed", check_id)
        return Check(check_id, Status.UNKNOWN, check_id, f"internal error: {type(exc).__name__}: {exc}", "")


def run_checks(host: HostModel, reader: Reader) -> tuple[Check, ...]:
    """Every check, in ``CHECK_IDS`` order. ``reader`` must read the same root ``host`` came from;
    its ``problems`` collect what the checks could not read."""
    return tuple(_run_one(check_id, fn, host, reader) for check_id, fn in _CHECKS)
