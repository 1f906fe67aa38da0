"""PCI devices from sys/bus/pci/devices.

A host can have hundreds of functions and the GUI rescans on every hotplug event, so this reads
each attribute file exactly once with plain ``os.open``/``os.read`` (no buffered file objects, no
stat calls, no regexes) and parses with string methods.
"""

from __future__ import annotations

import errno
import os

from vfiodeck.core.host.model import Bar, PciCapabilities, PciDevice, ProblemKind
from vfiodeck.core.host.pcicaps import parse_capabilities
from vfiodeck.core.host.pciids import PciIds
from vfiodeck.core.host.safe_read import (
    SYSFS_LIMIT,
    RefusedError,
    is_inside,
    open_regular,
    read_fd,
    read_head,
)
from vfiodeck.core.host.sysfs import Reader, parse_hex_id

DEVICES_DIR = "sys/bus/pci/devices"
_HEX = frozenset("0123456789abcdef")
_BAR_LINES = 6  # resource lines 0-5 are BARs; line 6 is the expansion ROM, the rest bridge windows
CONFIG_BYTES = 4096  # PCI Express extended config space; a snapshot's file is never read past it


def parse_address(name: str) -> str | None:
    """Canonical lowercase "dddd:bb:ss.f" (domain of 4 to 8 hex digits), or None."""
    addr = name.strip().lower()
    head, dot, fn = addr.rpartition(".")
    parts = head.split(":")
    if not dot or len(parts) != 3 or len(fn) != 1 or fn not in "01234567":
        return None
    domain, bus, slot = parts
    if not 4 <= len(domain) <= 8 or len(bus) != 2 or len(slot) != 2:
        return None
    if not _HEX.issuperset(domain + bus + slot) or int(slot, 16) > 0x1F:
        return None
    return addr


def address_key(address: str) -> tuple[int, int, int, int]:
    """Numeric sort key: "10000:00:00.0" sorts after "ffff:00:00.0", as the kernel orders them."""
    head, _, fn = address.rpartition(".")
    domain, bus, slot = head.split(":")
    return int(domain, 16), int(bus, 16), int(slot, 16), int(fn, 16)


def parse_resource(text: str) -> tuple[tuple[Bar, ...], bool]:
    """BARs from a ``resource`` file ("0x%016x 0x%016x 0x%016x" per line: start, end, flags).

    Unused BARs are all-zero lines and are skipped. Returns the BARs and whether any line of the
    first six was garbage."""
    bars: list[Bar] = []
    bad = False
    for index, line in enumerate(text.split("\n", _BAR_LINES)[:_BAR_LINES]):
        fields = line.split()
        if not fields:
            continue
        try:
            start, end, flags = (int(f, 16) for f in fields)
        except ValueError:  # not three hex numbers
            bad = True
            continue
        if start or end or flags:
            bars.append(Bar(index, start, end, flags))
    return tuple(bars), bad


