"""parse_capabilities against lspci itself, on every published config-space dump in tests/fixtures/pci."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hexdump import Dump, read_dumps, to_lspci_dump
from vfiodeck.core.host.model import Acs, AcsFlags, PciCapabilities, RebarEntry, Sriov
from vfiodeck.core.host.pci import scan_pci
from vfiodeck.core.host.pcicaps import parse_capabilities
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.sysfs import Reader
from vfiodeck.core.report import _capabilities_dict

DUMPS = Path(__file__).resolve().parents[2] / "fixtures" / "pci" / "config-dumps"
DUMP_FILES = sorted(DUMPS.glob("*.txt"))
needs_lspci = pytest.mark.skipif(shutil.which("lspci") is None, reason="lspci (pciutils) is not installed")

_SIZES = {"MB": 1, "GB": 1 << 10, "TB": 1 << 20, "PB": 1 << 30, "EB": 1 << 40}
_ACS_NAMES = ("SrcValid", "TransBlk", "ReqRedir", "CmpltRedir", "UpstreamFwd", "EgressCtrl", "DirectTrans")


def _mib(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([MGTPE]B)", text).groups()  # type: ignore[union-attr]
    return int(number) * _SIZES[unit]


@dataclass
class LspciSays:
    """The fields as ``lspci -vvv`` prints them."""

    flr: bool
    acs_present: bool
    acs_cap: AcsFlags | None
    acs_ctrl: AcsFlags | None
    rebar: list[tuple[int, int, list[int]]]
    sriov: tuple[int, int] | None


def _acs_line(line: str) -> AcsFlags:
    return AcsFlags(*(f"{name}+" in line for name in _ACS_NAMES))


def _lspci(data: bytes, tmp_path: Path) -> LspciSays:
    dump = tmp_path / "dump.txt"
    dump.write_text(to_lspci_dump(data))
    run = subprocess.run(["lspci", "-F", str(dump), "-vvv"], capture_output=True, text=True, check=True)
    out = run.stdout
    lines = out.splitlines()
    assert lines, f"lspci did not read the dump: {run.stderr!r}"
    assert lines[0].startswith("00:00.0 ")
    flr = False
    acs_cap = acs_ctrl = None
    rebar: list[tuple[int, int, list[int]]] = []
    sriov = None
    in_rebar = False
    for i, line in enumerate(lines):
        text = line.strip()
        if text.startswith("DevCap:") and i + 1 < len(lines) and "FLReset+" in lines[i + 1]:
            flr = True
        if text.startswith("AFCap:") and "FLR+" in text:
            flr = True
        if text.startswith("ACSCap:"):
            acs_cap = _acs_line(text)
        if text.startswith("ACSCtl:"):
            acs_ctrl = _acs_line(text)
        if "Capabilities: [" in line:
            in_rebar = "Physical Resizable BAR" in line
        bar = re.match(r"BAR (\d+): current size: (\S+), supported: (.*)$", text)
        if in_rebar and bar:
            rebar.append((int(bar[1]), _mib(bar[2]), [_mib(s) for s in bar[3].split()]))
        vfs = re.search(r"Total VFs: (\d+), Number of VFs: (\d+)", text)
        if vfs:
            sriov = (int(vfs[1]), int(vfs[2]))
    return LspciSays(flr, "Access Control Services" in out, acs_cap, acs_ctrl, rebar, sriov)


def _all_dumps() -> list[tuple[str, Dump]]:
    return [
        (f"{path.name}:{dump.address}", dump) for path in DUMP_FILES for dump in read_dumps(path.read_text())
    ]


ALL_DUMPS = _all_dumps()


def test_every_shared_dump_is_read_whole() -> None:
    assert len(DUMP_FILES) == 19
    for name, dump in ALL_DUMPS:
        assert len(dump.data) in (64, 256, 4096), name
    assert len(ALL_DUMPS) >= 60  # the whole-machine captures hold many devices each


@needs_lspci
@pytest.mark.parametrize(("name", "dump"), ALL_DUMPS, ids=[n for n, _ in ALL_DUMPS])
def test_fields_equal_what_lspci_prints(name: str, dump: Dump, tmp_path: Path) -> None:
    data = dump.data
    caps = parse_capabilities(data)
    said = _lspci(data, tmp_path)
    assert caps.config_bytes == len(data)
    assert caps.flr is said.flr
    if len(data) <= 256:
        assert (caps.acs, caps.rebar, caps.sriov) == (None, None, None)
        return
    assert caps.acs is not None
    assert caps.rebar is not None
    assert caps.sriov is not None
    assert caps.acs.present is said.acs_present
    if said.acs_present:
        assert (caps.acs.cap, caps.acs.ctrl) == (said.acs_cap, said.acs_ctrl)
    assert [(e.bar, e.current_mib, list(e.supported_mib)) for e in caps.rebar] == said.rebar
    assert caps.sriov.present is (said.sriov is not None)
    if said.sriov is not None:
        assert (caps.sriov.total_vfs, caps.sriov.num_vfs) == said.sriov


def _one(file_part: str, address: str | None = None) -> bytes:
    (path,) = [p for p in DUMP_FILES if file_part in p.name]
    dumps = read_dumps(path.read_text())
    if address is not None:
        dumps = [d for d in dumps if d.address == address]
    return dumps[0].data


def test_known_facts_of_the_captures() -> None:
    """What each capture's description says, so a broken oracle run cannot pass silently."""
    fiji = parse_capabilities(_one("amd-fiji"))
    assert fiji.rebar == (RebarEntry(0, 256, (256, 512, 1024, 2048, 4096)),)
    navi = parse_capabilities(_one("rx5600xt"))
    assert navi.rebar is not None
    assert (navi.rebar[0].bar, navi.rebar[0].current_mib, navi.flr) == (0, 8192, False)
    sriov = parse_capabilities(_one("82576"))
    assert (sriov.flr, sriov.sriov) == (True, Sriov(present=True, total_vfs=8, num_vfs=1))
    pch = parse_capabilities(_one("c610-x99-pch"))
    assert pch.acs == Acs(present=False)
    x99 = parse_capabilities(_one("haswell-e-x99-rootport-00-01.0"))
    assert x99.acs is not None
    assert x99.acs.cap is not None
    assert x99.acs.cap.sv
    e1000e = parse_capabilities(_one("e1000e"))
    assert e1000e.flr is False  # the Advanced Features capability is there but not linked


