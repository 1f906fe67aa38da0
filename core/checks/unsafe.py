"""unsafe_interrupts: vfio_iommu_type1's allow_unsafe_interrupts, a security cost worth naming.

With it, VFIO accepts devices on a host without interrupt remapping: a guest that owns a device
can then make it write MSI messages the host takes for any interrupt it likes (denial of service
of the host, or worse). Read from the loaded module's parameter, the kernel command line and
modprobe.d, so it is seen before the module is loaded too.
"""

from __future__ import annotations

from vfiodeck.core.checks import cmdline as kcmd
from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.model import Check, Status

TITLE = "Unsafe interrupts not allowed"
PARAM = "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
MODPROBE_DIRS = ("etc/modprobe.d", "usr/lib/modprobe.d", "lib/modprobe.d")
_KEY = "vfio_iommu_type1.allow_unsafe_interrupts"
_TRUE = {"1", "y", "yes", "on", "true"}
RUNTIME_OFF = f"echo N | sudo tee /{PARAM}"


def modprobe_lines(ctx: CheckContext) -> list[str]:
    """ "etc/modprobe.d/x.conf: options vfio_iommu_type1 allow_unsafe_interrupts=1" for each live line."""
    found: list[str] = []
    for folder in MODPROBE_DIRS:
        for name in ctx.reader.listdir(folder):
            text = ctx.reader.text(f"{folder}/{name}") if name.endswith(".conf") else None
            for line in (text or "").splitlines():
                words = line.split("#", 1)[0].split()
                module = words[1].replace("-", "_") if len(words) > 1 and words[0] == "options" else ""
                if module == "vfio_iommu_type1" and any(
                    w.startswith("allow_unsafe_interrupts=") for w in words[2:]
                ):
                    found.append(f"{folder}/{name}: {line.strip()}")
    return found


def _is_on(value: str) -> bool:
    return value.strip().lower() in _TRUE


def check_unsafe_interrupts(ctx: CheckContext) -> Check:
    value = ctx.reader.string(PARAM)
    cmdline = ctx.host.cmdline
    given = kcmd.values(cmdline, _KEY) if cmdline is not None else []
    configured = modprobe_lines(ctx)
    sources: list[str] = []
    on = False
    if value is not None:
        sources.append(f"{PARAM}: {value}")
        on = _is_on(value)
    if given:
        sources.append(f"proc/cmdline: {_KEY}={given[-1]}")
        on = on or (value is None and _is_on(given[-1]))
    for line in configured:
        sources.append(line)
        on = on or (value is None and _is_on(line.rsplit("allow_unsafe_interrupts=", 1)[1].split()[0]))
    if not sources:
        if cmdline is None and not ctx.reader.isdir("etc/modprobe.d"):
            return Check(
                "unsafe_interrupts", Status.UNKNOWN, TITLE, "proc/cmdline, etc/modprobe.d: not captured", ""
            )
        evidence = "not set (module parameter not loaded; not in proc/cmdline or modprobe.d)"
        return Check("unsafe_interrupts", Status.PASS, TITLE, evidence, "")
    evidence = "; ".join(sources)
    if not on:
        return Check("unsafe_interrupts", Status.PASS, TITLE, evidence, "")
    fix = (
        "allow_unsafe_interrupts lets a guest's device forge interrupts to the host (there is no "
        "remapping table to stop it): a security cost. Keep it only where the platform has no "
        "interrupt remapping and every guest is trusted; otherwise remove it from the kernel "
        "command line and modprobe.d, and switch it off now with "
        f"`{RUNTIME_OFF}` (takes effect for devices opened afterwards)."
    )
    return Check("unsafe_interrupts", Status.WARN, TITLE, evidence, fix, RUNTIME_OFF)
