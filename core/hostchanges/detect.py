"""Which boot loader and initramfs tool a root uses, with the files that decided it.

Nothing is guessed: when two boot loaders both look configured (a GRUB default file and a
systemd-boot loader.conf, say) the answer is "unknown" with both named, and the plan is refused.
"""

from __future__ import annotations

from vfiodeck.core.hostchanges.files import RootFiles
from vfiodeck.core.hostchanges.model import Detected
from vfiodeck.core.hostchanges.shellvars import evaluate

ESP_DIRS = ("/boot", "/efi", "/boot/efi")
LIMINE_CONFIGS = tuple(
    f"{esp}{sub}/{name}"
    for esp in ESP_DIRS
    for sub in ("", "/limine", "/EFI/limine", "/EFI/BOOT")
    for name in ("limine.conf", "limine.cfg")
)
REFIND_CONFIGS = tuple(
    f"{esp}/EFI/{sub}/refind.conf" for esp in ESP_DIRS for sub in ("refind", "BOOT", "boot")
)


def loader_conf(files: RootFiles) -> str | None:
    for esp in ESP_DIRS:
        path = f"{esp}/loader/loader.conf"
        if files.exists(path):
            return path
    return None


def entries_dir(files: RootFiles) -> str | None:
    for esp in ESP_DIRS:
        path = f"{esp}/loader/entries"
        if files.is_dir(path):
            return path
    return None


def _grub(files: RootFiles) -> Detected | None:
    text = files.read("/etc/default/grub")
    if text is None:
        return None
    bls = evaluate(text).get("GRUB_ENABLE_BLSCFG") == "true"
    if bls:
        return Detected("grub-bls", ("/etc/default/grub",), "GRUB_ENABLE_BLSCFG=true")
    return Detected("grub", ("/etc/default/grub",))


def _systemd_boot(files: RootFiles) -> Detected | None:
    evidence = [p for p in ("/etc/kernel/cmdline",) if files.exists(p)]
    conf = loader_conf(files)
    if conf:
        evidence.append(conf)
    return Detected("systemd-boot", tuple(evidence)) if evidence else None


def _limine(files: RootFiles) -> Detected | None:
    evidence = [p for p in ("/etc/default/limine", *LIMINE_CONFIGS) if files.exists(p)]
    return Detected("limine", tuple(evidence)) if evidence else None


def _refind(files: RootFiles) -> Detected | None:
    evidence = [p for p in ("/boot/refind_linux.conf", *REFIND_CONFIGS) if files.exists(p)]
    return Detected("refind", tuple(evidence)) if evidence else None


def detect_bootloader(files: RootFiles) -> Detected:
    if files.exists("/etc/NIXOS"):
        return Detected(
            "unknown",
            ("/etc/NIXOS",),
            "NixOS builds its boot entries from configuration.nix",
        )
    for marker in ("/run/ostree-booted", "/ostree"):
        if files.exists(marker):
            return Detected("rpm-ostree", (marker,))
    if files.exists("/etc/kernelstub/configuration"):
        return Detected("kernelstub", ("/etc/kernelstub/configuration",))
    grub = _grub(files)
    found = [d for d in (grub, _limine(files), _refind(files)) if d is not None]
    sdboot = _systemd_boot(files)
    if sdboot is not None:
        # /etc/kernel/cmdline alone beside a BLS GRUB is kernel-install's input for GRUB's entries.
        only_cmdline = sdboot.evidence == ("/etc/kernel/cmdline",)
        if not (grub is not None and grub.kind == "grub-bls" and only_cmdline):
            found.append(sdboot)
    if len(found) == 1:
        return found[0]
    if not found:
        return Detected("unknown", (), "no boot loader configuration found")
    kinds = ", ".join(d.kind for d in found)
    evidence = tuple(p for d in found for p in d.evidence)
    return Detected("unknown", evidence, f"more than one boot loader is configured ({kinds})")


# tool -> (configuration files, the images it builds)
_INITRAMFS = {
    "mkinitcpio": (("/etc/mkinitcpio.conf",), ("/boot/initramfs-linux.img",)),
    "dracut": (("/etc/dracut.conf", "/etc/dracut.conf.d"), ()),
    "initramfs-tools": (("/etc/initramfs-tools/initramfs.conf", "/etc/initramfs-tools/modules"), ()),
    "booster": (("/etc/booster.yaml",), ("/boot/booster-linux.img",)),
}


def detect_initramfs(files: RootFiles) -> Detected | None:
    """The initramfs tool, or None when there is none; Detected("unknown") when several are."""
    found = []
    for kind, (configs, images) in _INITRAMFS.items():
        evidence = tuple(p for p in configs if files.exists(p))
        if evidence:
            found.append(Detected(kind, evidence + tuple(p for p in images if files.exists(p))))
    if len(found) == 1:
        return found[0]
    if not found:
        return None
    # Several configured: the one whose images are on /boot decides; otherwise refuse.
    with_images = [d for d in found if any(p.startswith("/boot/") for p in d.evidence)]
    if len(with_images) == 1:
        return with_images[0]
    kinds = ", ".join(d.kind for d in found)
    return Detected(
        "unknown",
        tuple(p for d in found for p in d.evidence),
        f"more than one initramfs tool is configured ({kinds})",
    )
