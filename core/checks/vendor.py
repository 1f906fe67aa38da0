"""Which CPU vendor the fixes should name: BIOS menus and kernel parameters differ."""

from __future__ import annotations

from enum import Enum

from vfiodeck.core.host.model import HostModel

_X86_VENDORS = {"GenuineIntel": "intel", "AuthenticAMD": "amd", "HygonGenuine": "amd"}


class Vendor(str, Enum):
    INTEL = "intel"
    AMD = "amd"  # Hygon Dhyana is a Zen licensee: same SVM and AMD-Vi
    OTHER = "other"  # not x86 (arm64) or not known


def cpu_vendor(host: HostModel) -> Vendor:
    return Vendor(_X86_VENDORS.get(host.cpu.vendor or "", "other"))


def is_x86(host: HostModel) -> bool:
    """x86 by vendor, or by flags every x86-64 CPU lists when the vendor line is odd."""
    if host.cpu.vendor in _X86_VENDORS:
        return True
    flags: frozenset[str] = host.cpu.flags
    return {"fpu", "tsc", "msr"} <= flags
