"""Reads ``lspci -x/-xxx/-xxxx`` hex dumps as people publish them: mixed with ``-vvv`` text,
quoted with "> ", indented, with hard-wrapped lines, several devices per file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PREFIX = re.compile(r"^[\s>]*")
_DEVICE = re.compile(r"^(?:([0-9a-f]{4,8}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])(?:\s|$)")
_ROW = re.compile(r"^([0-9a-f]{2,3}):((?:\s[0-9a-f]{2}){1,16})\s*$")
_BYTES = re.compile(r"^(?:[0-9a-f]{2}\s?){1,15}$")


@dataclass
class Dump:
    address: str  # as the file wrote it ("01:00.0" or "0000:01:00.0")
    rows: dict[int, list[int]] = field(default_factory=dict)

    @property
    def data(self) -> bytes:
        """The bytes from offset 0 up to the last row, rows in offset order."""
        if not self.rows:
            return b""
        out = bytearray(max(self.rows) + 16)
        for offset, values in self.rows.items():
            out[offset : offset + len(values)] = bytes(values)
        return bytes(out[: max(self.rows) + len(self.rows[max(self.rows)])])


def read_dumps(text: str) -> list[Dump]:
    """Every device's config bytes, in file order. A row cut by a mail client (fewer than 16
    bytes, the rest on the next line) is joined again."""
    dumps: list[Dump] = []
    current: Dump | None = None
    last_row: list[int] | None = None
    for raw in text.splitlines():
        line = _PREFIX.sub("", raw).rstrip().lower()
        row = _ROW.match(line)
        if row:
            offset = int(row.group(1), 16)
            if current is None or (offset == 0 and current.rows):
                current = Dump(address=current.address if current else "00:00.0")
                dumps.append(current)
            last_row = [int(b, 16) for b in row.group(2).split()]
            current.rows[offset] = last_row
            continue
        if last_row is not None and len(last_row) < 16 and _BYTES.match(line):
            last_row.extend(int(b, 16) for b in line.split())
            continue
        last_row = None
        device = _DEVICE.match(line)
        if device and not line.startswith(("lspci",)):
            current = Dump(address=device.group(0).strip())
            dumps.append(current)
    return [dump for dump in dumps if dump.rows]


def to_lspci_dump(data: bytes, address: str = "00:00.0") -> str:
    """The text ``lspci -F`` reads back: an address line (lspci skips a bare address with no text
    after it, so one word follows), then 16-byte rows."""
    rows = [f"{o:03x}: " + " ".join(f"{b:02x}" for b in data[o : o + 16]) for o in range(0, len(data), 16)]
    return "\n".join([f"{address} device", *rows]) + "\n"