class _DeviceFiles:
    """Reads the attribute files of one device directory, recording problems against ``rel``."""

    def __init__(self, reader: Reader, name: str) -> None:
        self.reader = reader
        self.rel = f"{DEVICES_DIR}/{name}"
        self.path = reader.root.join(self.rel)
        confine = reader.root.confine
        # The device link is followed once, here; attribute files are then opened without following.
        self.outside = confine is not None and not is_inside(os.path.realpath(self.path), confine)
        if self.outside:
            reader.problem(self.rel, ProblemKind.GARBAGE, "a link out of the host root, not followed")

    def _failed(self, attr: str, exc: OSError) -> None:
        if exc.errno in (errno.EACCES, errno.EPERM):
            self.reader.problem(f"{self.rel}/{attr}", ProblemKind.PERMISSION, "permission denied")
        else:
            self.reader.problem(f"{self.rel}/{attr}", ProblemKind.IO_ERROR, exc.strerror or str(exc))

    def raw(self, attr: str, size: int = SYSFS_LIMIT) -> bytes | None:
        """At most ``size`` bytes of the attribute: a regular file, not a link, not over 64 KiB."""
        if self.outside:
            return None
        path = f"{self.path}/{attr}"
        try:
            try:
                fd = open_regular(path, None, nofollow=True)
            except OSError as exc:
                if exc.errno != errno.ELOOP:
                    raise
                fd = open_regular(path, self.reader.root.confine)  # a link: dangling, looping, or checked
        except (FileNotFoundError, NotADirectoryError):
            return None
        except RefusedError as exc:
            self.reader.problem(f"{self.rel}/{attr}", ProblemKind.GARBAGE, str(exc))
            return None
        except OSError as exc:
            self._failed(attr, exc)
            return None
        try:
            return read_fd(fd, SYSFS_LIMIT) if size >= SYSFS_LIMIT else read_head(fd, size)
        except RefusedError as exc:
            self.reader.problem(f"{self.rel}/{attr}", ProblemKind.GARBAGE, str(exc))
            return None
        except OSError as exc:
            self._failed(attr, exc)
            return None
        finally:
            os.close(fd)

    def text(self, attr: str) -> str | None:
        data = self.raw(attr)
        return None if data is None else data.decode("utf-8", "replace")

    def garbage(self, attr: str, what: str, text: str) -> None:
        self.reader.problem(f"{self.rel}/{attr}", ProblemKind.GARBAGE, f"not {what}: {text.strip()[:40]!r}")

    def hex_id(self, attr: str, digits: int) -> str | None:
        text = self.text(attr)
        if text is None:
            return None
        value: str | None = parse_hex_id(text, digits)
        if value is None:
            self.garbage(attr, f"a {digits}-digit hex id", text)
        return value

    def link_name(self, attr: str) -> str | None:
        """Last component of a link's target; dangling links still name their target."""
        try:
            target = os.readlink(f"{self.path}/{attr}")
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                self.reader.problem(f"{self.rel}/{attr}", ProblemKind.GARBAGE, "expected a symlink")
            else:
                self._failed(attr, exc)
            return None
        return os.path.basename(target.rstrip("/")) or None


_HEADER_BYTES = 64  # the standard header: what an unprivileged read of ``config`` returns


def header_ids(config: bytes | None) -> tuple[str, str, str, str, str | None, str | None] | None:
    """vendor, device, class (6 digits), revision and, for a type-0 header, the subsystem ids,
    from the first 64 bytes of config space; None when they are not there (a capture without
    ``config``, a short or all-ones read of a device that is gone)."""
    if config is None or len(config) < _HEADER_BYTES or config[0:2] == b"\xff\xff":
        return None
    vendor = f"{config[1]:02x}{config[0]:02x}"
    device = f"{config[3]:02x}{config[2]:02x}"
    class_code = f"{config[11]:02x}{config[10]:02x}{config[9]:02x}"
    revision = f"{config[8]:02x}"
    if config[0x0E] & 0x7F != 0:  # a bridge: its subsystem ids live in a capability
        return vendor, device, class_code, revision, None, None
    return (
        vendor,
        device,
        class_code,
        revision,
        f"{config[0x2D]:02x}{config[0x2C]:02x}",
        f"{config[0x2F]:02x}{config[0x2E]:02x}",
    )


def _revision(files: _DeviceFiles, config: bytes | None) -> str | None:
    """``revision`` where the kernel has it (older captures do not), else byte 8 of config space."""
    text = files.text("revision")
    if text is not None:
        value: str | None = parse_hex_id(text, 2)
        if value is None:
            files.garbage("revision", "a 2-digit hex id", text)
        return value
    if config is not None and len(config) > 8:
        return f"{config[8]:02x}"
    return None