def test_short_reads_give_nulls_not_guesses() -> None:
    full = _one("82576")
    assert parse_capabilities(full[:64]) == PciCapabilities(config_bytes=64)
    at_256 = parse_capabilities(full[:256])
    assert (at_256.flr, at_256.acs, at_256.rebar, at_256.sriov) == (True, None, None, None)
    assert parse_capabilities(b"") == PciCapabilities(config_bytes=0)


def test_powered_off_device_reads_all_ones() -> None:
    assert parse_capabilities(b"\xff" * 4096) == PciCapabilities(config_bytes=4096)


def test_a_looping_standard_list_ends() -> None:
    data = bytearray(_one("82576"))
    first = data[0x34]
    data[first + 1] = first  # next points at itself
    caps = parse_capabilities(bytes(data))
    assert caps.flr in (True, False)


def test_pointers_past_the_end_and_backwards_end_the_walk() -> None:
    data = bytearray(_one("82576"))
    data[0x34] = 0x20  # into the header: not a capability
    assert parse_capabilities(bytes(data)).flr is False
    ext = bytearray(_one("82576"))
    header = int.from_bytes(ext[0x100:0x104], "little")
    ext[0x100:0x104] = ((header & 0xFFFFF) | (0x100 << 20)).to_bytes(4, "little")  # next -> itself
    assert parse_capabilities(bytes(ext)).sriov is not None
    ext[0x100:0x104] = ((header & 0xFFFFF) | (0x040 << 20)).to_bytes(4, "little")  # next -> standard space
    assert parse_capabilities(bytes(ext)).acs is not None


def test_never_raises_on_cut_or_scrambled_bytes() -> None:
    rng = random.Random(10)
    for _, dump in ALL_DUMPS[:: max(1, len(ALL_DUMPS) // 12)]:
        data = dump.data
        for cut in range(0, len(data) + 1, 52):
            parse_capabilities(data[:cut])
        for _ in range(30):
            scrambled = bytearray(data)
            for _ in range(8):
                scrambled[rng.randrange(len(scrambled))] = rng.randrange(256)
            parse_capabilities(bytes(scrambled))


def _root_with_config(tmp_path: Path, config: bytes) -> HostRoot:
    dev_dir = tmp_path / "sys" / "devices" / "pci0000:00" / "0000:01:00.0"
    dev_dir.mkdir(parents=True)
    (dev_dir / "vendor").write_text("0x8086\n")
    (dev_dir / "device").write_text("0x10c9\n")
    (dev_dir / "class").write_text("0x020000\n")
    (dev_dir / "config").write_bytes(config)
    links = tmp_path / "sys" / "bus" / "pci" / "devices"
    links.mkdir(parents=True)
    (links / "0000:01:00.0").symlink_to("../../../devices/pci0000:00/0000:01:00.0")
    return HostRoot.open(tmp_path)


def test_scan_reads_config_once_and_the_report_shows_it(tmp_path: Path) -> None:
    config = _one("82576")
    root = _root_with_config(tmp_path, config + b"\0" * 4096)  # a snapshot file longer than config space
    (dev,) = scan_pci(Reader(root))
    assert dev.capabilities == parse_capabilities(config)
    assert dev.revision == "01"  # byte 8 of the same read: this capture has no revision file
    shown = _capabilities_dict(dev.capabilities)
    assert shown == {
        "config_bytes": 4096,
        "flr": True,
        "acs": {"present": False},
        "rebar": [],
        "sriov": {"present": True, "total_vfs": 8, "num_vfs": 1},
    }
    assert _capabilities_dict(parse_capabilities(config[:64])) == {
        "config_bytes": 64,
        "flr": None,
        "acs": None,
        "rebar": None,
        "sriov": None,
    }


def test_no_config_file_gives_no_capabilities(tmp_path: Path) -> None:
    root = _root_with_config(tmp_path, b"")
    (tmp_path / "sys" / "devices" / "pci0000:00" / "0000:01:00.0" / "config").unlink()
    (dev,) = scan_pci(Reader(root))
    assert dev.capabilities is None
    assert _capabilities_dict(None) is None
