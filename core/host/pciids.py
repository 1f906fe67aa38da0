"""Names for PCI ids and classes, from the pci.ids database (https://pci-ids.ucw.cz/).

pci.ids is ~1.4 MB and a scan needs names for a few dozen devices, so the file is read once per
process as bytes, never decoded as a whole, and only the lines actually asked for are found (with
``bytes.find``, which runs in C) and decoded. Without a pci.ids, class names still come from a
small built-in table.
"""

from __future__ import annotations

import _thread
import os
import re
import stat

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


class _IdsFile:
    """One pci.ids file kept as raw bytes. A name is found with ``bytes.find`` (C speed, no
    decoding of the 1.4 MB around it) and only the line that holds it is decoded; answers are
    remembered. Lookups may race on worker threads: each computes the same value, so the
    caches need no lock."""

    def __init__(self, data: bytes) -> None:
        self._data = data  # starts with b"\n", so every top-level line matches b"\nvvvv  "
        self._vendors: dict[str, tuple[str, int, int] | None] = {}  # vid -> name, block start, end
        self._devices: dict[tuple[str, str], tuple[str, int, int] | None] = {}  # name, line end, next
        self._subsystems: dict[tuple[str, str, str, str], str | None] = {}
        self._classes: dict[str, str | None] = {}

    def _line(self, start: int) -> tuple[str, int]:
        """The text of the line that begins at ``start`` (after its key) and where it ends."""
        end = self._data.find(b"\n", start)
        if end < 0:
            end = len(self._data)
        return self._data[start:end].decode("utf-8", "replace").strip(), end

    def _next_line_not(self, start: int, end: int, prefix: bytes) -> int:
        """Where the first line in data[start:end] that does not start with ``prefix`` (or a
        comment) begins, else ``end``. One regex pass in C: Intel's block is ~300 kB."""
        pattern = b"\n(?!" + re.escape(prefix) + b"|#|\n)"
        found = re.compile(pattern).search(self._data, start, end)
        return found.start() if found else end

    def vendor(self, vid: str) -> tuple[str, int, int] | None:
        if vid not in self._vendors:
            found = None
            pos = self._data.find(b"\n" + vid.encode("ascii") + b"  ")
            if pos >= 0:
                name, line_end = self._line(pos + 7)
                found = (name, line_end, self._next_line_not(line_end, len(self._data), b"\t"))
            self._vendors[vid] = found
        return self._vendors[vid]

    def device(self, vid: str, did: str) -> tuple[str, int, int] | None:
        key = (vid, did)
        if key not in self._devices:
            vendor = self.vendor(vid)
            found = None
            if vendor is not None:
                pos = self._data.find(b"\n\t" + did.encode("ascii") + b"  ", vendor[1], vendor[2])
                if pos >= 0:
                    name, line_end = self._line(pos + 8)
                    found = (name, line_end, self._next_line_not(line_end, vendor[2], b"\t\t"))
            self._devices[key] = found
        return self._devices[key]

    def subsystem(self, vid: str, did: str, svid: str, sdid: str) -> str | None:
        key = (vid, did, svid, sdid)
        if key not in self._subsystems:
            device = self.device(vid, did)
            found = None
            if device is not None:
                needle = b"\n\t\t" + f"{svid} {sdid}  ".encode("ascii")
                pos = self._data.find(needle, device[1], device[2])
                if pos >= 0:
                    found = self._line(pos + len(needle))[0]
            self._subsystems[key] = found
        return self._subsystems[key]

    def class_name(self, code: str) -> str | None:
        """ "03" (a base class, "C 03  name") or "0300" (its subclass, "\t00  name")."""
        if code not in self._classes:
            found = None
            pos = self._data.find(b"\nC " + code[:2].encode("ascii") + b"  ")
            if pos >= 0:
                name, line_end = self._line(pos + 6)
                if len(code) == 2:
                    found = name
                else:
                    block_end = self._data.find(b"\nC ", line_end)
                    block_end = len(self._data) if block_end < 0 else block_end
                    sub = self._data.find(b"\n\t" + code[2:4].encode("ascii") + b"  ", line_end, block_end)
                    found = self._line(sub + 6)[0] if sub >= 0 else None
            self._classes[code] = found
        return self._classes[code]


_CACHE: dict[tuple[str, int, int], _IdsFile] = {}
_CACHE_LOCK = _thread.allocate_lock()  # threading would cost an import for one lock


MAX_IDS_BYTES = 16 << 20  # pci.ids is 1.3 MiB today


def _load_file(path: str, confine: str | None = None) -> _IdsFile | None:
    """The file at ``path``, shared by every scan in this process while it is unchanged.
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
            data = read_file(path, confine, MAX_IDS_BYTES)
        except (OSError, RefusedError):
            return None
        ids = _IdsFile(b"\n" + data)
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
        return vendor[0] if vendor else None

    def device(self, vid: str | None, did: str | None) -> str | None:
        if self._ids is None or not vid or not did:
            return None
        device = self._ids.device(vid.lower(), did.lower())
        return device[0] if device else None

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
        for key in (code[:4], code[:2]):
            name = (self._ids.class_name(key) if self._ids is not None else None) or _BUILTIN_CLASSES.get(key)
            if name:
                return name
        return None
