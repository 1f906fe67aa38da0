"""Host roots built from the published IOMMU group listings in tests/fixtures/listings/.

A listing is what a user pasted: ``lspci -nn`` lines per IOMMU group in one of several layouts
(one line per device with the group in front, a group header with indented devices, a tree with
box-drawing characters, '#'-prefixed lines), sometimes the kernel command line, and for z690 a full
``lspci -nnk`` with the drivers in use. ``parse_listing`` reads any of them; ``build_root_from_listing``
writes the sysfs/procfs files the scanner reads, with relative symlinks as the kernel lays them out.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from vfiodeck.core.host.iommu import scan_iommu
from vfiodeck.core.host.model import CpuInfo, HostModel, Topology
from vfiodeck.core.host.pci import scan_pci
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.sysfs import Reader

LISTINGS_DIR = Path(__file__).parent / "fixtures" / "listings"

# "2b:00.0 VGA compatible controller [0300]: NVIDIA Corporation TU104 [...] [10de:1e84] (rev a1)"
_DEVICE = (
    r"(?P<bdf>(?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]) "
    r"(?P<class_name>[^\[]+?) \[(?P<cls>[0-9a-fA-F]{4})\]: "
    r"(?P<name>.*) \[(?P<vid>[0-9a-fA-F]{4}):(?P<did>[0-9a-fA-F]{4})\]"
    r"(?: \(rev (?P<rev>[0-9a-fA-F]{2})\))?\s*$"
)
_INLINE = re.compile(r"^#?\s*IOMMU [Gg]roup (?P<group>\d+):?\s+" + _DEVICE)
_HEADER = re.compile(r"^(?:#?\s*IOMMU [Gg]roup (?P<group>\d+):?|[├└]── (?P<tree>\d+))\s*$")
_MEMBER = re.compile(r"^[\s│├└─]+" + _DEVICE)
_LSPCI = re.compile(r"^" + _DEVICE)
_DRIVER = re.compile(r"^\s+Kernel driver in use: (?P<driver>\S+)\s*$")
_SUBSYSTEM = re.compile(r"^\s+Subsystem: .* \[(?P<svid>[0-9a-fA-F]{4}):(?P<sdid>[0-9a-fA-F]{4})\]\s*$")


@dataclass(frozen=True)
class ListingDevice:
    address: str  # canonical "dddd:bb:ss.f"
    class_id: str  # 4 hex digits, as lspci -nn shows it
    vendor_id: str
    device_id: str
    name: str  # lspci's vendor and device text
    revision: str | None = None
    group: int | None = None
    driver: str | None = None
    subsystem_vendor_id: str | None = None
    subsystem_device_id: str | None = None


@dataclass(frozen=True)
class Listing:
    source: str  # the first line of the file: where it was published
    cmdline: str | None
    devices: tuple[ListingDevice, ...]
    groups: dict[int, tuple[str, ...]] = field(default_factory=dict)  # id -> sorted addresses


def _address(bdf: str) -> str:
    bdf = bdf.lower()
    return bdf if bdf.count(":") == 2 else f"0000:{bdf}"


def _device(match: re.Match[str], group: int | None) -> ListingDevice:
    return ListingDevice(
        address=_address(match["bdf"]),
        class_id=match["cls"].lower(),
        vendor_id=match["vid"].lower(),
        device_id=match["did"].lower(),
        name=match["name"],
        revision=match["rev"].lower() if match["rev"] else None,
        group=group,
    )


def parse_listing(path: Path) -> Listing:
    """Every device of a listing with its group, plus drivers and subsystems from lspci -nnk."""
    lines = path.read_text(encoding="utf-8").splitlines()
    source = lines[0].removeprefix("#").strip()
    cmdline: str | None = None
    grouped: dict[str, ListingDevice] = {}
    lspci: dict[str, ListingDevice] = {}
    group: int | None = None
    last_lspci: str | None = None
    for line in lines[1:]:
        if line.startswith("BOOT_IMAGE="):
            cmdline = line.strip()
        elif m := _INLINE.match(line):
            _add(grouped, _device(m, int(m["group"])))
        elif m := _HEADER.match(line):
            group = int(m["group"] or m["tree"])
        elif group is not None and (m := _MEMBER.match(line)):
            _add(grouped, _device(m, group))
        elif m := _LSPCI.match(line):
            group, last_lspci = None, _address(m["bdf"])
            lspci[last_lspci] = _device(m, None)
        elif last_lspci is not None and (m := _DRIVER.match(line)):
            lspci[last_lspci] = replace(lspci[last_lspci], driver=m["driver"])
        elif last_lspci is not None and (m := _SUBSYSTEM.match(line)):
            dev = lspci[last_lspci]
            lspci[last_lspci] = replace(
                dev, subsystem_vendor_id=m["svid"].lower(), subsystem_device_id=m["sdid"].lower()
            )
        elif line.strip() and not line[0].isspace():
            group = last_lspci = None  # a prompt, a comment, another section
    devices = dict(grouped)
    for address, extra in lspci.items():
        base = devices.get(address)
        devices[address] = replace(extra, group=base.group) if base else extra
    groups: dict[int, list[str]] = {}
    for dev in devices.values():
        if dev.group is not None:
            groups.setdefault(dev.group, []).append(dev.address)
    return Listing(
        source=source,
        cmdline=cmdline,
        devices=tuple(sorted(devices.values(), key=lambda d: d.address)),
        groups={g: tuple(sorted(members)) for g, members in sorted(groups.items())},
    )


def _add(devices: dict[str, ListingDevice], dev: ListingDevice) -> None:
    old = devices.get(dev.address)
    if old is not None and old.group != dev.group:
        raise ValueError(f"{dev.address} listed in groups {old.group} and {dev.group}")
    devices[dev.address] = dev


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _link(path: Path, target: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


def build_root(listing: Listing, dest: Path) -> Path:
    """Write ``listing`` as a host root under ``dest`` (created) and return ``dest``."""
    sys_dir = dest / "sys"
    (sys_dir / "kernel" / "iommu_groups").mkdir(parents=True, exist_ok=True)
    (sys_dir / "bus" / "pci" / "devices").mkdir(parents=True, exist_ok=True)
    for dev in listing.devices:
        domain, bus, _ = dev.address.split(":")
        rel_dev = f"devices/pci{domain}:{bus}/{dev.address}"  # relative to sys/
        dev_dir = sys_dir / rel_dev
        _write(dev_dir / "vendor", f"0x{dev.vendor_id}\n")
        _write(dev_dir / "device", f"0x{dev.device_id}\n")
        _write(dev_dir / "class", f"0x{dev.class_id}00\n")  # lspci -nn does not show the prog-if
        if dev.revision is not None:
            _write(dev_dir / "revision", f"0x{dev.revision}\n")
        if dev.subsystem_vendor_id and dev.subsystem_device_id:
            _write(dev_dir / "subsystem_vendor", f"0x{dev.subsystem_vendor_id}\n")
            _write(dev_dir / "subsystem_device", f"0x{dev.subsystem_device_id}\n")
        _link(sys_dir / "bus" / "pci" / "devices" / dev.address, f"../../../{rel_dev}")
        if dev.group is not None:
            _link(
                sys_dir / "kernel" / "iommu_groups" / str(dev.group) / "devices" / dev.address,
                f"../../../../{rel_dev}",
            )
            _link(dev_dir / "iommu_group", f"../../../kernel/iommu_groups/{dev.group}")
        if dev.driver is not None:
            (sys_dir / "bus" / "pci" / "drivers" / dev.driver).mkdir(parents=True, exist_ok=True)
            _link(dev_dir / "driver", f"../../../bus/pci/drivers/{dev.driver}")
    if listing.cmdline is not None:
        _write(dest / "proc" / "cmdline", listing.cmdline + "\n")
    return dest


def build_root_from_listing(listing_path: Path, dest: Path) -> Path:
    return build_root(parse_listing(listing_path), dest)


def scan_root(path: Path) -> HostModel:
    """The PCI and IOMMU half of a scan (no CPU files in a listing root)."""
    root = HostRoot.open(path)
    reader = Reader(root)
    devices = scan_pci(reader)
    return HostModel(
        source=root.label,
        cpu=CpuInfo(),
        topology=Topology(),
        pci_devices=devices,
        iommu=scan_iommu(reader, devices),
        cmdline=reader.string("proc/cmdline"),
        problems=tuple(reader.problems),
    )
