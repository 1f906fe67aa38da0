"""Run every readiness check on one host, in a fixed order."""

from __future__ import annotations

import sys
from collections.abc import Callable

from vfiodeck.core.checks.acpi import check_iommu_firmware
from vfiodeck.core.checks.acs import check_acs_path
from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.cpu import check_cpu_virtualization
from vfiodeck.core.checks.firmware import check_firmware_uefi, check_secure_boot
from vfiodeck.core.checks.framebuffer import check_boot_framebuffer
from vfiodeck.core.checks.gpus import check_above_4g_decoding, check_boot_gpu, check_reset_support
from vfiodeck.core.checks.groups import GROUP_IDS
from vfiodeck.core.checks.interrupts import check_interrupt_remapping
from vfiodeck.core.checks.iommu import check_acs_override, check_iommu_enabled, check_iommu_kernel_param
from vfiodeck.core.checks.kmodules import check_kernel_vfio_modules
from vfiodeck.core.checks.kvm import check_kvm_device
from vfiodeck.core.checks.libvirt import check_libvirt_access
from vfiodeck.core.checks.lockdown import check_lockdown
from vfiodeck.core.checks.memory import check_hugepages
from vfiodeck.core.checks.model import Check, Status, check_to_dict
from vfiodeck.core.checks.modules import check_vfio_modules
from vfiodeck.core.checks.ovmf import check_ovmf
from vfiodeck.core.checks.pernode import check_hugepages_per_node
from vfiodeck.core.checks.rebar import check_rebar_fit
from vfiodeck.core.checks.reset import check_reset_bug
from vfiodeck.core.checks.unsafe import check_unsafe_interrupts
from vfiodeck.core.checks.variant import check_vfio_variant_driver
from vfiodeck.core.host.model import Candidate, HostModel
from vfiodeck.core.host.sysfs import Reader

# check_to_dict is re-exported: the report imports it from here.
__all__ = ["CHECK_IDS", "check_to_dict", "run_checks", "run_in_context"]

CheckFn = Callable[[CheckContext], Check]

# Ids are part of the JSON contract: never rename one. The order is groups.py's display order.
_FUNCTIONS: dict[str, CheckFn] = {
    "cpu_virtualization": check_cpu_virtualization,
    "iommu_firmware": check_iommu_firmware,
    "firmware_uefi": check_firmware_uefi,
    "secure_boot": check_secure_boot,
    "above_4g_decoding": check_above_4g_decoding,
    "iommu_enabled": check_iommu_enabled,
    "iommu_kernel_param": check_iommu_kernel_param,
    "interrupt_remapping": check_interrupt_remapping,
    "unsafe_interrupts": check_unsafe_interrupts,
    "acs_override": check_acs_override,
    "lockdown": check_lockdown,
    "vfio_modules": check_vfio_modules,
    "kernel_vfio_modules": check_kernel_vfio_modules,
    "boot_gpu": check_boot_gpu,
    "boot_framebuffer": check_boot_framebuffer,
    "reset_support": check_reset_support,
    "reset_bug": check_reset_bug,
    "acs_path": check_acs_path,
    "rebar_fit": check_rebar_fit,
    "vfio_variant_driver": check_vfio_variant_driver,
    "kvm_device": check_kvm_device,
    "libvirt_access": check_libvirt_access,
    "ovmf": check_ovmf,
    "hugepages": check_hugepages,
    "hugepages_per_node": check_hugepages_per_node,
}

CHECK_IDS: tuple[str, ...] = tuple(cid for ids in GROUP_IDS.values() for cid in ids if cid in _FUNCTIONS)
_CHECKS: tuple[tuple[str, CheckFn], ...] = tuple((cid, _FUNCTIONS[cid]) for cid in CHECK_IDS)


def _run_one(check_id: str, fn: CheckFn, ctx: CheckContext) -> Check:
    # A check is a reader of odd real-world files: a bug in one must not hide the others.
    try:
        return fn(ctx)
    except Exception as exc:  # noqa: BLE001 - turned into an "unknown" the user can report
        logging = sys.modules.get("logging")  # loaded by the window, or by the CLI with -v
        if logging is not None:
            logging.getLogger(__name__).exception("check %s failed", check_id)
        return Check(check_id, Status.UNKNOWN, check_id, f"internal error: {type(exc).__name__}: {exc}", "")


def run_in_context(ctx: CheckContext) -> tuple[Check, ...]:
    return tuple(_run_one(check_id, fn, ctx) for check_id, fn in _CHECKS)


def run_checks(host: HostModel, reader: Reader, candidates: tuple[Candidate, ...]) -> tuple[Check, ...]:
    """Every check, in ``CHECK_IDS`` order. ``reader`` must read the same root ``host`` came from,
    and ``candidates`` are the scan's (checks never compute them again); the reader's
    ``problems`` collect what the checks could not read."""
    return run_in_context(CheckContext(host, reader, candidates))