def _ids(files: _DeviceFiles, config: bytes | None) -> tuple[str | None, ...]:
    """vendor, device, class, revision, subsystem vendor and device: from the one ``config``
    read where it holds a header (4-6 fewer files per device), else from their own files."""
    header = header_ids(config)
    if header is not None:
        vendor, device, class_code, revision, sub_vendor, sub_device = header
        if sub_vendor is None:
            sub_vendor, sub_device = files.hex_id("subsystem_vendor", 4), files.hex_id("subsystem_device", 4)
        return vendor, device, class_code, revision, sub_vendor, sub_device
    return (
        files.hex_id("vendor", 4),
        files.hex_id("device", 4),
        files.hex_id("class", 6),
        _revision(files, config),
        files.hex_id("subsystem_vendor", 4),
        files.hex_id("subsystem_device", 4),
    )


def _capabilities(config: bytes | None) -> PciCapabilities | None:
    return None if config is None else parse_capabilities(config)


def _numa_node(files: _DeviceFiles) -> int | None:
    text = files.text("numa_node")
    if text is None:
        return None
    try:
        node = int(text.strip())
    except ValueError:
        files.garbage("numa_node", "an integer", text)
        return None
    return node if node >= 0 else None  # -1: the firmware gave no locality


def _boot_vga(files: _DeviceFiles) -> bool | None:
    text = files.text("boot_vga")
    if text is None:
        return None
    value = text.strip()
    if value in ("0", "1"):
        return value == "1"
    files.garbage("boot_vga", "0 or 1", text)
    return None


def _iommu_group(files: _DeviceFiles) -> int | None:
    name = files.link_name("iommu_group")
    if name is None:
        return None
    if not (name.isascii() and name.isdigit()):
        files.reader.problem(f"{files.rel}/iommu_group", ProblemKind.GARBAGE, f"not a group: {name!r}")
        return None
    return int(name)


def _bars(files: _DeviceFiles) -> tuple[Bar, ...]:
    text = files.text("resource")
    if text is None:
        return ()
    bars, bad = parse_resource(text)
    if bad:
        files.garbage("resource", "start/end/flags hex triples", text.split("\n", 1)[0])
    return bars


def read_device(reader: Reader, name: str, address: str, names: PciIds) -> PciDevice:
    """One device, from the directory ``sys/bus/pci/devices/<name>`` (a link into sys/devices)."""
    files = _DeviceFiles(reader, name)
    config = files.raw("config", CONFIG_BYTES)
    vendor_id, device_id, class_code, revision, sub_vendor, sub_device = _ids(files, config)
    reset_text = files.text("reset_method")
    return PciDevice(
        address=address,
        vendor_id=vendor_id,
        device_id=device_id,
        subsystem_vendor_id=sub_vendor,
        subsystem_device_id=sub_device,
        class_code=class_code,
        revision=revision,
        driver=files.link_name("driver"),
        iommu_group=_iommu_group(files),
        numa_node=_numa_node(files),
        # The kernel gives boot_vga to VGA-class devices only: no need to look for it elsewhere.
        boot_vga=_boot_vga(files) if class_code is None or class_code.startswith("0300") else None,
        reset_methods=tuple(reset_text.split()) if reset_text is not None else None,
        bars=_bars(files),
        vendor_name=names.vendor(vendor_id),
        device_name=names.device(vendor_id, device_id),
        subsystem_name=names.subsystem(vendor_id, device_id, sub_vendor, sub_device),
        class_name=names.class_name(class_code),
        capabilities=_capabilities(config),
    )


def scan_pci(reader: Reader, names: PciIds | None = None) -> tuple[PciDevice, ...]:
    """Every PCI function the host shows, sorted by address. Odd entries are skipped and
    recorded; odd attributes become None."""
    entries: list[tuple[str, str]] = []
    for name in reader.listdir(DEVICES_DIR):
        address = parse_address(name)
        if address is None:
            reader.problem(f"{DEVICES_DIR}/{name}", ProblemKind.GARBAGE, "not a PCI address")
            continue
        entries.append((name, address))
    if not entries:
        return ()
    if names is None:
        names = PciIds.load(reader)
    devices = [read_device(reader, name, address, names) for name, address in entries]
    devices.sort(key=lambda dev: address_key(dev.address))
    return tuple(devices)
