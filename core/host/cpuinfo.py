"""What /proc/cpuinfo says about the processor: vendor, model name and feature flags.

x86 kernels print ``vendor_id``, ``model name`` and ``flags`` per processor. arm64 kernels print
``CPU implementer`` (a JEDEC-style code) and ``Features`` instead, usually without a model name.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfiodeck.core.host.model import ProblemKind
from vfiodeck.core.host.sysfs import Reader

CPUINFO = "proc/cpuinfo"

# arm64 "CPU implementer" codes, as listed in the Arm Architecture Reference Manual (MIDR_EL1).
_ARM_IMPLEMENTERS = {
    0x41: "ARM",
    0x42: "Broadcom",
    0x43: "Cavium",
    0x46: "Fujitsu",
    0x48: "HiSilicon",
    0x4E: "NVIDIA",
    0x50: "APM",
    0x51: "Qualcomm",
    0x61: "Apple",
    0xC0: "Ampere",
}

# Hardware virtualization as /proc/cpuinfo flags show it (Intel VT-x, AMD-V).
_VIRT_FLAGS = ("vmx", "svm")


@dataclass(frozen=True)
class CpuinfoFacts:
    vendor: str | None
    model_name: str | None
    virtualization: str | None
    flags: frozenset[str]


def parse_cpuinfo_fields(text: str) -> dict[str, str]:
    """The first value seen for each key, across all processor blocks.

    The first block is enough on every machine we know (hybrid parts list the same flags for
    P- and E-cores); taking the first value per key still copes with a block that lacks a line.
    """
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        if key and key not in fields:
            fields[key] = value.strip()
    return fields


def arm_vendor(implementer: str) -> str | None:
    """Map an implementer code ("0x48") to a name; an unknown code keeps its number."""
    try:
        code = int(implementer, 16)
    except ValueError:
        return None
    return _ARM_IMPLEMENTERS.get(code, f"ARM implementer {implementer.lower()}")


def read_cpuinfo(reader: Reader) -> CpuinfoFacts:
    text = reader.text(CPUINFO)
    if text is None:
        return CpuinfoFacts(None, None, None, frozenset())
    fields = parse_cpuinfo_fields(text)
    vendor = fields.get("vendor_id") or None
    if vendor is None and "CPU implementer" in fields:
        vendor = arm_vendor(fields["CPU implementer"])
    model_name = fields.get("model name") or None
    # arm64 calls its feature list "Features"; the virtualization flags are x86 only.
    flags = frozenset((fields.get("flags") or fields.get("Features") or "").split())
    virtualization = next((flag for flag in _VIRT_FLAGS if flag in flags), None)
    if text.strip() and vendor is None and model_name is None and not flags:
        reader.problem(CPUINFO, ProblemKind.GARBAGE, "no vendor, model name or flags found")
    return CpuinfoFacts(vendor, model_name, virtualization, flags)
