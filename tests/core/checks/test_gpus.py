"""above_4g_decoding, reset_support and boot_gpu on real captures and real IOMMU listings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.core.checks.roots import LISTINGS_DIR, checks_of, real_text
from tests.hostbuilder import build_root_from_listing
from vfiodeck.core.checks import Check, Status
from vfiodeck.core.host.root import HostRoot

Checks = Callable[[str], dict[str, Check]]

B550M = "b550m-msi-mortar-rtx2070super-turing-gt710.txt"  # GT 710 at 04:00.0, RTX 2070 SUPER at 2b:00.0
B550_AMD = "b550-gigabyte-aorus-pro-rx6950xt-rx550.txt"


def _reset_value(rel: str, line: int) -> str:
    """One answer line of a real ``cat reset_method`` transcript (line 0 is the first answer)."""
    answers = [ln.strip() for ln in real_text(rel).splitlines() if ln.strip() and "cat " not in ln]
    return answers[line]


def _listing_root(tmp_path: Path, listing: str, files: dict[str, str]) -> HostRoot:
    """A root from a real listing, plus per-device sysfs attributes ("0000:2b:00.0/boot_vga")."""
    root = build_root_from_listing(LISTINGS_DIR / listing, tmp_path / "root")
    for rel, text in files.items():
        address, attr = rel.split("/")
        domain, bus, _ = address.split(":")
        (root / "sys" / "devices" / f"pci{domain}:{bus}" / address / attr).write_text(text)
    return HostRoot.open(root)


# -- above_4g_decoding --------------------------------------------------------------------------
def test_bars_above_4g_pass(hwloc_checks: Checks) -> None:
    check = hwloc_checks("32intel64-2p8co2t+8ve")["above_4g_decoding"]
    assert check.status is Status.PASS
    assert check.evidence == "sys/bus/pci/devices/0000:1a:00.0/resource: BAR 0 at 0x39f000000000"


def test_gpu_with_all_bars_below_4g_warns(hwloc_checks: Checks) -> None:
    # A QEMU guest's Cirrus VGA (1013:00b8), BARs at 0xfc000000 and 0xfebd0000.
    check = hwloc_checks("2pa-pcidomain32bits")["above_4g_decoding"]
    assert check.status is Status.WARN
    assert check.evidence.startswith("sys/bus/pci/devices/0000:00:02.0/resource: all BARs below 4 GiB")
    assert '"Above 4G Decoding"' in check.fix
    assert '"Re-Size BAR Support"' in check.fix


def test_listing_without_resource_files_is_unknown(tmp_path: Path) -> None:
    check = checks_of(_listing_root(tmp_path, B550M, {}))["above_4g_decoding"]
    assert check.status is Status.UNKNOWN


# -- reset_support ------------------------------------------------------------------------------
def test_flr_on_both_gpus_passes(tmp_path: Path) -> None:
    flr_bus = _reset_value("sysfs-files/reset_method-mellanox-connectx5-ex-flr-bus.txt", 0)
    assert flr_bus == "flr bus"
    files = {"0000:04:00.0/reset_method": flr_bus + "\n", "0000:2b:00.0/reset_method": flr_bus + "\n"}
    check = checks_of(_listing_root(tmp_path, B550M, files))["reset_support"]
    assert check.status is Status.PASS
    assert check.evidence == (
        "sys/bus/pci/devices: 04:00.0/reset_method: flr bus; 2b:00.0/reset_method: flr bus"
    )


def test_amd_gpu_with_bus_reset_only_warns_vendor_reset(tmp_path: Path) -> None:
    bus = _reset_value("sysfs-files/reset_method-tegra-rootport-pm-and-endpoint-bus.txt", 1)
    assert bus == "bus"
    root = build_root_from_listing(LISTINGS_DIR / B550_AMD, tmp_path / "probe")
    gpus = sorted(
        p.name
        for p in (root / "sys/bus/pci/devices").iterdir()
        if (p / "class").read_text().startswith("0x03")
    )
    files = {f"{gpu}/reset_method": bus + "\n" for gpu in gpus}
    check = checks_of(_listing_root(tmp_path, B550_AMD, files))["reset_support"]
    assert check.status is Status.WARN
    assert "vendor-reset" in check.fix
    assert check.evidence == "sys/bus/pci/devices: 04:00.0/reset_method: bus; 08:00.0/reset_method: bus"


def test_empty_reset_method_warns(tmp_path: Path) -> None:
    files = {"0000:04:00.0/reset_method": "\n", "0000:2b:00.0/reset_method": "flr bus\n"}
    check = checks_of(_listing_root(tmp_path, B550M, files))["reset_support"]
    assert check.status is Status.WARN
    assert "04:00.0/reset_method: empty (no reset method)" in check.evidence


def test_capture_without_reset_method_is_unknown(hwloc_checks: Checks) -> None:
    check = hwloc_checks("40intel64-2g2n4c+pcilocality")["reset_support"]
    assert check.status is Status.UNKNOWN
    assert check.evidence.endswith("reset_method: not captured")


def test_no_gpu_is_unknown(hwloc_checks: Checks) -> None:
    check = hwloc_checks("20em64t-hybrid-1p6c2t+2ca4co1t")["reset_support"]
    assert check.status is Status.UNKNOWN


# -- boot_gpu -----------------------------------------------------------------------------------
def test_only_gpu_is_boot_vga_warns(hwloc_checks: Checks) -> None:
    # A server's Matrox BMC VGA (102b:0532), boot_vga 1, the only GPU.
    check = hwloc_checks("40intel64-2g2n4c+pcilocality")["boot_gpu"]
    assert check.status is Status.WARN
    assert check.evidence == "sys/bus/pci/devices/0000:09:03.0/boot_vga: 1 (the only GPU)"
    assert "gives up its console" in check.fix


def test_two_gpus_names_the_one_to_pass(tmp_path: Path) -> None:
    files = {"0000:04:00.0/boot_vga": "1\n", "0000:2b:00.0/boot_vga": "0\n"}
    check = checks_of(_listing_root(tmp_path, B550M, files))["boot_gpu"]
    assert check.status is Status.PASS
    assert check.evidence.startswith("sys/bus/pci/devices/0000:04:00.0/boot_vga: 1; other GPUs: 2b:00.0")
    assert "keep it for the host and pass 2b:00.0" in check.fix


def test_boot_vga_not_captured_is_unknown(tmp_path: Path) -> None:
    check = checks_of(_listing_root(tmp_path, B550M, {}))["boot_gpu"]
    assert check.status is Status.UNKNOWN
    assert check.evidence == "sys/bus/pci/devices/*/boot_vga: boot_vga not captured"
