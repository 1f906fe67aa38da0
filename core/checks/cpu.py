"""cpu_virtualization: hardware virtualization (Intel VT-x, AMD-V) as /proc/cpuinfo shows it."""

from __future__ import annotations

from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.checks.vendor import Vendor, cpu_vendor, is_x86
from vfiodeck.core.host.model import HostModel
from vfiodeck.core.host.sysfs import Reader

TITLE = "CPU virtualization (Intel VT-x / AMD-V)"
CPUINFO = "proc/cpuinfo"

INTEL_FIX = (
    'Enable "Intel Virtualization Technology" (Intel VT-x) in the BIOS CPU menu '
    "(Advanced > CPU Configuration), save and power-cycle."
)
AMD_FIX = (
    'Enable "SVM Mode" in the BIOS CPU menu (Advanced > CPU Configuration; '
    "on some boards under OC or AMD CBS), save and power-cycle."
)
_NESTED_FIX = (
    "This host is itself a virtual machine (hypervisor flag): enable nested virtualization "
    "on the outer host (kvm_intel nested=1 / kvm_amd nested=1, CPU mode host-passthrough)."
)


def _fix_for(vendor: Vendor) -> str:
    if vendor is Vendor.INTEL:
        return INTEL_FIX
    if vendor is Vendor.AMD:
        return AMD_FIX
    return f"{INTEL_FIX} On AMD: {AMD_FIX}"


def check_cpu_virtualization(host: HostModel, reader: Reader) -> Check:
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
    fix = _fix_for(cpu_vendor(host))
    if "hypervisor" in flags:
        evidence += " (hypervisor flag: a virtual machine)"
        fix = f"{_NESTED_FIX} {fix}"
    return Check("cpu_virtualization", Status.FAIL, TITLE, evidence, fix)
