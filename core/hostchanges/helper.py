"""``vfio-deck-helper``: the one program VFIO Deck runs as root (through pkexec).

Fixed verbs, every argument checked before anything is touched, never a shell:
    apply FILE            write the files of one plan (JSON as ``plan --json`` prints) as a journal entry
    undo [ID]             restore a journal entry
    bind ADDR | unbind ADDR        move a PCI function to vfio-pci now, or give it back
    sriov ADDR N          create N SR-IOV virtual functions (0 removes them)
    run ARGV...           one of the known regeneration commands
    config ADDR           print a device's whole config space as hex
Paths come from an allow-list under /etc and /boot; files are opened without following symlinks.
Exit status: 0 done, 1 refused or failed (one line on stderr), 2 bad arguments.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from vfiodeck.core.hostchanges import journal
from vfiodeck.core.hostchanges.initramfs import REGENERATE
from vfiodeck.core.hostchanges.model import Detected, FileChange, Plan

_ESP = r"/(?:boot|efi|boot/efi)"
ALLOWED_PATHS = tuple(
    re.compile(p)
    for p in (
        r"/etc/default/grub",
        r"/etc/default/grub\.d/zz-vfio-deck\.cfg",
        r"/etc/default/limine",
        r"/etc/kernel/cmdline",
        r"/etc/modprobe\.d/[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}\.conf",
        r"/etc/mkinitcpio\.conf\.d/vfio-deck\.conf",
        r"/etc/dracut\.conf\.d/vfio-deck\.conf",
        r"/etc/initramfs-tools/modules",
        r"/etc/booster\.yaml",
        r"/etc/udev/rules\.d/70-vfio-deck-sriov\.rules",
        _ESP + r"/loader/entries/[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,200}\.conf",
        _ESP + r"(?:/limine|/EFI/limine|/EFI/BOOT)?/limine\.(?:conf|cfg)",
        r"/boot/refind_linux\.conf",
        _ESP + r"/EFI/(?:refind|BOOT|boot)/refind\.conf",
    )
)
ADDRESS = re.compile(r"[0-9a-f]{4,8}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]")
PARAM = re.compile(r"[A-Za-z0-9_.,:=/+-]{1,200}")
FIXED_COMMANDS = {
    *REGENERATE.values(),
    ("update-grub",),
    ("grub-mkconfig", "-o", "/boot/grub/grub.cfg"),
    ("grub2-mkconfig", "-o", "/boot/grub2/grub.cfg"),
    ("proxmox-boot-tool", "refresh"),
    ("kernel-install", "add-all"),
    ("limine-update",),
}


def _say(text: str, *, err: bool = False) -> None:
    (sys.stderr if err else sys.stdout).write(text + "\n")


class Refused(Exception):
    pass


def allowed_path(path: object) -> bool:
    return isinstance(path, str) and ".." not in path and any(p.fullmatch(path) for p in ALLOWED_PATHS)


def allowed_command(argv: list[str]) -> bool:
    if tuple(argv) in FIXED_COMMANDS:
        return True
    if len(argv) == 3 and argv[:2] == ["grubby", "--update-kernel=ALL"] and argv[2].startswith("--args="):
        return all(PARAM.fullmatch(p) for p in argv[2][7:].split(" "))
    if len(argv) == 3 and argv[:2] == ["kernelstub", "-a"]:
        return all(PARAM.fullmatch(p) for p in argv[2].split(" "))
    if len(argv) >= 3 and argv[:2] == ["rpm-ostree", "kargs"]:
        return all(a.startswith("--append-if-missing=") and PARAM.fullmatch(a[20:]) for a in argv[2:])
    return False


def _address(text: str, root: Path) -> str:
    if not ADDRESS.fullmatch(text):
        raise Refused(f"{text!r} is not a PCI address")
    _device_dir(root, text)
    return text


def _device_dir(root: Path, address: str) -> Path:
    """The device's real sysfs folder: the bus link must lead into the root's /sys/devices."""
    link = root / "sys/bus/pci/devices" / address
    real = Path(os.path.realpath(link))
    if not link.is_symlink() or not real.is_relative_to(Path(os.path.realpath(root)) / "sys/devices"):
        raise Refused(f"no PCI device {address}")
    return real


def load_plan(raw: bytes) -> Plan:
    """A plan from its JSON, every path checked against the allow-list."""
    try:
        data = json.loads(raw)
        changes = []
        for item in data["changes"]:
            path, before, after = item["path"], item["before"], item["after"]
            if not allowed_path(path):
                raise Refused(f"{path!r} is not a file VFIO Deck may change")
            if not all(v is None or isinstance(v, str) for v in (before, after)) or before == after:
                raise Refused(f"{path}: bad change")
            changes.append(FileChange(path, before, after))
    except (ValueError, KeyError, TypeError) as exc:
        raise Refused(f"not a plan ({type(exc).__name__})") from exc
    unknown = Detected("unknown", ())
    return Plan(str(data.get("root", "/")), unknown, None, changes=tuple(changes))


def _apply(args: list[str], root: Path) -> int:
    if len(args) != 1:
        raise Refused("apply takes one plan file")
    with open(args[0], "rb") as handle:  # the caller's own file, read as given
        plan = load_plan(handle.read(1 << 24))
    entry = journal.apply_plan(root, plan, "vfio-deck apply")
    _say(entry.id if entry else "nothing to change")
    return 0


def _undo(args: list[str], root: Path) -> int:
    if len(args) > 1 or (args and not re.fullmatch(r"[0-9TZ-]{1,40}", args[0])):
        raise Refused("undo takes at most one entry id")
    _say(journal.undo(root, args[0] if args else None).id)
    return 0


def _bind(args: list[str], root: Path, *, bind: bool) -> int:
    from vfiodeck.core.hostchanges import runtime

    if len(args) != 1:
        raise Refused("bind/unbind take one address")
    address = _address(args[0], root)
    if bind:
        busy = runtime.holders(_device_dir(root, address), root / "proc")
        if busy:  # checked again here: the plan was made before, without privileges
            raise Refused(f"{address} is in use by {', '.join(busy)}: unbinding now could hang")
        runtime.bind_now(root / "sys", address)
    else:
        runtime.give_back(root / "sys", address)
    return 0


def _sriov(args: list[str], root: Path) -> int:
    if len(args) != 2 or not args[1].isdigit() or len(args[1]) > 4:
        raise Refused("sriov takes an address and a number")
    device = _device_dir(root, _address(args[0], root))
    total = int((device / "sriov_totalvfs").read_text().strip())
    count = int(args[1])
    if count > total:
        raise Refused(f"{args[0]} has at most {total} virtual functions")
    fd = os.open(device / "sriov_numvfs", os.O_WRONLY | os.O_NOFOLLOW)
    try:
        if count:  # the kernel refuses a change from one non-zero count to another
            os.write(fd, b"0")
        os.write(fd, str(count).encode())
    finally:
        os.close(fd)
    return 0


def _run(args: list[str], root: Path) -> int:
    if not allowed_command(args):
        raise Refused("not one of the known regeneration commands")
    if root != Path("/"):
        _say(" ".join(args))  # commands run only on the live host
        return 0
    return subprocess.run(args, check=False, shell=False).returncode  # noqa: S603


def _config(args: list[str], root: Path) -> int:
    if len(args) != 1:
        raise Refused("config takes one address")
    device = _device_dir(root, _address(args[0], root))
    fd = os.open(device / "config", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        _say(handle.read(4096).hex())
    return 0


def main(argv: list[str] | None = None, root: Path = Path("/")) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verbs = {
        "apply": _apply,
        "undo": _undo,
        "bind": lambda a, r: _bind(a, r, bind=True),
        "unbind": lambda a, r: _bind(a, r, bind=False),
        "sriov": _sriov,
        "run": _run,
        "config": _config,
    }
    if not args or args[0] not in verbs:
        _say(f"vfio-deck-helper: verbs: {', '.join(verbs)}", err=True)
        return 2
    try:
        return int(verbs[args[0]](args[1:], root))
    except (Refused, journal.JournalError) as exc:
        _say(f"vfio-deck-helper: {exc}", err=True)
        return 1
    except OSError as exc:
        _say(f"vfio-deck-helper: {exc.strerror or exc}", err=True)
        return 1
