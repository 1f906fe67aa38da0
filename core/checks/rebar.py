"""rebar_fit: a GPU's 64-bit BARs against the guest firmware's 64-bit MMIO window.

OVMF gives PCI devices a 64-bit MMIO window of 32 GiB by default (newer builds size it from the
guest's physical address bits). A GPU whose BARs, as the host sized them or as large as Resizable
BAR lets them grow, do not fit leaves the guest without the BAR: error 43, or a driver that
refuses the card. The window is set with OVMF's fw_cfg knob ``opt/ovmf/X-PciMmio64Mb``.
"""

from __future__ import annotations

from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.host.model import PciDevice
from vfiodeck.core.text import short_address

TITLE = "GPU BARs fit the guest's 64-bit MMIO window"
DEVICES = "sys/bus/pci/devices"
OVMF_DEFAULT_MIB = 32 * 1024
MIB = 1 << 20


def _next_pow2(value: int) -> int:
    return 1 << max(value - 1, 0).bit_length()


def _rebar_mib(dev: PciDevice) -> dict[int, int]:
    """BAR index -> the largest size Resizable BAR offers, when the config space was read."""
    caps = dev.capabilities
    entries = caps.rebar if caps is not None else None
    return {entry.bar: max(entry.supported_mib) for entry in entries or () if entry.supported_mib}


def gpu_bar_mib(ctx: CheckContext, lead: PciDevice) -> tuple[int, int, list[str]] | None:
    """(MiB as sized now, MiB at the largest ReBAR size, descriptions) of one GPU's 64-bit BARs."""
    cand = next((c for c in ctx.candidates if c.device == lead.address), None)
    addresses = cand.functions if cand is not None else (lead.address,)
    now = grown = 0
    parts: list[str] = []
    seen = False
    for address in addresses:
        dev = ctx.host.device(address)
        if dev is None:
            continue
        rebar = _rebar_mib(dev)
        for bar in dev.bars:
            if bar.is_io or not bar.is_64bit or not bar.size:
                continue
            seen = True
            size_mib = max(bar.size // MIB, 1)
            now += size_mib
            top = max(size_mib, rebar.get(bar.index, 0))
            grown += top
            grow = f" (ReBAR up to {top} MiB)" if top > size_mib else ""
            parts.append(f"{short_address(address)} BAR {bar.index} {size_mib} MiB{grow}")
    return (now, grown, parts) if seen else None


def window_mib(total_mib: int) -> int:
    """A window that holds BARs of that total, each aligned to its size, with room for the rest."""
    return max(2 * _next_pow2(total_mib), 2 * OVMF_DEFAULT_MIB)


def check_rebar_fit(ctx: CheckContext) -> Check:
    if not ctx.host.pci_devices:
        return Check("rebar_fit", Status.UNKNOWN, TITLE, f"{DEVICES}: no devices read", "")
    if not ctx.gpus:
        return Check("rebar_fit", Status.PASS, TITLE, f"{DEVICES}: no GPU candidate", "")
    sized = [(gpu, found) for gpu in ctx.gpus if (found := gpu_bar_mib(ctx, gpu)) is not None]
    if not sized:
        return Check("rebar_fit", Status.UNKNOWN, TITLE, f"{DEVICES}/*/resource: GPU BARs not captured", "")
    evidence = "; ".join(", ".join(parts) for _, (_, _, parts) in sized)
    worst_gpu, (now, grown, _) = max(sized, key=lambda item: item[1][1])
    if _next_pow2(grown) <= OVMF_DEFAULT_MIB // 2:
        return Check("rebar_fit", Status.PASS, TITLE, f"{evidence} (fits OVMF's 32 GiB window)", "")
    size = window_mib(grown)
    arg = f"opt/ovmf/X-PciMmio64Mb,string={size}"
    fix = (
        f"{short_address(worst_gpu.address)} needs up to {grown} MiB of 64-bit MMIO; OVMF's default "
        f"window is 32 GiB. Give the guest a {size} MiB window: in the domain XML (with "
        "xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0' on <domain>) add "
        f"<qemu:commandline><qemu:arg value='-fw_cfg'/><qemu:arg value='{arg}'/></qemu:commandline>. "
        "The guest CPU also needs enough physical address bits (<maxphysaddr mode='passthrough'/> in <cpu>)."
    )
    return Check("rebar_fit", Status.WARN, TITLE, evidence, fix, f"-fw_cfg {arg}")
