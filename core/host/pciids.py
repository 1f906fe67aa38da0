"""Names for PCI ids and classes, from the pci.ids database (https://pci-ids.ucw.cz/).

pci.ids is ~1.4 MB and a scan needs names for a few dozen devices, so the file is read once per
process and only the vendor and device lines actually asked for are parsed (found with
``str.find``, which runs in C; Intel's block alone is thousands of lines). Without a pci.ids,
class names still come from a small built-in table.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from dataclasses import dataclass, field

from vfiodeck.core.host.safe_read import RefusedError, read_file
from vfiodeck.core.host.sysfs import Reader

# Where distributions put the file: hwdata (Fedora, Arch), pciutils (Debian, Ubuntu), old layouts.
PCI_IDS_PATHS = ("usr/share/hwdata/pci.ids", "usr/share/misc/pci.ids", "usr/share/pci.ids")

# Base classes and the subclasses VFIO Deck shows most, for hosts without pci.ids.
_BUILTIN_CLASSES: dict[str, str] = {
    "00": "Unclassified device",
    "01": "Mass storage controller",
    "0100": "SCSI storage controller",
    "0101": "IDE interface",
    "0104": "RAID bus controller",
    "0106": "SATA controller",
    "0107": "Serial Attached SCSI controller",
    "0108": "Non-Volatile memory controller",
    "02": "Network controller",
    "0200": "Ethernet controller",
    "0280": "Network controller",
    "03": "Display controller",
    "0300": "VGA compatible controller",
    "0302": "3D controller",
    "0380": "Display controller",
    "04": "Multimedia controller",
    "0401": "Multimedia audio controller",
    "0403": "Audio device",
    "05": "Memory controller",
    "0500": "RAM memory",
    "06": "Bridge",
    "0600": "Host bridge",
    "0601": "ISA bridge",
    "0604": "PCI bridge",
    "08": "Generic system peripheral",
    "0880": "System peripheral",
    "0c": "Serial bus controller",
    "0c03": "USB controller",
    "0c05": "SMBus",
    "10": "Encryption controller",
    "11": "Signal processing controller",
    "12": "Processing accelerators",
    "13": "Non-Essential Instrumentation",
}


@dataclass
class _Vendor:
    """One vendor's block of the file: its name, and where its device lines are."""

    name: str
    start: int  # the block's device lines lie in text[start:end]
    end: int
    devices: dict[str, tuple[str, int]] | None = None  # did -> (name, end of its line), on demand
    subsystems: dict[str, dict[tuple[str, str], str]] = field(default_factory=dict)


# The line after a vendor's block starts with a hex digit (the next vendor) or "C" (the classes).
_NEXT_TOP_LINE = re.compile(r"\n[0-9a-fC]")
# A device line; subsystem lines have a second tab and do not match. One C-level pass per block:
# Intel's block is ~300 kB, too big to walk line by line in Python or to search once per device.
_DEVICE_LINE = re.compile(r"\n\t([0-9a-f]{4})  ([^\n]*)")


