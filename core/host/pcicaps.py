"""PCI capabilities from a device's config space bytes: FLR, ACS, Resizable BAR and SR-IOV.

Pure: bytes in, a ``PciCapabilities`` out, never an exception. The truth is what ``lspci -vvv``
prints for the same bytes, so the walks follow its rules: the standard list only when the Status
register says there is one, the extended list only behind a PCI Express capability. A field is
None when the bytes do not reach it (a non-root read of ``config`` gives 64 bytes; 256 reach the
standard capabilities; only more reach the extended ones), and "absent" when they do and the
capability is not there. Lists are walked defensively: a pointer into the header or past the end
stops the walk, and so does a capability seen twice (a loop, or a ``next`` pointing back).
"""

from __future__ import annotations

from vfiodeck.core.host.model import Acs, AcsFlags, PciCapabilities, RebarEntry, Sriov

STANDARD_BYTES = 256  # the PCI-compatible space: header + standard capability list
_STATUS = 0x06
_STATUS_CAP_LIST = 0x10
_HEADER_TYPE = 0x0E
_CAP_POINTER = 0x34
_CARDBUS_CAP_POINTER = 0x14
_FIRST_STANDARD_CAP = 0x40
_FIRST_EXTENDED_CAP = 0x100

_CAP_ID_EXP = 0x10
_CAP_ID_AF = 0x13
_EXP_DEVCAP_FLR = 1 << 28
# lspci reads DevCap's FLReset bit only for these PCIe device/port types (it is reserved for ports).
_FLR_TYPES = frozenset({0x0, 0x1, 0x9})  # endpoint, legacy endpoint, root complex integrated endpoint
_AF_CAP_FLR = 0x02

_EXT_ACS = 0x000D
_EXT_SRIOV = 0x0010
_EXT_REBAR = 0x0015


def _u16(data: bytes, at: int) -> int:
    return data[at] | data[at + 1] << 8


def _u32(data: bytes, at: int) -> int:
    return data[at] | data[at + 1] << 8 | data[at + 2] << 16 | data[at + 3] << 24


def _standard_caps(data: bytes) -> dict[int, int] | None:
    """Capability id -> offset of its first instance; None when the list leaves the bytes read."""
    if not _u16(data, _STATUS) & _STATUS_CAP_LIST:
        return {}
    header_type = data[_HEADER_TYPE] & 0x7F
    pointer_at = _CARDBUS_CAP_POINTER if header_type == 2 else _CAP_POINTER
    where = data[pointer_at] & ~3
    found: dict[int, int] = {}
    seen: set[int] = set()
    while where:
        if where < _FIRST_STANDARD_CAP or where in seen:
            break  # into the header, or a loop
        if where + 4 > len(data):
            return None
        seen.add(where)
        cap_id = data[where]
        if cap_id == 0xFF:
            break  # lspci: "<chain broken>"
        found.setdefault(cap_id, where)
        where = data[where + 1] & ~3
    return found


def _extended_caps(data: bytes) -> dict[int, int]:
    found: dict[int, int] = {}
    seen: set[int] = set()
    where = _FIRST_EXTENDED_CAP
    while where and where + 4 <= len(data) and where not in seen:
        seen.add(where)
        header = _u32(data, where)
        if header in (0, 0xFFFFFFFF):
            break
        found.setdefault(header & 0xFFFF, where)
        where = (header >> 20) & ~3
        if where < _FIRST_EXTENDED_CAP:
            break
    return found


def _flr(data: bytes, caps: dict[int, int]) -> bool | None:
    express = caps.get(_CAP_ID_EXP)
    if express is not None:
        if express + 8 > len(data):
            return None
        port_type = (_u16(data, express + 2) >> 4) & 0xF
        if port_type in _FLR_TYPES and _u32(data, express + 4) & _EXP_DEVCAP_FLR:
            return True
    features = caps.get(_CAP_ID_AF)
    if features is not None:
        if features + 4 > len(data):
            return None
        if data[features + 3] & _AF_CAP_FLR:
            return True
    return False


def _acs_flags(word: int) -> AcsFlags:
    return AcsFlags(*(bool(word >> bit & 1) for bit in range(7)))


def _acs(data: bytes, where: int | None) -> Acs | None:
    if where is None:
        return Acs(present=False)
    if where + 8 > len(data):
        return None
    return Acs(present=True, cap=_acs_flags(_u16(data, where + 4)), ctrl=_acs_flags(_u16(data, where + 6)))


def _rebar(data: bytes, where: int | None) -> tuple[RebarEntry, ...] | None:
    if where is None:
        return ()
    if where + 12 > len(data):
        return None
    count = (_u32(data, where + 8) >> 5) & 0x7
    if not 1 <= count <= 6 or where + 4 + count * 8 > len(data):
        return ()  # lspci: "error in resizable BAR": nothing it would list
    entries: list[RebarEntry] = []
    for index in range(count):
        sizes = _u32(data, where + 4 + index * 8) >> 4
        control = _u32(data, where + 8 + index * 8)
        extended = control >> 16
        supported = [1 << bit for bit in range(28) if sizes >> bit & 1]
        supported += [1 << (28 + bit) for bit in range(16) if extended >> bit & 1]
        current = 1 << ((control >> 8) & 0x3F)
        entries.append(RebarEntry(bar=control & 0x7, current_mib=current, supported_mib=tuple(supported)))
    return tuple(entries)


def _sriov(data: bytes, where: int | None) -> Sriov | None:
    if where is None:
        return Sriov(present=False)
    if where + 0x12 > len(data):
        return None
    return Sriov(present=True, total_vfs=_u16(data, where + 0x0E), num_vfs=_u16(data, where + 0x10))


def parse_capabilities(data: bytes) -> PciCapabilities:
    """The capabilities ``lspci -vvv`` would print for these config bytes. Never raises."""
    size = len(data)
    nothing = PciCapabilities(config_bytes=size)
    if size < _FIRST_STANDARD_CAP or data[:4] == b"\xff\xff\xff\xff":
        return nothing  # too short to hold a header, or a powered-off device reading all ones
    if size < STANDARD_BYTES:
        return nothing
    caps = _standard_caps(data)
    if caps is None:
        return nothing
    flr = _flr(data, caps)
    if size <= STANDARD_BYTES:
        return PciCapabilities(config_bytes=size, flr=flr)
    if _CAP_ID_EXP not in caps:
        # Conventional PCI: no extended space, so lspci lists no extended capabilities.
        return PciCapabilities(size, flr, Acs(present=False), (), Sriov(present=False))
    ext = _extended_caps(data)
    return PciCapabilities(
        config_bytes=size,
        flr=flr,
        acs=_acs(data, ext.get(_EXT_ACS)),
        rebar=_rebar(data, ext.get(_EXT_REBAR)),
        sriov=_sriov(data, ext.get(_EXT_SRIOV)),
    )


PORT_ROOT, PORT_UPSTREAM, PORT_DOWNSTREAM = 0x4, 0x5, 0x6


def pcie_port_type(data: bytes) -> int | None:
    """The PCI Express device/port type (4 root port, 5 switch upstream, 6 switch downstream, ...);
    None for conventional PCI or when the bytes do not reach the PCI Express capability."""
    if len(data) < _FIRST_STANDARD_CAP or data[:4] == b"\xff\xff\xff\xff":
        return None
    caps = _standard_caps(data)
    where = caps.get(_CAP_ID_EXP) if caps else None
    if where is None or where + 4 > len(data):
        return None
    return int(data[where + 2] >> 4 & 0xF)
