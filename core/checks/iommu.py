"""iommu_enabled, iommu_kernel_param and acs_override: is the IOMMU on, and how was it asked for."""

from __future__ import annotations

from vfiodeck.core.checks import cmdline as kcmd
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.checks.vendor import Vendor, cpu_vendor
from vfiodeck.core.host.model import HostModel
from vfiodeck.core.host.sysfs import Reader

GROUPS_DIR = "sys/kernel/iommu_groups"
IOMMU_KEYS = ("intel_iommu", "amd_iommu", "iommu")

INTEL_BIOS = (
    'Enable "VT-d" (Intel Virtualization Technology for Directed I/O) in the BIOS '
    "(Chipset, System Agent or Advanced > CPU Configuration)"
)
AMD_BIOS = 'Enable "IOMMU" (also named "AMD-Vi") in the BIOS (Advanced > AMD CBS > NBIO Common Options)'
INTEL_PARAM = "add intel_iommu=on to the kernel command line (add iommu=pt to keep host devices fast)"
AMD_PARAM = "no kernel parameter is needed: amd_iommu is on by default on AMD"


def _bios_fix(vendor: Vendor) -> str:
    if vendor is Vendor.INTEL:
        return f"{INTEL_BIOS} and {INTEL_PARAM}."
    if vendor is Vendor.AMD:
        return f"{AMD_BIOS}; {AMD_PARAM}."
    return f"Intel: {INTEL_BIOS} and {INTEL_PARAM}. AMD: {AMD_BIOS}; {AMD_PARAM}."


def _disabled_by(cmdline: str | None) -> list[str]:
    """Parameters that switch the IOMMU off outright."""
    if cmdline is None:
        return []
    return [
        f"{key}=off" for key in ("intel_iommu", "amd_iommu", "iommu") if kcmd.has_value(cmdline, key, "off")
    ]


def check_iommu_enabled(host: HostModel, reader: Reader) -> Check:
    title = "IOMMU enabled (IOMMU groups present)"
    groups = host.iommu.groups
    if groups:
        return Check("iommu_enabled", Status.PASS, title, f"{GROUPS_DIR}: {len(groups)} groups", "")
    # A capture that did not take the folder says nothing; the live host or a capture that
    # holds an empty folder says "off".
    if not reader.isdir(GROUPS_DIR) and not reader.root.live:
        return Check("iommu_enabled", Status.UNKNOWN, title, f"{GROUPS_DIR}: not captured", "")
    evidence = f"{GROUPS_DIR}: empty" if reader.isdir(GROUPS_DIR) else f"{GROUPS_DIR}: missing"
    fix = _bios_fix(cpu_vendor(host))
    off = _disabled_by(host.cmdline)
    if off:
        evidence += f"; proc/cmdline: {' '.join(off)}"
        fix = f"Remove {' '.join(off)} from the kernel command line. {fix}"
    return Check("iommu_enabled", Status.FAIL, title, evidence, fix)


def check_iommu_kernel_param(host: HostModel, reader: Reader) -> Check:
    title = "IOMMU kernel parameters"
    cmdline = host.cmdline
    if cmdline is None:
        return Check("iommu_kernel_param", Status.UNKNOWN, title, f"{kcmd.CMDLINE}: not captured", "")
    evidence = kcmd.quote(cmdline, IOMMU_KEYS)
    off = _disabled_by(cmdline)
    if off:
        fix = f"Remove {' '.join(off)} from the kernel command line (bootloader config), then reboot."
        return Check("iommu_kernel_param", Status.FAIL, title, evidence, fix)
    vendor = cpu_vendor(host)
    intel_on = kcmd.has_value(cmdline, "intel_iommu", "on")
    if vendor is Vendor.AMD:
        return Check("iommu_kernel_param", Status.PASS, title, f"{evidence} (AMD: on by default)", "")
    if intel_on:
        return Check("iommu_kernel_param", Status.PASS, title, evidence, "")
    if vendor is Vendor.INTEL:
        if host.iommu.enabled:
            # Kernels built with CONFIG_INTEL_IOMMU_DEFAULT_ON need no parameter.
            return Check(
                "iommu_kernel_param", Status.PASS, title, f"{evidence} (on by the kernel's default)", ""
            )
        fix = f"Intel: {INTEL_PARAM}; regenerate the bootloader config and reboot."
        return Check("iommu_kernel_param", Status.WARN, title, evidence, fix)
    return Check("iommu_kernel_param", Status.UNKNOWN, title, f"{evidence} (not an x86 CPU we know)", "")


def check_acs_override(host: HostModel, reader: Reader) -> Check:
    title = "No ACS override patch in use"
    cmdline = host.cmdline
    if cmdline is None:
        return Check("acs_override", Status.UNKNOWN, title, f"{kcmd.CMDLINE}: not captured", "")
    given = kcmd.values(cmdline, "pcie_acs_override")
    if not given:
        return Check("acs_override", Status.PASS, title, f"{kcmd.CMDLINE}: no pcie_acs_override", "")
    fix = (
        "pcie_acs_override splits IOMMU groups without hardware isolation: devices the kernel "
        "shows apart may still reach each other (and the VM's memory) by peer-to-peer DMA. "
        'Prefer a CPU-attached slot, a BIOS with "ACS Enable" (AMD CBS > NBIO), or a board with '
        "better groups; keep the override only if you accept that risk."
    )
    evidence = kcmd.quote(cmdline, ("pcie_acs_override",))
    return Check("acs_override", Status.WARN, title, evidence, fix)
