"""ovmf: UEFI firmware for guests (OVMF/edk2), found through QEMU's firmware descriptors."""

from __future__ import annotations

import posixpath

from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.distro import install_command
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.vm.firmware import SEARCH_DIRS, find_firmware

TITLE = "UEFI firmware for guests (OVMF)"
# Where distributions put the firmware images when no descriptor lists them.
IMAGE_DIRS = ("usr/share/OVMF", "usr/share/edk2/ovmf", "usr/share/edk2/x64", "usr/share/edk2-ovmf/x64")
FIX = (
    "Install the guest UEFI firmware: ovmf (Debian, Ubuntu), edk2-ovmf (Fedora, Arch), "
    "qemu-ovmf-x86_64 (openSUSE)."
)
PACKAGES = {"debian": "ovmf", "fedora": "edk2-ovmf", "arch": "edk2-ovmf", "suse": "qemu-ovmf-x86_64"}


def check_ovmf(ctx: CheckContext) -> Check:
    reader = ctx.reader
    uefi = [e for e in find_firmware(reader) if e.is_uefi]
    if uefi:
        first = uefi[0]
        folder = posixpath.dirname(first.descriptor)
        archs = "/".join(arch for arch, _machines in first.targets) or "?"
        target = f"{archs} -> {first.executable or '?'}"
        count = f"{len(uefi)} UEFI descriptor{'s' if len(uefi) != 1 else ''}"
        evidence = f"{folder}: {count} ({posixpath.basename(first.descriptor)}: {target})"
        return Check("ovmf", Status.PASS, TITLE, evidence, "")
    for folder in IMAGE_DIRS:
        images = [n for n in reader.listdir(folder) if n.startswith("OVMF_CODE") and n.endswith(".fd")]
        if images:
            return Check("ovmf", Status.PASS, TITLE, f"{folder}: {', '.join(images[:3])}", "")
    # A snapshot takes sys/ and proc/; without usr/share/qemu it says nothing about packages.
    if not reader.root.live and not reader.isdir("usr/share/qemu"):
        return Check("ovmf", Status.UNKNOWN, TITLE, "usr/share/qemu: not captured", "")
    evidence = f"{SEARCH_DIRS[1]}: no UEFI descriptor; no OVMF_CODE*.fd in {IMAGE_DIRS[0]}"
    command = install_command(reader, PACKAGES)
    fix = f"{FIX} Here: `{command}`." if command else FIX
    return Check("ovmf", Status.WARN, TITLE, evidence, fix, command)
