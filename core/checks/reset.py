"""reset_bug: AMD GPUs that do not reset between VM runs without the vendor-reset module.

Polaris, Vega 10/20 and Navi 10/12/14 GPUs come back from a guest in a state a bus reset does not
clear: the second VM start hangs or shows nothing. The out-of-tree vendor-reset module resets them
the vendor's way; on kernels 5.15+ it acts only when the device's reset_method says
``device_specific``.
"""

from __future__ import annotations

from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.host.model import PciDevice
from vfiodeck.core.text import device_name, short_address

TITLE = "AMD GPU reset bug (vendor-reset)"
DEVICES = "sys/bus/pci/devices"
# The device ids vendor-reset handles, by family (gnif/vendor-reset src/device-db.h @ca6a2704).


def _ids(text: str) -> frozenset[str]:
    return frozenset(text.split())


RESET_BUG_IDS: dict[str, frozenset[str]] = {
    "Polaris 10": _ids("67c0 67c1 67c2 67c4 67c7 67d0 67df 67c8 67c9 67ca 67cc 67cf 6fdf"),
    "Polaris 11": _ids("67e0 67e3 67e8 67eb 67ef 67ff 67e1 67e7 67e9"),
    "Polaris 12": _ids("6980 6981 6985 6986 6987 6995 6997 699f"),
    "Vega 10": _ids("6860 6861 6862 6863 6864 6867 6868 6869 686a 686b 686c 686d 686e 686f 687f"),
    "Vega 20": _ids("66a0 66a1 66a2 66a3 66a4 66a7 66af 738c"),
    "Navi 10": _ids("7310 7312 7318 7319 731a 731b 731e 731f 1681"),
    "Navi 12": frozenset(("7360", "7362")),
    "Navi 14": frozenset(("7340", "7341", "7347", "734f")),
}
AMD = "1002"


def reset_bug_family(dev: PciDevice) -> str | None:
    if dev.vendor_id != AMD or dev.device_id is None:
        return None
    for family, ids in RESET_BUG_IDS.items():
        if dev.device_id in ids:
            return family
    return None


def _fix(dev: PciDevice) -> tuple[str, str]:
    command = f"echo device_specific | sudo tee {'/' + DEVICES}/{dev.address}/reset_method"
    text = (
        "Install vendor-reset (DKMS package vendor-reset-dkms, or build gnif/vendor-reset), load it "
        "at boot (`echo vendor-reset | sudo tee /etc/modules-load.d/vendor-reset.conf`), and on "
        f"kernels 5.15+ select its reset for the GPU before each VM start: `{command}` (a udev rule "
        "or a libvirt qemu hook can do it). Secure Boot needs the module signed (see lockdown)."
    )
    return text, command


def check_reset_bug(ctx: CheckContext) -> Check:
    if not ctx.candidates and not ctx.host.pci_devices:
        return Check("reset_bug", Status.UNKNOWN, TITLE, f"{DEVICES}: no devices read", "")
    affected = [(gpu, family) for gpu in ctx.gpus if (family := reset_bug_family(gpu)) is not None]
    if not affected:
        listed = ", ".join(f"{short_address(g.address)} [{g.ids}]" for g in ctx.gpus) or "no GPU"
        return Check("reset_bug", Status.PASS, TITLE, f"{DEVICES}: {listed}: none of the affected ids", "")
    parts = []
    for gpu, family in affected:
        methods = " ".join(gpu.reset_methods) if gpu.reset_methods is not None else "not captured"
        parts.append(
            f"{short_address(gpu.address)} {device_name(gpu)} [{gpu.ids}] {family}, reset_method: {methods}"
        )
    evidence = "; ".join(parts)
    pending = [
        gpu for gpu, _ in affected if not (gpu.reset_methods and gpu.reset_methods[0] == "device_specific")
    ]
    if not pending:
        return Check(
            "reset_bug", Status.PASS, TITLE, evidence + " (device_specific first: vendor-reset active)", ""
        )
    fix, command = _fix(pending[0])
    return Check("reset_bug", Status.WARN, TITLE, evidence, fix, command)
