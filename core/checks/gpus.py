"""above_4g_decoding, reset_support and boot_gpu: what the host's GPUs need from firmware and kernel."""

from __future__ import annotations

from vfiodeck.core.checks.bios import Setting, menu
from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.host.model import Bar, HostModel, PciDevice
from vfiodeck.core.text import device_name, short_address

DEVICES = "sys/bus/pci/devices"
FOUR_GIB = 1 << 32
AMD_VENDOR = "1002"


def _above_4g_fix(ctx: CheckContext) -> str:
    return (
        f'Enable "Above 4G Decoding" in the firmware ({menu(ctx.board, Setting.ABOVE_4G)}); then, for a '
        f"large GPU BAR, Resizable BAR ({menu(ctx.board, Setting.REBAR)}). Both need UEFI boot with CSM off."
    )


VENDOR_RESET_FIX = (
    "AMD Polaris/Vega/Navi GPUs may not come back after a VM shuts down: install the vendor-reset "
    "module (and, on kernels 5.15+, set its reset_method to device_specific), or plan to reboot the "
    "host between VM runs."
)


def _name(dev: PciDevice) -> str:
    return f"{short_address(dev.address)} ({device_name(dev)})"


# -- above_4g_decoding --------------------------------------------------------------------------
def _high_bar(host: HostModel) -> tuple[PciDevice, Bar] | None:
    for dev in host.pci_devices:
        for bar in dev.bars:
            if bar.is_64bit and not bar.is_io and bar.start >= FOUR_GIB:
                return dev, bar
    return None


def check_above_4g_decoding(ctx: CheckContext) -> Check:
    host = ctx.host
    title = "Above 4G Decoding (64-bit BARs above 4 GiB)"
    if not host.pci_devices:
        return Check("above_4g_decoding", Status.UNKNOWN, title, f"{DEVICES}: no devices read", "")
    high = _high_bar(host)
    if high is not None:
        dev, bar = high
        evidence = f"{DEVICES}/{dev.address}/resource: BAR {bar.index} at {bar.start:#x}"
        return Check("above_4g_decoding", Status.PASS, title, evidence, "")
    low_gpus = [g for g in ctx.gpus if g.bars]
    if low_gpus:
        gpu = low_gpus[0]
        top = max(bar.end for bar in gpu.bars)
        evidence = f"{DEVICES}/{gpu.address}/resource: all BARs below 4 GiB (highest ends {top:#x})"
        return Check("above_4g_decoding", Status.WARN, title, evidence, _above_4g_fix(ctx))
    if not any(dev.bars for dev in host.pci_devices):
        return Check("above_4g_decoding", Status.UNKNOWN, title, f"{DEVICES}/*/resource: not captured", "")
    evidence = f"{DEVICES}/*/resource: no 64-bit BAR above 4 GiB, and no GPU to judge by"
    return Check("above_4g_decoding", Status.UNKNOWN, title, evidence, "")


# -- reset_support ------------------------------------------------------------------------------
def _reset_status(dev: PciDevice) -> Status:
    methods = dev.reset_methods
    if methods is None:
        return Status.UNKNOWN
    if "flr" in methods:
        return Status.PASS
    if not methods or dev.vendor_id == AMD_VENDOR:
        return Status.WARN
    return Status.PASS  # a bus or PM reset: works when the GPU is alone behind its port


def _methods_text(dev: PciDevice) -> str:
    if dev.reset_methods is None:
        return "not captured"
    return " ".join(dev.reset_methods) or "empty (no reset method)"


def check_reset_support(ctx: CheckContext) -> Check:
    title = "GPU reset support"
    gpus = ctx.gpus
    if not gpus:
        return Check("reset_support", Status.UNKNOWN, title, f"{DEVICES}: no GPU (class 03xx)", "")
    statuses = [_reset_status(g) for g in gpus]
    parts = [f"{short_address(g.address)}/reset_method: {_methods_text(g)}" for g in gpus]
    evidence = f"{DEVICES}: " + "; ".join(parts)
    if Status.WARN in statuses:
        return Check("reset_support", Status.WARN, title, evidence, VENDOR_RESET_FIX)
    if all(s is Status.PASS for s in statuses):
        return Check("reset_support", Status.PASS, title, evidence, "")
    return Check("reset_support", Status.UNKNOWN, title, evidence, "")


# -- boot_gpu -----------------------------------------------------------------------------------
def check_boot_gpu(ctx: CheckContext) -> Check:
    title = "Boot GPU (the one the host's console uses)"
    gpus = ctx.gpus
    if not gpus:
        return Check("boot_gpu", Status.UNKNOWN, title, f"{DEVICES}: no GPU (class 03xx)", "")
    boot = [g for g in gpus if g.boot_vga]
    if not boot:
        known = any(g.boot_vga is not None for g in gpus)
        why = "no GPU has boot_vga=1" if known else "boot_vga not captured"
        return Check("boot_gpu", Status.UNKNOWN, title, f"{DEVICES}/*/boot_vga: {why}", "")
    first = boot[0]
    evidence = f"{DEVICES}/{first.address}/boot_vga: 1"
    others = [g for g in gpus if g.address != first.address]
    if not others:
        fix = (
            f"{_name(first)} is the only GPU and the host boots on it: passing it means the host gives "
            "up its console (stop the display manager, unbind efifb/simpledrm, run headless over SSH). "
            "Or add a second GPU, or use the iGPU: make it the primary display in the firmware "
            f"({menu(ctx.board, Setting.PRIMARY_GPU)}) and enable iGPU Multi-Monitor where offered."
        )
        return Check("boot_gpu", Status.WARN, title, f"{evidence} (the only GPU)", fix)
    other_names = ", ".join(_name(g) for g in others)
    fix = (
        f"The host boots on {_name(first)}: keep it for the host and pass {other_names}. To swap them, "
        f"choose the other slot as primary in the firmware ({menu(ctx.board, Setting.PRIMARY_GPU)})."
    )
    return Check("boot_gpu", Status.PASS, title, f"{evidence}; other GPUs: {other_names}", fix)
