"""iommu_enabled, iommu_kernel_param and acs_override: is the IOMMU on, and how was it asked for."""

from __future__ import annotations

from vfiodeck.core.checks import cmdline as kcmd
from vfiodeck.core.checks.bios import Setting, menu
from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.kparam import add_param
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.checks.vendor import Vendor, cpu_vendor

GROUPS_DIR = "sys/kernel/iommu_groups"
IOMMU_KEYS = ("intel_iommu", "amd_iommu", "iommu")

INTEL_PARAMS = "intel_iommu=on iommu=pt"
AMD_PARAM = "no kernel parameter is needed: amd_iommu is on by default on AMD"


def _bios_fix(ctx: CheckContext) -> tuple[str, str]:
    vendor = cpu_vendor(ctx.host)
    intel = f'Enable "VT-d" in the firmware ({menu(ctx.board, Setting.VTD)})'
    amd = f'Enable "IOMMU" (AMD-Vi) in the firmware ({menu(ctx.board, Setting.AMD_IOMMU)})'
    param = add_param(ctx.reader, INTEL_PARAMS)
    if vendor is Vendor.INTEL:
        return f"{intel}; then {param.text}", param.command
    if vendor is Vendor.AMD:
        return f"{amd}; {AMD_PARAM}.", ""
    return f"Intel: {intel}; then {param.text} AMD: {amd}; {AMD_PARAM}.", ""


def _disabled_by(cmdline: str | None) -> list[str]:
    """Parameters that switch the IOMMU off outright."""
    if cmdline is None:
        return []
    return [
        f"{key}=off" for key in ("intel_iommu", "amd_iommu", "iommu") if kcmd.has_value(cmdline, key, "off")
    ]


def check_iommu_enabled(ctx: CheckContext) -> Check:
    host, reader = ctx.host, ctx.reader
    title = "IOMMU enabled (IOMMU groups present)"
    groups = host.iommu.groups
    if groups:
        return Check("iommu_enabled", Status.PASS, title, f"{GROUPS_DIR}: {len(groups)} groups", "")
    # A capture that did not take the folder says nothing; the live host or a capture that
    # holds an empty folder says "off".
    if not reader.isdir(GROUPS_DIR) and not reader.root.live:
        return Check("iommu_enabled", Status.UNKNOWN, title, f"{GROUPS_DIR}: not captured", "")
    evidence = f"{GROUPS_DIR}: empty" if reader.isdir(GROUPS_DIR) else f"{GROUPS_DIR}: missing"
    fix, command = _bios_fix(ctx)
    off = _disabled_by(host.cmdline)
    if off:
        evidence += f"; proc/cmdline: {' '.join(off)}"
        fix = f"Remove {' '.join(off)} from the kernel command line. {fix}"
    return Check("iommu_enabled", Status.FAIL, title, evidence, fix, command)


def check_iommu_kernel_param(ctx: CheckContext) -> Check:
    host, reader = ctx.host, ctx.reader
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
        param = add_param(reader, INTEL_PARAMS)
        fix = f"Intel: intel_iommu=on turns the IOMMU on (iommu=pt keeps host devices fast). {param.text}"
        return Check("iommu_kernel_param", Status.WARN, title, evidence, fix, param.command)
    return Check("iommu_kernel_param", Status.UNKNOWN, title, f"{evidence} (not an x86 CPU we know)", "")


def check_acs_override(ctx: CheckContext) -> Check:
    host = ctx.host
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
        'Prefer a CPU-attached slot, a firmware "ACS Enable" switch on AMD boards '
        f"({menu(ctx.board, Setting.ACS)}), or a board with better groups; keep the override only if you "
        "accept that risk (and note stock kernels ignore it: it is a downstream patch)."
    )
    evidence = kcmd.quote(cmdline, ("pcie_acs_override",))
    return Check("acs_override", Status.WARN, title, evidence, fix)
