"""firmware_uefi and secure_boot: how the host's firmware booted it."""

from __future__ import annotations

from vfiodeck.core.checks.bios import Setting, menu
from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.host.sysfs import Reader

EFI_DIR = "sys/firmware/efi"
EFIVARS = "sys/firmware/efi/efivars"
OLD_EFIVARS = "sys/firmware/efi/vars"  # the sysfs efivars interface before efivarfs (one dir per variable)
# EFI_GLOBAL_VARIABLE, the vendor GUID of SecureBoot (UEFI spec, "Globally Defined Variables").
GLOBAL_GUID = "8be4df61-93ca-11d2-aa0d-00e098032b8c"
SECURE_BOOT = f"SecureBoot-{GLOBAL_GUID}"


def _csm_fix(ctx: CheckContext) -> str:
    return (
        f"Boot the host in UEFI mode: turn CSM off ({menu(ctx.board, Setting.CSM)}), with the OS "
        "installed or converted to UEFI boot. Above 4G Decoding and Resizable BAR need it, and a "
        "GPU's UEFI GOP is what OVMF guests display with."
    )


MOK_COMMAND = "sudo mokutil --import /var/lib/dkms/mok.pub"


def _secure_boot_fix(ctx: CheckContext) -> str:
    return (
        "Sign what your distribution does not (nvidia, vendor-reset, kvmfr, a kernel with the ACS "
        f"override patch) with a Machine Owner Key (`{MOK_COMMAND}`), or turn Secure Boot off "
        f"({menu(ctx.board, Setting.SECURE_BOOT)}); otherwise those modules or kernels will not load."
    )


def _uefi_absent_is_evidence(reader: Reader) -> bool:
    """Absence of sys/firmware/efi means legacy boot only where the firmware folder was read in
    full: on the live host, or in a capture that holds sys/firmware/acpi (every ACPI machine has
    it). hwloc captures keep only sys/firmware/dmi, so there it means nothing."""
    live: bool = reader.root.live
    return live or reader.isdir("sys/firmware/acpi")


def check_firmware_uefi(ctx: CheckContext) -> Check:
    reader = ctx.reader
    title = "Host booted with UEFI (not CSM/legacy)"
    if reader.isdir(EFI_DIR):
        return Check("firmware_uefi", Status.PASS, title, f"{EFI_DIR}: present (UEFI boot)", "")
    if not _uefi_absent_is_evidence(reader):
        return Check("firmware_uefi", Status.UNKNOWN, title, f"{EFI_DIR}: not captured", "")
    evidence = f"{EFI_DIR}: missing (legacy BIOS or CSM boot)"
    return Check("firmware_uefi", Status.WARN, title, evidence, _csm_fix(ctx))


def _secure_boot_file(reader: Reader) -> tuple[str, int] | None:
    """The SecureBoot variable's path and the offset of its one-byte value: efivarfs files start
    with the 4-byte attribute word, the old sysfs ``data`` file holds the value alone."""
    names = reader.listdir(EFIVARS)
    for name in sorted(names, key=lambda n: n != SECURE_BOOT):
        if name.startswith("SecureBoot-"):
            return f"{EFIVARS}/{name}", 4
    for name in reader.listdir(OLD_EFIVARS):
        if name.startswith("SecureBoot-"):
            return f"{OLD_EFIVARS}/{name}/data", 0
    return None


def secure_boot_state(reader: Reader) -> bool | None:
    """True when the SecureBoot variable says 1, False for 0, None when it cannot be read."""
    found = _secure_boot_file(reader)
    if found is None:
        return None
    rel, offset = found
    data = reader.data(rel, 64)
    if data is None or len(data) <= offset or data[offset] not in (0, 1):
        return None
    return data[offset] == 1


def check_secure_boot(ctx: CheckContext) -> Check:
    reader = ctx.reader
    title = "Secure Boot state"
    found = _secure_boot_file(reader)
    if found is None:
        where = EFIVARS if reader.isdir(EFI_DIR) else EFI_DIR
        return Check("secure_boot", Status.UNKNOWN, title, f"{where}: no SecureBoot variable", "")
    rel, offset = found
    data = reader.data(rel, 64)
    if data is None or len(data) <= offset:
        why = "unreadable" if data is None else f"{len(data)} bytes, too short"
        return Check("secure_boot", Status.UNKNOWN, title, f"{rel}: {why}", "")
    value = data[offset]
    short = rel.replace(GLOBAL_GUID, "8be4df61-...")
    if value == 1:
        evidence = f"{short}: 1 (Secure Boot on)"
        return Check("secure_boot", Status.WARN, title, evidence, _secure_boot_fix(ctx), MOK_COMMAND)
    if value == 0:
        return Check("secure_boot", Status.PASS, title, f"{short}: 0 (Secure Boot off)", "")
    return Check("secure_boot", Status.UNKNOWN, title, f"{short}: unexpected value {value}", "")
