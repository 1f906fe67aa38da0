"""kernel_vfio_modules: module lists that still name vfio_virqfd, merged into vfio in Linux 6.2.

Guides from before 2023 put ``vfio_virqfd`` next to vfio, vfio_iommu_type1 and vfio_pci. On 6.2+
there is no such module: mkinitcpio stops with "module not found", systemd-modules-load fails, and
dracut warns; the passthrough modules may then miss the initramfs.
"""

from __future__ import annotations

from vfiodeck.core.checks.context import CheckContext, kernel_at_least
from vfiodeck.core.checks.model import Check, Status

TITLE = "No stale VFIO module names (vfio_virqfd)"
# Files that list modules for the initramfs or for loading at boot.
FILES = ("etc/mkinitcpio.conf", "etc/initramfs-tools/modules", "etc/modules", "etc/booster.yaml")
FOLDERS = ("etc/mkinitcpio.conf.d", "etc/dracut.conf.d", "etc/modules-load.d")
_NAMES = ("vfio_virqfd", "vfio-virqfd")


def _paths(ctx: CheckContext) -> list[str]:
    paths = [rel for rel in FILES if ctx.reader.exists(rel)]
    for folder in FOLDERS:
        paths += [f"{folder}/{name}" for name in ctx.reader.listdir(folder) if name.endswith(".conf")]
    return paths


def stale_lines(text: str) -> list[str]:
    """Live (uncommented) lines that name vfio_virqfd."""
    found = []
    for line in text.splitlines():
        live = line.split("#", 1)[0]
        if any(name in live for name in _NAMES):
            found.append(line.strip())
    return found


def check_kernel_vfio_modules(ctx: CheckContext) -> Check:
    paths = _paths(ctx)
    if not paths:
        evidence = (
            "etc/mkinitcpio.conf, etc/dracut.conf.d, etc/modules-load.d, ...: not captured or none present"
        )
        return Check("kernel_vfio_modules", Status.UNKNOWN, TITLE, evidence, "")
    hits = [(rel, line) for rel in paths for line in stale_lines(ctx.reader.text(rel) or "")]
    if not hits:
        shown = ", ".join(paths[:3]) + (", ..." if len(paths) > 3 else "")
        evidence = f"{len(paths)} module lists read ({shown}): no vfio_virqfd"
        return Check("kernel_vfio_modules", Status.PASS, TITLE, evidence, "")
    release = ctx.kernel_release
    newer = kernel_at_least(release, 6, 2)
    listed = "; ".join(f"{rel}: {line}" for rel, line in hits)
    if newer is False:
        return Check(
            "kernel_vfio_modules", Status.PASS, TITLE, f"{listed} (kernel {release}: still a module)", ""
        )
    rel = hits[0][0]
    command = f"sudo sed -i -E 's/,?[[:space:]]*vfio[-_]virqfd//' /{rel}"
    kernel = f"kernel {release}" if release else "kernel version not captured; from 6.2 on"
    fix = (
        "Remove vfio_virqfd from these lists (its code is part of vfio since Linux 6.2), e.g. "
        f"`{command}`, then rebuild the initramfs (mkinitcpio -P, dracut --regenerate-all -f, "
        "update-initramfs -u -k all or booster build)."
    )
    return Check("kernel_vfio_modules", Status.WARN, TITLE, f"{listed} ({kernel})", fix, command)
