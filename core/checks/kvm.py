"""kvm_device: /dev/kvm exists and this user may open it (libvirt's session mode needs that)."""

from __future__ import annotations

import errno
import os

from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.checks.vendor import Vendor, cpu_vendor

DEV_KVM = "dev/kvm"
MISC_KVM = "sys/class/misc/kvm"
TITLE = "KVM device (/dev/kvm) usable"
GROUP_FIX = (
    "Add yourself to the kvm group and log in again (system-wide libvirt, qemu:///system, "
    "opens /dev/kvm as its own user and does not need this)."
)
GROUP_COMMAND = 'sudo usermod -aG kvm "$USER"'


def _module(ctx: CheckContext) -> str:
    return {Vendor.INTEL: "kvm_intel", Vendor.AMD: "kvm_amd"}.get(
        cpu_vendor(ctx.host), "kvm_intel or kvm_amd"
    )


def _open_error(path: str) -> OSError | None:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        return exc
    os.close(fd)
    return None


def _missing(ctx: CheckContext) -> Check:
    module = _module(ctx)
    evidence = f"{DEV_KVM}: missing"
    if ctx.reader.isdir(f"sys/module/{module.split()[0]}"):
        evidence += f"; sys/module/{module.split()[0]} loaded"
    fix = (
        f"Load the KVM module (`sudo modprobe {module}`); if it refuses, hardware virtualization is "
        "off in the firmware (see the CPU virtualization check)."
    )
    command = f"sudo modprobe {module}" if " " not in module else ""
    return Check("kvm_device", Status.FAIL, TITLE, evidence, fix, command)


def check_kvm_device(ctx: CheckContext) -> Check:
    reader = ctx.reader
    if not reader.root.live:
        if reader.exists(MISC_KVM):
            evidence = f"{MISC_KVM}: present (the kernel offers /dev/kvm; who may open it is not captured)"
            return Check("kvm_device", Status.PASS, TITLE, evidence, "")
        return Check(
            "kvm_device", Status.UNKNOWN, TITLE, f"{DEV_KVM}: device nodes are not in a snapshot", ""
        )
    path = reader.root.join(DEV_KVM)
    if not os.path.exists(path):
        return _missing(ctx)
    error = _open_error(path)
    if error is None:
        return Check("kvm_device", Status.PASS, TITLE, f"{DEV_KVM}: opened read-write", "")
    if error.errno in (errno.EACCES, errno.EPERM):
        evidence = f"{DEV_KVM}: permission denied for this user"
        return Check("kvm_device", Status.FAIL, TITLE, evidence, GROUP_FIX, GROUP_COMMAND)
    return Check("kvm_device", Status.UNKNOWN, TITLE, f"{DEV_KVM}: {error.strerror or error}", "")
