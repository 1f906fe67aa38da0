"""lockdown: kernel lockdown (often switched on by Secure Boot) and what it refuses.

Under lockdown the kernel loads only signed modules, so DKMS modules a passthrough setup often
needs (vendor-reset, kvmfr for Looking Glass, a patched vfio) fail to load unless signed with an
enrolled Machine Owner Key; user-space writes to PCI config space (setpci) are refused as well.
"""

from __future__ import annotations

from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.firmware import secure_boot_state
from vfiodeck.core.checks.model import Check, Status

LOCKDOWN = "sys/kernel/security/lockdown"
TITLE = "Kernel lockdown"
MOK_COMMAND = "sudo mokutil --import /var/lib/dkms/mok.pub"
FIX = (
    "Lockdown refuses unsigned modules and user-space config-space writes: DKMS modules such as "
    "vendor-reset or kvmfr (Looking Glass) will not load, and setpci writes fail. Sign DKMS modules "
    f"with a Machine Owner Key and enroll it (`{MOK_COMMAND}`, then confirm in MokManager at the "
    "next boot), or turn Secure Boot off in the firmware if you accept losing its protection."
)


def active_mode(text: str) -> str | None:
    """ "none [integrity] confidentiality" -> "integrity"."""
    for word in text.split():
        if word.startswith("[") and word.endswith("]"):
            return word[1:-1]
    return None


def check_lockdown(ctx: CheckContext) -> Check:
    text = ctx.reader.string(LOCKDOWN)
    secure = secure_boot_state(ctx.reader)
    boot = f"; Secure Boot {'on' if secure else 'off'}" if secure is not None else ""
    if text is None:
        if ctx.reader.isdir("sys/kernel/security"):
            evidence = f"{LOCKDOWN}: missing (kernel without the lockdown LSM){boot}"
            return Check("lockdown", Status.PASS, TITLE, evidence, "")
        evidence = f"{LOCKDOWN}: not captured{boot}"
        if secure:
            evidence += " (many distribution kernels lock down under Secure Boot)"
        return Check("lockdown", Status.UNKNOWN, TITLE, evidence, "")
    mode = active_mode(text)
    evidence = f"{LOCKDOWN}: {text}{boot}"
    if mode is None:
        return Check("lockdown", Status.UNKNOWN, TITLE, evidence + " (no [mode] marked)", "")
    if mode == "none":
        return Check("lockdown", Status.PASS, TITLE, evidence, "")
    return Check("lockdown", Status.WARN, TITLE, evidence, FIX, MOK_COMMAND)
