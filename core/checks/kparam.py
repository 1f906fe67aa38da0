"""How to add a kernel parameter on this host: which bootloader configuration the root holds.

A light reading for fixes only (the files that decide, never a guess presented as fact); planning
and applying the edit belongs to host changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfiodeck.core.host.sysfs import Reader


@dataclass(frozen=True)
class ParamFix:
    text: str  # one or two sentences: where the parameter goes and what regenerates the config
    command: str  # the command to paste, or the parameter itself where a file must be edited


def _grub_uses_bls(text: str) -> bool:
    return any(line.strip().replace('"', "") == "GRUB_ENABLE_BLSCFG=true" for line in text.splitlines())


def add_param(reader: Reader, param: str) -> ParamFix:
    """The fix that adds ``param`` (one or more space-separated parameters) to the kernel command line."""
    if reader.exists("etc/kernelstub/configuration"):
        command = f'sudo kernelstub -a "{param}"'
        return ParamFix(f"kernelstub (etc/kernelstub/configuration): run `{command}` and reboot.", command)
    if reader.exists("etc/kernel/cmdline"):
        return ParamFix(
            f"kernel-install (etc/kernel/cmdline): append `{param}` to /etc/kernel/cmdline, reinstall "
            "the kernel (`sudo kernel-install add-all` on systemd 255+) and reboot.",
            param,
        )
    grub = reader.text("etc/default/grub")
    if grub is not None and _grub_uses_bls(grub):
        command = f'sudo grubby --update-kernel=ALL --args="{param}"'
        return ParamFix(f"GRUB with BLS entries (etc/default/grub): run `{command}` and reboot.", command)
    if grub is not None:
        return ParamFix(
            f"GRUB (etc/default/grub): add `{param}` inside GRUB_CMDLINE_LINUX_DEFAULT, then "
            "`sudo update-grub` (Debian, Ubuntu) or `sudo grub-mkconfig -o /boot/grub/grub.cfg`, and reboot.",
            param,
        )
    return ParamFix(
        f"Add `{param}` to the kernel command line in your bootloader's configuration and reboot "
        "(no GRUB, kernel-install or kernelstub configuration was found to say which).",
        param,
    )
