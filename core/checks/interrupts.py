"""interrupt_remapping: MSI interrupts that go through the IOMMU's remapping table.

The kernel names the irq chip of a remapped MSI "IR-PCI-MSI" (or "IR-PCI-MSIX-<BDF>") in
/proc/interrupts; without remapping the same lines read "PCI-MSI". VFIO's type1 backend refuses
devices on hosts without remapping unless allow_unsafe_interrupts is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfiodeck.core.checks import cmdline as kcmd
from vfiodeck.core.checks.bios import Setting, menu
from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.checks.vendor import Vendor, cpu_vendor
from vfiodeck.core.host.sysfs import Reader

INTERRUPTS = "proc/interrupts"
IOMMU_CLASS = "sys/class/iommu"
TITLE = "Interrupt remapping"
_ECAP_IR = 1 << 3  # VT-d extended capability register, bit 3: interrupt remapping supported
_UNSAFE = "vfio_iommu_type1.allow_unsafe_interrupts"

FIX_TAIL = (
    "If the platform cannot remap, vfio_iommu_type1.allow_unsafe_interrupts=1 lets VFIO run "
    "without it, at the cost of protection against a guest forging interrupts."
)
# What the kernel logs when it turns remapping on: Intel in either APIC mode, AMD once.
_LOG_ENABLED = (
    "Enabled IRQ remapping in x2apic mode",
    "Enabled IRQ remapping in xapic mode",
    "AMD-Vi: Interrupt remapping enabled",
)


def _fix(ctx: CheckContext) -> str:
    vendor = cpu_vendor(ctx.host)
    settings = {Vendor.INTEL: (Setting.VTD,), Vendor.AMD: (Setting.AMD_IOMMU,)}.get(
        vendor, (Setting.VTD, Setting.AMD_IOMMU)
    )
    where = "; ".join(menu(ctx.board, s) for s in settings)
    return f"Interrupt remapping comes with the IOMMU: turn it on in the firmware ({where}). {FIX_TAIL}"


@dataclass(frozen=True)
class MsiCount:
    remapped: int
    plain: int


def count_msi(text: str) -> MsiCount:
    """Count MSI lines by chip name; the name is one whitespace-separated field of the line,
    "IR-PCI-MSI", "IR-PCI-MSIX-0000:03:00.0" or (older kernels) "IR-PCI-MSI-edge"."""
    remapped = plain = 0
    for line in text.splitlines():
        fields = line.split()
        if any(f.startswith("IR-PCI-MSI") for f in fields):
            remapped += 1
        elif any(f.startswith("PCI-MSI") for f in fields):
            plain += 1
    return MsiCount(remapped, plain)


def _ecap_evidence(reader: Reader) -> str | None:
    """What the VT-d capability register says the hardware can do (not whether it is on)."""
    for unit in reader.listdir(IOMMU_CLASS):
        rel = f"{IOMMU_CLASS}/{unit}/intel-iommu/ecap"
        value = reader.integer(rel, 16)
        if value is not None:
            able = "supports" if value & _ECAP_IR else "lacks"
            return f"{rel}: {value:#x} (hardware {able} remapping; whether it is on is not captured)"
    return None


def log_remapping(lines: list[str]) -> str | None:
    """The kernel's own line saying remapping is on ("DMAR-IR: Enabled IRQ remapping in xapic mode")."""
    for line in lines:
        if any(needle in line for needle in _LOG_ENABLED):
            return line.strip()
    return None


def check_interrupt_remapping(ctx: CheckContext) -> Check:
    host, reader = ctx.host, ctx.reader
    text = reader.text(INTERRUPTS)
    counts = count_msi(text) if text is not None else MsiCount(0, 0)
    logged = log_remapping(ctx.kernel_log.matching(*_LOG_ENABLED))
    if counts.remapped:
        evidence = f"{INTERRUPTS}: {counts.remapped} IR-PCI-MSI lines"
        if logged:
            evidence += f"; kernel log: {logged}"
        return Check("interrupt_remapping", Status.PASS, TITLE, evidence, "")
    if logged:
        return Check("interrupt_remapping", Status.PASS, TITLE, f"kernel log: {logged}", "")
    if counts.plain:
        evidence = f"{INTERRUPTS}: {counts.plain} PCI-MSI lines, none IR-PCI-MSI (remapping off)"
        if host.cmdline is not None and kcmd.values(host.cmdline, _UNSAFE):
            evidence += f"; proc/cmdline: {_UNSAFE}={kcmd.values(host.cmdline, _UNSAFE)[-1]}"
            return Check("interrupt_remapping", Status.WARN, TITLE, evidence, _fix(ctx))
        return Check("interrupt_remapping", Status.FAIL, TITLE, evidence, _fix(ctx))
    ecap = _ecap_evidence(reader)
    if ecap is not None:
        return Check("interrupt_remapping", Status.UNKNOWN, TITLE, ecap, "")
    why = "not captured" if text is None else "no MSI interrupts listed"
    log = "kernel log: no remapping line" if ctx.kernel_log.lines is not None else ctx.kernel_log.reason
    reason = f"{INTERRUPTS}: {why}; {log}"
    return Check("interrupt_remapping", Status.UNKNOWN, TITLE, reason, "")
