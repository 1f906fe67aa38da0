"""cpu_virtualization: hardware virtualization (Intel VT-x, AMD-V) as /proc/cpuinfo shows it."""

from __future__ import annotations

from vfiodeck.core.checks.bios import Setting, menu
from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.checks.vendor import Vendor, cpu_vendor, is_x86

TITLE = "CPU virtualization (Intel VT-x / AMD-V)"
CPUINFO = "proc/cpuinfo"

_NESTED_FIX = (
    "This host is itself a virtual machine (hypervisor flag): enable nested virtualization "
    "on the outer host (kvm_intel nested=1 / kvm_amd nested=1, CPU mode host-passthrough)."
)


def _fix_for(ctx: CheckContext) -> str:
    vendor = cpu_vendor(ctx.host)
    intel = f"Enable Intel VT-x in the firmware ({menu(ctx.board, Setting.VMX)}), save and power-cycle."
    amd = f"Enable AMD-V in the firmware ({menu(ctx.board, Setting.SVM)}), save and power-cycle."
    if vendor is Vendor.INTEL:
        return intel
    if vendor is Vendor.AMD:
        return amd
    return f"{intel} On AMD: {amd}"


def check_cpu_virtualization(ctx: CheckContext) -> Check:
    host, reader = ctx.host, ctx.reader
    flags = host.cpu.flags
    if not flags:
        why = "not captured" if not reader.exists(CPUINFO) else "no flags line read"
        return Check("cpu_virtualization", Status.UNKNOWN, TITLE, f"{CPUINFO}: {why}", "")
    if not is_x86(host):
        return Check(
            "cpu_virtualization",
            Status.UNKNOWN,
            TITLE,
            f"{CPUINFO}: {host.cpu.vendor or 'non-x86'} CPU; vmx/svm are x86 flags",
            "",
        )
    if "vmx" in flags:
        return Check("cpu_virtualization", Status.PASS, TITLE, f"{CPUINFO}: flags include vmx (VT-x)", "")
    if "svm" in flags:
        return Check("cpu_virtualization", Status.PASS, TITLE, f"{CPUINFO}: flags include svm (AMD-V)", "")
    evidence = f"{CPUINFO}: flags have neither vmx nor svm"
    fix = _fix_for(ctx)
    if "hypervisor" in flags:
        evidence += " (hypervisor flag: a virtual machine)"
        fix = f"{_NESTED_FIX} {fix}"
    return Check("cpu_virtualization", Status.FAIL, TITLE, evidence, fix)
