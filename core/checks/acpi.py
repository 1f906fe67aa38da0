"""iommu_firmware: the firmware describes an IOMMU to the OS (ACPI DMAR on Intel, IVRS on AMD).

No table means the firmware switched the IOMMU off (VT-d / IOMMU disabled in setup) or never had
one: no kernel parameter can make up for it. The table files are root-only, but their names are
listed for everyone; the kernel log also names them at boot ("ACPI: DMAR 0x...").
"""

from __future__ import annotations

from vfiodeck.core.checks.bios import Setting, menu
from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.checks.vendor import Vendor, cpu_vendor, is_x86

TABLES = "sys/firmware/acpi/tables"
TITLE = "IOMMU described by firmware (ACPI DMAR / IVRS)"
_IOMMU_TABLES = ("DMAR", "IVRS")


def _log_tables(ctx: CheckContext) -> list[str]:
    return [line for line in ctx.kernel_log.matching("ACPI: DMAR", "ACPI: IVRS") if line.startswith("ACPI: ")]


def _fix(ctx: CheckContext) -> str:
    vendor = cpu_vendor(ctx.host)
    if vendor is Vendor.AMD:
        where = menu(ctx.board, Setting.AMD_IOMMU)
        return f"Turn the IOMMU on in the firmware: {where}. Save, power-cycle and check again."
    if vendor is Vendor.INTEL:
        where = menu(ctx.board, Setting.VTD)
        return f"Turn VT-d on in the firmware: {where}. Save, power-cycle and check again."
    return (
        f"Turn the IOMMU on in the firmware. Intel: {menu(ctx.board, Setting.VTD)}. "
        f"AMD: {menu(ctx.board, Setting.AMD_IOMMU)}."
    )


def check_iommu_firmware(ctx: CheckContext) -> Check:
    reader = ctx.reader
    names = [n for n in reader.listdir(TABLES) if n[:4].isupper()]  # not the data/ and dynamic/ folders
    found = [name for name in names if name.rstrip("0123456789") in _IOMMU_TABLES]
    if found:
        return Check("iommu_firmware", Status.PASS, TITLE, f"{TABLES}: {', '.join(found)} present", "")
    logged = _log_tables(ctx)
    if logged:
        return Check("iommu_firmware", Status.PASS, TITLE, f"kernel log: {logged[0]}", "")
    if not is_x86(ctx.host) and (names or ctx.host.cpu.vendor):
        what = "IORT present (Arm SMMU)" if "IORT" in names else "an x86 table"
        return Check("iommu_firmware", Status.UNKNOWN, TITLE, f"{TABLES}: not x86; DMAR/IVRS are {what}", "")
    if names:
        evidence = f"{TABLES}: {len(names)} tables, neither DMAR nor IVRS"
        return Check("iommu_firmware", Status.FAIL, TITLE, evidence, _fix(ctx))
    if ctx.kernel_log.lines:
        evidence = f"{TABLES}: not captured; kernel log: no 'ACPI: DMAR' or 'ACPI: IVRS' line"
        if any(line.startswith("ACPI: ") for line in ctx.kernel_log.lines):
            return Check("iommu_firmware", Status.FAIL, TITLE, evidence, _fix(ctx))
        return Check("iommu_firmware", Status.UNKNOWN, TITLE, evidence + " (no ACPI lines at all)", "")
    return Check(
        "iommu_firmware", Status.UNKNOWN, TITLE, f"{TABLES}: not captured; {ctx.kernel_log.reason}", ""
    )
