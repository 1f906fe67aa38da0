"""The host-in-use guard: which PCI devices the running host needs (DESIGN.md, "Rules the model follows").

Read once per scan, through the host root's Reader, so a snapshot is judged like the machine it
came from: the root and /boot filesystems and swap (``/proc/mounts``, ``/proc/swaps``, the block
devices' sysfs paths, device-mapper/md ``slaves``), block devices holding an active LVM/LUKS/md
member (``holders``), the display (``boot_vga``, a DRM card with a connected connector, a boot
framebuffer inside a BAR in ``/proc/iomem``), the NIC of the default route (``/proc/net/route``,
``/proc/net/ipv6_route``) and the USB controller of the last keyboard or mouse (``/sys/class/input``).
A device is named by the PCI function nearest to it in its sysfs path.
"""

from __future__ import annotations

from vfiodeck.core.host.iomem import IOMEM, parse_iomem
from vfiodeck.core.host.model import HostUse, HostUseKind, PciDevice
from vfiodeck.core.host.pci import address_key, parse_address
from vfiodeck.core.host.sysfs import Reader

MOUNTS = "proc/mounts"
SWAPS = "proc/swaps"
ROUTE = "proc/net/route"
ROUTE6 = "proc/net/ipv6_route"
BLOCK = "sys/block"
CLASS_BLOCK = "sys/class/block"
CLASS_NET = "sys/class/net"
CLASS_DRM = "sys/class/drm"
CLASS_INPUT = "sys/class/input"

BOOT_MOUNTS = ("/boot", "/boot/efi", "/efi")
FRAMEBUFFERS = ("BOOTFB", "efifb", "vesafb", "simplefb", "simple-framebuffer", "simpledrm")
_DEPTH = 8  # stacked block devices / virtual NICs: far more than any real stack, never a loop


def pci_address_in(path: str | None) -> str | None:
    """The PCI function nearest the end of a sysfs path, or None for a virtual device."""
    if not path:
        return None
    for part in reversed(path.split("/")):
        address = parse_address(part)
        if address is not None and not part.startswith("pci"):
            return address
    return None


# -- block devices ------------------------------------------------------------------------------
class _Blocks:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.dm_names: dict[str, str] = {}
        for name in reader.listdir(BLOCK):
            if name.startswith("dm-"):
                dm_name = reader.string(f"{BLOCK}/{name}/dm/name")
                if dm_name:
                    self.dm_names[dm_name] = name

    def name_of(self, source: str) -> str | None:
        """/dev/sda1 -> sda1, /dev/mapper/vg-root -> dm-0, /dev/vg/root -> dm-0."""
        if not source.startswith("/dev/"):
            return None
        rest = source[5:]
        if rest.startswith("mapper/"):
            return self.dm_names.get(rest[7:])
        if "/" in rest:  # /dev/VG/LV: device-mapper names it VG-LV, with dashes doubled
            vg, _, lv = rest.partition("/")
            return self.dm_names.get(f"{vg.replace('-', '--')}-{lv.replace('-', '--')}")
        return rest or None

    def controllers(self, name: str, depth: int = 0) -> list[str]:
        """PCI functions under a block device, through dm/md ``slaves``."""
        rel = self.reader.resolve(f"{CLASS_BLOCK}/{name}") or self.reader.resolve(f"{BLOCK}/{name}")
        if rel is None:
            return []
        address = pci_address_in(rel)
        if address is not None:
            return [address]
        if depth >= _DEPTH:
            return []
        found: list[str] = []
        for slave in self.reader.listdir(f"{rel}/slaves"):
            found += self.controllers(slave, depth + 1)
        return found