class _IdsFile:
    """One pci.ids file: the raw text plus what has been parsed from it so far."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._vendors: dict[str, _Vendor | None] = {}
        self._classes: dict[str, str] | None = None
        self._lock = threading.Lock()  # scans run on worker threads

    def vendor(self, vid: str) -> _Vendor | None:
        with self._lock:
            if vid not in self._vendors:
                self._vendors[vid] = self._find_vendor(vid)
            return self._vendors[vid]

    def _devices(self, vendor: _Vendor) -> dict[str, tuple[str, int]]:
        if vendor.devices is None:
            vendor.devices = {
                m.group(1): (m.group(2).strip(), m.end())
                for m in _DEVICE_LINE.finditer(self._text, vendor.start, vendor.end)
            }
        return vendor.devices

    def device(self, vid: str, did: str) -> str | None:
        vendor = self.vendor(vid)
        if vendor is None:
            return None
        with self._lock:
            found = self._devices(vendor).get(did)
        return found[0] if found else None

    def subsystem(self, vid: str, did: str, svid: str, sdid: str) -> str | None:
        vendor = self.vendor(vid)
        if vendor is None:
            return None
        with self._lock:
            found = self._devices(vendor).get(did)
            if found is None:
                return None
            if did not in vendor.subsystems:
                vendor.subsystems[did] = self._parse_subsystems(found[1] + 1, vendor.end)
            return vendor.subsystems[did].get((svid, sdid))

    def classes(self) -> dict[str, str]:
        with self._lock:
            if self._classes is None:
                self._classes = self._parse_classes()
            return self._classes

    def _find_vendor(self, vid: str) -> _Vendor | None:
        text = self._text
        start = text.find(f"\n{vid}  ")
        if start < 0:
            return None
        line_end = text.find("\n", start + 1)
        if line_end < 0:
            line_end = len(text)
        following = _NEXT_TOP_LINE.search(text, line_end)
        end = following.start() if following else len(text)
        return _Vendor(text[start + 7 : line_end].strip(), line_end, end)

    def _parse_subsystems(self, pos: int, block_end: int) -> dict[tuple[str, str], str]:
        """The "\t\tssvv ssdd  name" lines that follow a device line at ``pos``."""
        text = self._text
        subsystems: dict[tuple[str, str], str] = {}
        while pos < block_end:
            end = text.find("\n", pos, block_end)
            if end < 0:
                end = block_end
            line = text[pos:end]
            pos = end + 1
            if line.startswith("#"):
                continue
            if not line.startswith("\t\t"):
                break
            parts = line[2:].split(None, 2)
            if len(parts) == 3:
                subsystems[(parts[0].lower(), parts[1].lower())] = parts[2]
        return subsystems

    def _parse_classes(self) -> dict[str, str]:
        """ "C cc  name" / "\\tss  name" / "\\t\\tpp  name" keyed "cc", "ccss", "ccsspp"."""
        classes: dict[str, str] = {}
        text = self._text
        start = text.find("\nC ")
        if start < 0:
            return classes
        base = sub = ""
        for line in text[start + 1 :].split("\n"):
            if not line or line[0] == "#":
                continue
            if line.startswith("C "):
                code, _, name = line[2:].partition("  ")
                base, sub = code.strip().lower(), ""
                classes[base] = name.strip()
            elif line.startswith("\t\t") and base and sub:
                code, _, name = line[2:].partition("  ")
                classes[base + sub + code.strip().lower()] = name.strip()
            elif line.startswith("\t") and base:
                code, _, name = line[1:].partition("  ")
                sub = code.strip().lower()
                classes[base + sub] = name.strip()
            else:
                base = sub = ""
        return classes


_CACHE: dict[tuple[str, int, int], _IdsFile] = {}
_CACHE_LOCK = threading.Lock()


MAX_IDS_BYTES = 16 << 20  # pci.ids is 1.3 MiB today


def _load_file(path: str, confine: str | None = None) -> _IdsFile | None:
    """The parsed file at ``path``, shared by every scan in this process while it is unchanged.
    Only a regular file below ``confine`` (a folder root's real path) is read, and at most 16 MiB."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    key = (path, st.st_mtime_ns, st.st_size)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        try:
            text = read_file(path, confine, MAX_IDS_BYTES).decode("utf-8", "replace")
        except (OSError, RefusedError):
            return None
        ids = _IdsFile("\n" + text)  # a leading newline lets every vendor match "\nvvvv  "
        _CACHE[key] = ids
        return ids


class PciIds:
    """Name lookups; every method returns None when the name is unknown."""

    def __init__(self, ids: _IdsFile | None, path: str | None) -> None:
        self._ids = ids
        self.path = path  # the pci.ids in use, or None (built-in class names only)

    @classmethod
    def load(cls, reader: Reader | None = None) -> PciIds:
        """pci.ids from the host root first (a snapshot may carry its own), then the live system's.

        ``$VFIODECK_PCI_IDS`` names another file to use in place of the live system's (the tests use
        a trimmed copy so that names do not depend on the machine's pciutils/hwdata)."""
        candidates: list[tuple[str, str | None]] = []
        if reader is not None:
            candidates += [(reader.root.join(rel), reader.root.confine) for rel in PCI_IDS_PATHS]
        override = os.environ.get("VFIODECK_PCI_IDS")
        if override:
            candidates.append((override, None))
        else:
            candidates += [(os.path.join("/", rel), None) for rel in PCI_IDS_PATHS]
        for path, confine in candidates:
            ids = _load_file(path, confine)
            if ids is not None:
                return cls(ids, path)
        return cls(None, None)

    @classmethod
    def from_path(cls, path: str) -> PciIds:
        return cls(_load_file(path), path)

    def vendor(self, vid: str | None) -> str | None:
        if self._ids is None or not vid:
            return None
        vendor = self._ids.vendor(vid.lower())
        return vendor.name if vendor else None

    def device(self, vid: str | None, did: str | None) -> str | None:
        if self._ids is None or not vid or not did:
            return None
        return self._ids.device(vid.lower(), did.lower())

    def subsystem(self, vid: str | None, did: str | None, svid: str | None, sdid: str | None) -> str | None:
        if self._ids is None or not (vid and did and svid and sdid):
            return None
        return self._ids.subsystem(vid.lower(), did.lower(), svid.lower(), sdid.lower())

    def class_name(self, class_code: str | None) -> str | None:
        """The subclass name ("VGA compatible controller") for "030000" or "0300", else the base
        class name; lspci names devices the same way."""
        if not class_code or len(class_code) < 2:
            return None
        code = class_code.lower()
        table = self._ids.classes() if self._ids is not None else {}
        for key in (code[:4], code[:2]):
            name = table.get(key) or _BUILTIN_CLASSES.get(key)
            if name:
                return name
        return None
