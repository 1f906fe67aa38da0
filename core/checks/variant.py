"""vfio_variant_driver: a device-specific VFIO driver (mlx5_vfio_pci, xe_vfio_pci, ...) that libvirt
10.0+ picks instead of plain vfio-pci, by matching the device's modalias against the
``vfio_pci:`` lines of the running kernel's modules.alias (managed='yes' hostdevs).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.host.model import PciDevice
from vfiodeck.core.text import short_address

TITLE = "VFIO variant drivers libvirt would pick"
DEVICES = "sys/bus/pci/devices"
GENERIC = "vfio_pci"


@dataclass(frozen=True)
class VariantAlias:
    pattern: str  # the modalias pattern after "vfio_pci:" ("v000015B3d00001021sv*sd*bc*sc*i*")
    module: str


def parse_vfio_aliases(text: str) -> tuple[VariantAlias, ...]:
    """The variant-driver lines of modules.alias ("alias vfio_pci:v...d... mlx5_vfio_pci")."""
    found: list[VariantAlias] = []
    for line in text.splitlines():
        words = line.split()
        if (
            len(words) == 3
            and words[0] == "alias"
            and words[1].startswith("vfio_pci:")
            and words[2] != GENERIC
        ):
            found.append(VariantAlias(words[1][len("vfio_pci:") :], words[2]))
    return tuple(found)


def modalias_of(ctx: CheckContext, dev: PciDevice) -> str | None:
    """The device's modalias without "pci:" ("v000010DEd00001B80sv...bc03sc00i00")."""
    text = ctx.reader.string(f"{DEVICES}/{dev.address}/modalias")
    if text and text.startswith("pci:"):
        return text[4:]
    if not (dev.vendor_id and dev.device_id and dev.class_code):
        return None
    sub_v = (dev.subsystem_vendor_id or "*").upper()
    sub_d = (dev.subsystem_device_id or "*").upper()
    cls = dev.class_code.upper()
    return (
        f"v0000{dev.vendor_id.upper()}d0000{dev.device_id.upper()}"
        f"sv{'0000' + sub_v if sub_v != '*' else '*'}sd{'0000' + sub_d if sub_d != '*' else '*'}"
        f"bc{cls[:2]}sc{cls[2:4]}i{cls[4:6]}"
    )


def variant_for(aliases: tuple[VariantAlias, ...], modalias: str) -> str | None:
    for alias in aliases:
        if fnmatchcase(modalias, alias.pattern):
            return alias.module
    return None


def check_vfio_variant_driver(ctx: CheckContext) -> Check:
    release = ctx.kernel_release
    rel = f"lib/modules/{release}/modules.alias" if release else "lib/modules/<release>/modules.alias"
    text = ctx.reader.text(rel) if release else None
    if text is None:
        why = (
            "missing (no modules installed for the running kernel)"
            if ctx.reader.root.live
            else "not captured"
        )
        return Check("vfio_variant_driver", Status.UNKNOWN, TITLE, f"{rel}: {why}", "")
    aliases = parse_vfio_aliases(text)
    found: list[tuple[str, str]] = []
    for cand in ctx.candidates:
        for address in cand.functions:
            dev = ctx.host.device(address)
            modalias = modalias_of(ctx, dev) if dev is not None else None
            module = variant_for(aliases, modalias) if modalias else None
            if module is not None:
                found.append((address, module))
    if not found:
        evidence = f"{rel}: {len(aliases)} variant aliases, none matches a candidate"
        return Check("vfio_variant_driver", Status.PASS, TITLE, evidence, "")
    listed = ", ".join(f"{short_address(a)} -> {m}" for a, m in found)
    fix = (
        f"libvirt 10.0+ binds {listed} instead of vfio-pci when the VM starts (managed='yes'). That is "
        "usually right (device-specific migration and quirks); to force the generic driver, e.g. to work "
        "around a bug in the variant, add <driver model='vfio-pci'/> inside that <hostdev>."
    )
    return Check(
        "vfio_variant_driver", Status.WARN, TITLE, f"{rel}: {listed}", fix, "<driver model='vfio-pci'/>"
    )
