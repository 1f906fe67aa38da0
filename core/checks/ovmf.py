"""ovmf: UEFI firmware for guests (OVMF/edk2), found through QEMU's firmware descriptors."""

from __future__ import annotations

import json

from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.distro import install_command
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.host.model import ProblemKind
from vfiodeck.core.host.sysfs import Reader

TITLE = "UEFI firmware for guests (OVMF)"
# Descriptors (QEMU's docs/interop/firmware.json); /etc and the user's config can override them.
DESCRIPTOR_DIRS = ("usr/share/qemu/firmware", "etc/qemu/firmware")
# Where distributions put the firmware images when no descriptor lists them.
IMAGE_DIRS = ("usr/share/OVMF", "usr/share/edk2/ovmf", "usr/share/edk2/x64", "usr/share/edk2-ovmf/x64")
FIX = (
    "Install the guest UEFI firmware: ovmf (Debian, Ubuntu), edk2-ovmf (Fedora, Arch), "
    "qemu-ovmf-x86_64 (openSUSE)."
)
PACKAGES = {"debian": "ovmf", "fedora": "edk2-ovmf", "arch": "edk2-ovmf", "suse": "qemu-ovmf-x86_64"}


def _descriptor_target(reader: Reader, rel: str) -> str | None:
    """ "x86_64 -> /usr/share/OVMF/OVMF_CODE_4M.fd" for a UEFI descriptor, else None."""
    text = reader.text(rel)
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        reader.problem(rel, ProblemKind.GARBAGE, "not JSON")
        return None
    if not isinstance(doc, dict) or "uefi" not in doc.get("interface-types", []):
        return None
    archs = [t.get("architecture") for t in doc.get("targets", []) if isinstance(t, dict)]
    mapping = doc.get("mapping", {})
    image = mapping.get("executable", {}).get("filename") if isinstance(mapping, dict) else None
    return f"{'/'.join(str(a) for a in archs) or '?'} -> {image or '?'}"


def check_ovmf(ctx: CheckContext) -> Check:
    reader = ctx.reader
    for folder in DESCRIPTOR_DIRS:
        found = [
            (name, target)
            for name in reader.listdir(folder)
            if name.endswith(".json") and (target := _descriptor_target(reader, f"{folder}/{name}"))
        ]
        if found:
            name, target = found[0]
            evidence = f"{folder}: {len(found)} UEFI descriptors ({name}: {target})"
            return Check("ovmf", Status.PASS, TITLE, evidence, "")
    for folder in IMAGE_DIRS:
        images = [n for n in reader.listdir(folder) if n.startswith("OVMF_CODE") and n.endswith(".fd")]
        if images:
            return Check("ovmf", Status.PASS, TITLE, f"{folder}: {', '.join(images[:3])}", "")
    # A snapshot takes sys/ and proc/; without usr/share/qemu it says nothing about packages.
    if not reader.root.live and not reader.isdir("usr/share/qemu"):
        return Check("ovmf", Status.UNKNOWN, TITLE, "usr/share/qemu: not captured", "")
    evidence = f"{DESCRIPTOR_DIRS[0]}: no UEFI descriptor; no OVMF_CODE*.fd in {IMAGE_DIRS[0]}"
    command = install_command(reader, PACKAGES)
    fix = f"{FIX} Here: `{command}`." if command else FIX
    return Check("ovmf", Status.WARN, TITLE, evidence, fix, command)
