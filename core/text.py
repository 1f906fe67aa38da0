"""The one vocabulary every layer prints with: safe text, CPU lists, PCI addresses, sizes, device names.

API (pure, no I/O, imports nothing from the rest of ``core``):
- ``safe_text(text)``, ``safe(value)``: text shown to a person. Values from a host root are untrusted
  and may hold terminal controls (clear the screen, set the title, write the clipboard with OSC 52)
  and non-UTF-8 bytes (lone surrogates, which make ``print`` raise); everything printed passes
  through ``safe_text`` (or ``safe`` for one value, which escapes newlines and tabs too).
- ``parse_cpulist(text, max_cpu=MAX_CPU) -> tuple[int, ...] | None``: the kernel's "0-3,8" (NUL
  bytes tolerated) and libvirt's cpuset "0-7,^2"; ``cpulist_text(cpus) -> "0-2,5"`` writes the
  compact form both read; ``is_digits(text)``: ASCII decimal digits only.
- ``short_address("0000:08:00.0") -> "08:00.0"``, ``slot_of(address) -> "0000:08:00"``,
  ``cards(addresses)`` (function 0 of each slot, in order),
  ``split_pci_address(address) -> (domain, bus, slot, function)``.
- ``size_text(n_bytes)``, ``kib_text(kib)``, ``mib_text(mib)``: "512 KiB", "1.5 GiB", "24 GiB".
- ``device_name(dev)``: the short name for sentences; ``device_label(dev, address)``: the name with
  the short address, "GeForce GTX 1080 (08:00.0)", or the address alone for a device not on the host.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

# -- safe text ------------------------------------------------------------------------------------
# C0 controls but tab and newline, DEL, C1 controls, bidirectional overrides/isolates (they reorder
# what is shown), and the surrogates Python uses for undecodable bytes.
_UNSAFE_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_IN_VALUE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode() keeps it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """``text`` with every control character but tab and newline written as ``\\xNN``."""
    return _UNSAFE_IN_TEXT.sub(_escape, text)


def safe(value: object) -> str:
    """One value for a line of text: newlines and tabs are escaped too."""
    return _UNSAFE_IN_VALUE.sub(_escape, str(value))


# -- CPU lists ------------------------------------------------------------------------------------


MAX_CPU = 65535  # the kernel's NR_CPUS tops out at 8192; a cpulist beyond this is garbage, not a host


def is_digits(text: str) -> bool:
    """ASCII decimal digits only: ``"²".isdigit()`` is true, and ``int("²")`` raises."""
    return text.isascii() and text.isdigit()


def parse_cpulist(text: str | None, max_cpu: int = MAX_CPU) -> tuple[int, ...] | None:
    """A kernel cpulist ("0-3,8,10-11") or libvirt cpuset ("0-7,^2") as sorted CPU ids; None when
    it is not one, or names a CPU above ``max_cpu`` ("0-999999999" would otherwise be a
    billion-element set). An empty list is ().

    NUL bytes are dropped: since Linux 5.15 the topology cpumap files are binary attributes that end
    in "\\n\\0" (seen in the Kunpeng 920 capture)."""
    if text is None:
        return None
    text = text.replace("\x00", "").strip()
    if not text:
        return ()
    take: set[int] = set()
    drop: set[int] = set()
    for raw in text.split(","):
        part = raw.strip()
        target = drop if part.startswith("^") else take
        lo, sep, hi = part.removeprefix("^").partition("-")
        if len(lo) > 6 or len(hi) > 6 or not is_digits(lo) or (sep and not is_digits(hi)):
            return None
        first, last = int(lo), int(hi) if sep else int(lo)
        if last < first or last > max_cpu:
            return None
        target.update(range(first, last + 1))
    return tuple(sorted(take - drop))


def cpulist_text(cpus: Iterable[int]) -> str:
    """(0, 1, 2, 5, 7, 8) -> "0-2,5,7-8", the notation of the kernel and of libvirt's cpuset."""
    ids = sorted(set(cpus))
    runs: list[str] = []
    i = 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        runs.append(str(ids[i]) if i == j else f"{ids[i]}-{ids[j]}")
        i = j + 1
    return ",".join(runs)


# -- PCI addresses --------------------------------------------------------------------------------


def short_address(address: str) -> str:
    """ "08:00.0" for domain 0000 (how lspci and users write it), else the full address."""
    return address[5:] if address.startswith("0000:") else address


def slot_of(address: str) -> str:
    """ "0000:08:00.1" -> "0000:08:00": the functions of one slot share it."""
    return address.rsplit(".", 1)[0]


def cards(addresses: Iterable[str]) -> tuple[str, ...]:
    """Function 0 of each slot, in first-seen order: the cards a list of functions belongs to
    ("0000:08:00.1", "0000:08:00.0", "0000:43:00.1" -> "0000:08:00.0", "0000:43:00.0")."""
    return tuple(dict.fromkeys(f"{slot_of(a)}.0" for a in addresses))


def split_pci_address(address: str) -> tuple[int, int, int, int]:
    """ "0000:01:00.1" -> (0, 1, 0, 1); raises ValueError on anything else."""
    dbs, function = address.rsplit(".", 1)
    domain, bus, slot = dbs.split(":")
    return int(domain, 16), int(bus, 16), int(slot, 16), int(function, 16)


# -- sizes ----------------------------------------------------------------------------------------

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def size_text(n_bytes: int | float) -> str:
    """Binary units, whole numbers where exact or from 10 up, else one decimal:
    "512 B", "4 KiB", "1.5 GiB", "24 GiB"."""
    value = float(n_bytes)
    unit = 0
    while abs(value) >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    if value.is_integer() or abs(value) >= 10:
        return f"{value:.0f} {_UNITS[unit]}"
    return f"{value:.1f} {_UNITS[unit]}"


def kib_text(kib: int | float) -> str:
    return size_text(kib * 1024)


def mib_text(mib: int | float) -> str:
    return size_text(mib * 1024 * 1024)


# -- device names ---------------------------------------------------------------------------------


class NamedDevice(Protocol):
    """What naming needs of a PCI device (``core.host.model.PciDevice`` has it)."""

    @property
    def device_name(self) -> str | None: ...
    @property
    def class_name(self) -> str | None: ...
    @property
    def class_id(self) -> str | None: ...
    @property
    def ids(self) -> str | None: ...


def device_name(dev: NamedDevice) -> str:
    """A short name for sentences. For a GPU, the marketing name pci.ids keeps in brackets
    ("GP104 [GeForce GTX 1080]" -> "GeForce GTX 1080"); other devices' brackets hold codenames or
    modes ("[AHCI mode]", "[Stone Peak]"), so they keep the full name, and a SATA controller is never
    called "AHCI mode". No name: class and ids."""
    name = dev.device_name
    if name and (dev.class_id or "").startswith("03"):
        open_at, close_at = name.rfind("["), name.rfind("]")
        if 0 <= open_at < close_at == len(name) - 1:
            inner = name[open_at + 1 : close_at].strip()
            if inner:
                return inner
    if name:
        return name
    label = dev.class_name or "PCI device"
    return f"{label} [{dev.ids}]" if dev.ids else label


def device_label(dev: NamedDevice | None, address: str) -> str:
    """ "GeForce GTX 1080 (08:00.0)": a host device in lists and sentences; the short address alone
    when the host does not have it (a card that was removed)."""
    short = short_address(address)
    return f"{device_name(dev)} ({short})" if dev is not None else short
