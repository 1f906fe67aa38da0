"""acs_path, rebar_fit and the per-device rows on real config-space dumps, laid out as sysfs does."""

from __future__ import annotations

import os
from pathlib import Path

from tests.hexdump import read_dumps
from vfiodeck.core.checks.acs import candidate_path, port_verdict
from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.devices import device_rows
from vfiodeck.core.checks.model import Status
from vfiodeck.core.checks.rebar import check_rebar_fit
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.scan import scan_host
from vfiodeck.core.host.sysfs import Reader

DUMPS = Path(__file__).resolve().parents[2] / "fixtures" / "pci" / "config-dumps"
SUNRISE = "pciutils-sunrisepoint-rootport-acs-gp108m-mx150-tb3-4096.txt"
NAVI10 = "amd-rx5600xt-navi10-1002-731f-rebar-bar0-8g-above-4g-nn-v-xxxx-4096.txt"
X99_PCH = "c610-x99-pch-rootport-00-1c.4-8d18-no-acs-cap-4096.txt"
X99_CPU = "haswell-e-x99-rootport-00-01.0-2f02-acs-4096.txt"


def _write_device(base: Path, path: str, data: bytes, resource: str | None = None) -> None:
    """One device folder (ids and class from its own config bytes) and its sys/bus/pci link."""
    folder = base / "sys" / "devices" / path
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config").write_bytes(data)
    (folder / "vendor").write_text(f"0x{data[1]:02x}{data[0]:02x}\n")
    (folder / "device").write_text(f"0x{data[3]:02x}{data[2]:02x}\n")
    (folder / "class").write_text(f"0x{data[11]:02x}{data[10]:02x}{data[9]:02x}\n")
    if resource is not None:
        (folder / "resource").write_text(resource)
    links = base / "sys" / "bus" / "pci" / "devices"
    links.mkdir(parents=True, exist_ok=True)
    name = path.rsplit("/", 1)[1]
    os.symlink(os.path.relpath(folder, links), links / name)


def _ctx(base: Path) -> CheckContext:
    (base / "proc").mkdir(exist_ok=True)
    root = HostRoot.open(base)
    host = scan_host(root)
    return CheckContext(host, Reader(root), host.candidates)


def _dumps(name: str) -> dict[str, bytes]:
    return {d.address: d.data for d in read_dumps((DUMPS / name).read_text())}


def test_root_port_with_acs_switched_off(tmp_path: Path) -> None:
    """The MX150 laptop: its root port 00:1c.0 (secondary bus 2, byte 0x19) has ACS, all off."""
    dumps = _dumps(SUNRISE)
    assert dumps["00:1c.0"][0x19] == 2
    _write_device(tmp_path, "pci0000:00/0000:00:1c.0", dumps["00:1c.0"])
    _write_device(tmp_path, "pci0000:00/0000:00:1c.0/0000:02:00.0", dumps["02:00.0"])
    ctx = _ctx(tmp_path)
    (cand,) = ctx.candidates
    assert cand.device == "0000:02:00.0"
    # lspci: ACSCap SrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd-; ACSCtl all -.
    # UpstreamFwd is not in the port's capability, so (as in the kernel) it is not required.
    assert candidate_path(ctx, cand) == (Status.WARN, ["00:1c.0: ACS present but SV RR CR off"])


def test_x99_pch_port_without_acs_and_cpu_port_with_it(tmp_path: Path) -> None:
    _write_device(tmp_path, "pci0000:00/0000:00:1c.4", _dumps(X99_PCH)["00:1c.4"])
    _write_device(tmp_path, "pci0000:00/0000:00:01.0", _dumps(X99_CPU)["00:01.0"])
    ctx = _ctx(tmp_path)
    assert port_verdict(ctx, "0000:00:1c.4") == (Status.WARN, "00:1c.4: no ACS capability")
    # lspci: ACSCtl SrcValid+ TransBlk- ReqRedir+ CmpltRedir+ UpstreamFwd+: what isolation needs.
    assert port_verdict(ctx, "0000:00:01.0") == (Status.PASS, "00:01.0: ACS on")


def test_short_config_reads_say_root_is_needed(tmp_path: Path) -> None:
    """A normal user's read of config: 64 bytes, so no ACS to judge."""
    _write_device(tmp_path, "pci0000:00/0000:00:1c.4", _dumps(X99_PCH)["00:1c.4"][:64])
    verdict = port_verdict(_ctx(tmp_path), "0000:00:1c.4")
    assert verdict is not None
    assert verdict[0] is Status.UNKNOWN
    assert "needs root" in verdict[1]


def test_navi10_bars_fit_and_its_row(tmp_path: Path) -> None:
    """RX 5600 XT: "Memory at 600000000 (64-bit, prefetchable) [size=8G]" and "Memory at 500000000
    [size=256M]" in the same lspci output, written as the kernel's resource lines (64-bit pref)."""
    resource = (
        "0x0000000600000000 0x00000007ffffffff 0x000000000014220c\n"
        "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
        "0x0000000500000000 0x000000050fffffff 0x000000000014220c\n"
    )
    _write_device(tmp_path, "pci0000:00/0000:28:00.0", _dumps(NAVI10)["28:00.0"], resource)
    ctx = _ctx(tmp_path)
    check = check_rebar_fit(ctx)
    assert check.status is Status.PASS
    assert check.evidence == "28:00.0 BAR 0 8192 MiB, 28:00.0 BAR 2 256 MiB (fits OVMF's 32 GiB window)"
    (row,) = device_rows(ctx)
    aspects = {item.aspect: item for item in row.items}
    assert aspects["reset"].status is Status.WARN  # Navi 10: the AMD reset bug
    assert "Navi 10" in aspects["reset"].text
    assert aspects["rebar"].status is Status.PASS