def _unescape(field: str) -> str:
    """Mount points escape space, tab, newline and backslash as octal (``\\040``)."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _mounts(reader: Reader) -> list[tuple[str, str]]:
    text = reader.text(MOUNTS) or ""
    return [
        (_unescape(f[0]), _unescape(f[1]))
        for f in (line.split() for line in text.splitlines())
        if len(f) >= 2
    ]


def _filesystems(reader: Reader, blocks: _Blocks, mounts: list[tuple[str, str]]) -> list[HostUse]:
    uses = []
    for source, point in mounts:
        what = HostUseKind.ROOT_FS if point == "/" else HostUseKind.BOOT_FS if point in BOOT_MOUNTS else None
        name = blocks.name_of(source) if what is not None else None
        if what is None or name is None:
            continue
        for address in blocks.controllers(name):
            uses.append(HostUse(address, what, f"{source} is mounted on {point}"))
    return uses


def _swaps(reader: Reader, blocks: _Blocks, mounts: list[tuple[str, str]]) -> list[HostUse]:
    uses = []
    for line in (reader.text(SWAPS) or "").splitlines()[1:]:
        fields = line.split()
        if len(fields) < 2:
            continue
        path, kind = _unescape(fields[0]), fields[1]
        source = path
        if kind == "file":  # a swap file lives on the filesystem mounted nearest above it
            holders = [(p, s) for s, p in mounts if path.startswith(p.rstrip("/") + "/")]
            source = max(holders)[1] if holders else ""
        name = blocks.name_of(source)
        for address in blocks.controllers(name) if name else []:
            uses.append(HostUse(address, HostUseKind.SWAP, f"swap on {path}"))
    return uses


def _holders(reader: Reader, blocks: _Blocks) -> list[HostUse]:
    """Disks (or their partitions) that a device-mapper or md device is built on."""
    uses = []
    for disk in reader.listdir(BLOCK):
        parts = [disk] + [p for p in reader.listdir(f"{BLOCK}/{disk}") if p.startswith(disk)]
        for part in parts:
            rel = f"{BLOCK}/{disk}" if part == disk else f"{BLOCK}/{disk}/{part}"
            for holder in reader.listdir(f"{rel}/holders"):
                kind = _holder_kind(reader, holder)
                for address in blocks.controllers(disk):
                    uses.append(
                        HostUse(address, HostUseKind.BLOCK_HOLDER, f"{part} is a {kind} member ({holder})")
                    )
    return uses


def _holder_kind(reader: Reader, holder: str) -> str:
    if holder.startswith("md"):
        return "md RAID"
    uuid = reader.string(f"{BLOCK}/{holder}/dm/uuid") or ""
    if uuid.startswith("CRYPT-"):
        return "LUKS"
    if uuid.startswith("LVM-"):
        return "LVM"
    return "device-mapper"


# -- display ------------------------------------------------------------------------------------
def _display(reader: Reader, devices: tuple[PciDevice, ...]) -> list[HostUse]:
    uses = [
        HostUse(d.address, HostUseKind.DISPLAY, "boot_vga=1: the firmware's console GPU")
        for d in devices
        if d.boot_vga
    ]
    for entry in reader.listdir(CLASS_DRM):
        card, dash, connector = entry.partition("-")
        if not dash or not card.startswith("card"):
            continue
        if reader.string(f"{CLASS_DRM}/{entry}/status") != "connected":
            continue
        address = pci_address_in(reader.resolve(f"{CLASS_DRM}/{card}/device"))
        if address is not None:
            uses.append(HostUse(address, HostUseKind.DISPLAY, f"DRM connector {entry}: connected"))
    uses += _framebuffers(reader, devices)
    return uses


def _framebuffers(reader: Reader, devices: tuple[PciDevice, ...]) -> list[HostUse]:
    """A boot framebuffer nested in a device's range; a normal user's read shows every address as
    0, but the nesting still names the device."""
    uses = []
    for region in parse_iomem(reader.text(IOMEM) or ""):
        if region.name not in FRAMEBUFFERS:
            continue
        owner = region.pci_owner()
        known = bool(region.start or region.end)
        if owner is None and known:
            owner = next(
                (d.address for d in devices for bar in d.bars if bar.start <= region.start <= bar.end), None
            )
        if owner is None:
            continue
        where = f" at {region.start:#x}-{region.end:#x}" if known else ""
        uses.append(HostUse(owner, HostUseKind.DISPLAY, f"{region.name} framebuffer{where} in /proc/iomem"))
    return uses


# -- network ------------------------------------------------------------------------------------
def _default_interfaces(reader: Reader) -> list[str]:
    names = []
    for line in (reader.text(ROUTE) or "").splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8 and fields[1] == "00000000" and fields[7] == "00000000":
            names.append(fields[0])
    for line in (reader.text(ROUTE6) or "").splitlines():
        fields = line.split()
        if len(fields) >= 10 and fields[0] == "0" * 32 and fields[1] == "00" and fields[-1] != "lo":
            names.append(fields[-1])
    return list(dict.fromkeys(names))


def _nic_functions(reader: Reader, name: str, depth: int = 0) -> list[str]:
    """PCI functions under an interface: itself, or what a bridge/bond/VLAN sits on (``lower_*``)."""
    address = pci_address_in(reader.resolve(f"{CLASS_NET}/{name}"))
    if address is not None:
        return [address]
    if depth >= _DEPTH:
        return []
    found = []
    for entry in reader.listdir(f"{CLASS_NET}/{name}"):
        if entry.startswith("lower_"):
            found += _nic_functions(reader, entry[6:], depth + 1)
    return found


def _default_route(reader: Reader) -> list[HostUse]:
    return [
        HostUse(address, HostUseKind.DEFAULT_ROUTE, f"{name} carries the default route")
        for name in _default_interfaces(reader)
        for address in _nic_functions(reader, name)
    ]


# -- input --------------------------------------------------------------------------------------
def _bitmap_low_word(text: str | None) -> int:
    words = (text or "").split()
    try:
        return int(words[-1], 16) if words else 0
    except ValueError:
        return 0


def _is_keyboard_or_mouse(reader: Reader, entry: str) -> bool:
    base = f"{CLASS_INPUT}/{entry}"
    if any(child.startswith("mouse") for child in reader.listdir(base)):
        return True
    # udev's input_id rule: a keyboard has the first 31 key codes (Esc, digits, letters...).
    return _bitmap_low_word(reader.string(f"{base}/capabilities/key")) & 0xFFFFFFFE == 0xFFFFFFFE


def _input(reader: Reader) -> list[HostUse]:
    """The controller of the host's keyboards and mice, when they all hang off one PCI function."""
    by_controller: dict[str, list[str]] = {}
    for entry in reader.listdir(CLASS_INPUT):
        if not entry.startswith("input") or not _is_keyboard_or_mouse(reader, entry):
            continue
        address = pci_address_in(reader.resolve(f"{CLASS_INPUT}/{entry}"))
        if address is not None:
            by_controller.setdefault(address, []).append(
                reader.string(f"{CLASS_INPUT}/{entry}/name") or entry
            )
    if len(by_controller) != 1:
        return []
    ((address, names),) = by_controller.items()
    return [
        HostUse(
            address, HostUseKind.INPUT, f"the only keyboard/mouse controller: {', '.join(sorted(set(names)))}"
        )
    ]


def find_host_uses(reader: Reader, devices: tuple[PciDevice, ...]) -> tuple[HostUse, ...]:
    """Every PCI function the running host needs, with the reason; sorted by address."""
    blocks = _Blocks(reader)
    mounts = _mounts(reader)
    uses = (
        _filesystems(reader, blocks, mounts)
        + _swaps(reader, blocks, mounts)
        + _holders(reader, blocks)
        + _display(reader, devices)
        + _default_route(reader)
        + _input(reader)
    )
    unique = list(dict.fromkeys(uses))
    order = list(HostUseKind)
    unique.sort(key=lambda u: (address_key(u.address), order.index(u.what)))  # stable: discovery order
    return tuple(unique)
