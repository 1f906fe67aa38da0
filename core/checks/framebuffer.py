"""boot_framebuffer: the firmware's boot framebuffer (BOOTFB, efifb, vesafb, simpledrm) sits inside a
GPU's BAR. vfio-pci then cannot reserve that BAR ("BAR 0: can't reserve") and the guest shows a
black screen or error 43, until the framebuffer lets go of it.

Read from /proc/iomem (a framebuffer range nested in a PCI device's range) and from the kernel log
("pci 0000:0c:00.0: BAR 0: assigned to efifb").
"""

from __future__ import annotations

import re

from vfiodeck.core.checks.bios import Setting, menu
from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.kparam import add_param
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.host.iomem import IOMEM, parse_iomem
from vfiodeck.core.text import device_name, short_address

TITLE = "Boot framebuffer not holding a GPU's memory"
_FB_NAMES = ("bootfb", "efifb", "vesafb", "simpledrm", "simple-framebuffer", "vesa-framebuffer")
_ASSIGNED = re.compile(r"^pci (?P<addr>[0-9a-fA-F:.]+): BAR (?P<bar>\d+)\b.*assigned to (?P<fb>efifb|vesafb)")
_DRIVERS = {  # framebuffer -> (platform driver, device) for the unbind command
    "efifb": ("efi-framebuffer", "efi-framebuffer.0"),
    "vesafb": ("vesa-framebuffer", "vesa-framebuffer.0"),
}
_DEFAULT_DRIVER = ("simple-framebuffer", "simple-framebuffer.0")  # BOOTFB taken by simpledrm/simplefb
_DISABLED_BY = ("initcall_blacklist=sysfb_init", "video=efifb:off", "video=vesafb:off")


def _from_iomem(ctx: CheckContext) -> tuple[str, str, str] | None:
    """(framebuffer name, owning PCI address, evidence) from /proc/iomem, if any."""
    text = ctx.reader.text(IOMEM)
    if text is None:
        return None
    for region in parse_iomem(text):
        if region.name.lower().startswith(_FB_NAMES):
            owner = region.pci_owner()
            if owner is not None:
                return region.name, owner, f"{IOMEM}: {region.name} inside {owner}"
    return None


def _from_log(ctx: CheckContext) -> tuple[str, str, str] | None:
    for line in ctx.kernel_log.matching("assigned to efifb", "assigned to vesafb"):
        match = _ASSIGNED.match(line)
        if match is not None:
            return match.group("fb"), match.group("addr").lower(), f"kernel log: {line.strip()}"
    return None


def framebuffer_owner(ctx: CheckContext) -> tuple[str, str, str] | None:
    """(framebuffer, PCI address whose BAR holds it, evidence), from /proc/iomem or the kernel log."""
    return _from_iomem(ctx) or _from_log(ctx)


def _fix(ctx: CheckContext, framebuffer: str, gpu: str) -> tuple[str, str]:
    driver, device = _DRIVERS.get(framebuffer.lower(), _DEFAULT_DRIVER)
    unbind = f"echo {device} | sudo tee /sys/bus/platform/drivers/{driver}/unbind"
    param = add_param(ctx.reader, "initcall_blacklist=sysfb_init")
    text = (
        f"Only matters if you pass {gpu}. Three ways out, each with a cost: "
        f"(1) make another GPU the primary one in the firmware ({menu(ctx.board, Setting.PRIMARY_GPU)}): "
        "the host then boots on that one; "
        f"(2) before starting the VM, unbind the platform framebuffer (`{unbind}`): the console "
        "goes dark until a GPU driver takes over; "
        "(3) initcall_blacklist=sysfb_init on the kernel command line: no boot framebuffer at all, so "
        "boot messages and a disk passphrase prompt stay invisible until the GPU driver loads. "
        f"{param.text}"
    )
    return text, unbind


def check_boot_framebuffer(ctx: CheckContext) -> Check:
    cmdline = ctx.host.cmdline or ""
    off = [tok for tok in cmdline.split() if tok in _DISABLED_BY]
    found = framebuffer_owner(ctx)
    if found is None:
        if off:
            return Check("boot_framebuffer", Status.PASS, TITLE, f"proc/cmdline: {' '.join(off)}", "")
        if ctx.reader.text(IOMEM) is not None:
            evidence = f"{IOMEM}: no boot framebuffer inside a PCI device's range"
            return Check("boot_framebuffer", Status.PASS, TITLE, evidence, "")
        if ctx.kernel_log.lines is not None:
            evidence = f"{IOMEM}: not captured; kernel log: no 'assigned to efifb' line"
            return Check("boot_framebuffer", Status.PASS, TITLE, evidence, "")
        reason = f"{IOMEM}: not captured; {ctx.kernel_log.reason}"
        return Check("boot_framebuffer", Status.UNKNOWN, TITLE, reason, "")
    framebuffer, owner, evidence = found
    gpus = {dev.address: dev for dev in ctx.gpus}
    if owner not in gpus:
        evidence += " (not a GPU passthrough candidate)"
        return Check("boot_framebuffer", Status.PASS, TITLE, evidence, "")
    gpu = f"{short_address(owner)} ({device_name(gpus[owner])})"
    fix, command = _fix(ctx, framebuffer, gpu)
    if len(gpus) > 1:
        evidence += (
            f"; other GPUs: {', '.join(short_address(a) for a in gpus if a != owner)} (pass one of those)"
        )
        return Check("boot_framebuffer", Status.PASS, TITLE, evidence, fix, command)
    return Check("boot_framebuffer", Status.WARN, TITLE, evidence + " (the only GPU)", fix, command)
