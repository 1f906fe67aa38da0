"""`vfio-deck inspect` and `snapshot` as a user runs them: the JSON contract, the text report, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.hostbuilder import LISTINGS_DIR, build_root_from_listing
from vfiodeck.core import cli

HWLOC = Path(__file__).resolve().parents[1] / "fixtures" / "hwloc"
CAPTURE = HWLOC / "32intel64-2p8co2t+8ve" / "32intel64-2p8co2t+8ve.tar.bz2"


def inspect_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert cli.main(["inspect", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def x399_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    (listing,) = LISTINGS_DIR.glob("x399*.txt")
    return build_root_from_listing(listing, tmp_path_factory.mktemp("x399"))


def test_json_contract_on_a_capture(capsys: pytest.CaptureFixture[str]) -> None:
    out = inspect_json(capsys, "--root", str(CAPTURE))
    assert out["schema"] == 1
    assert set(out) >= {
        "schema",
        "cpu",
        "numa_nodes",
        "cache_domains",
        "cores",
        "pci_devices",
        "iommu",
        "passthrough_candidates",
        "checks",
    }
    assert out["cpu"]["vendor"] == "GenuineIntel"
    assert out["cpu"]["virtualization"] == "vmx"
    assert (out["cpu"]["packages"], out["cpu"]["cores"], out["cpu"]["threads"]) == (2, 16, 32)
    assert [n["id"] for n in out["numa_nodes"]] == [0, 1]
    assert all(n["cpus"] == sorted(n["cpus"]) for n in out["numa_nodes"])
    assert len(out["cache_domains"]) == 2
    assert all(d["level"] == 3 for d in out["cache_domains"])
    addresses = [d["address"] for d in out["pci_devices"]]
    assert addresses == sorted(addresses)
    assert len(addresses) == 28
    dev = out["pci_devices"][0]
    assert set(dev) == {
        "address",
        "vendor_id",
        "device_id",
        "class",
        "vendor_name",
        "device_name",
        "class_name",
        "driver",
        "iommu_group",
        "numa_node",
        "boot_vga",
        "reset_methods",
        "capabilities",
    }
    assert out["iommu"] == {"enabled": False, "groups": []}
    for check in out["checks"]:
        assert set(check) >= {"id", "status", "title", "evidence", "fix"}
        assert check["status"] in ("pass", "warn", "fail", "unknown")


def test_json_candidates_on_a_listing(capsys: pytest.CaptureFixture[str], x399_root: Path) -> None:
    out = inspect_json(capsys, "--root", str(x399_root))
    assert out["iommu"]["enabled"] is True
    by_device = {c["device"]: c for c in out["passthrough_candidates"]}
    gtx1080 = by_device["0000:08:00.0"]
    assert gtx1080["kind"] == "gpu"
    assert gtx1080["functions"] == ["0000:08:00.0", "0000:08:00.1"]
    assert gtx1080["isolated"] is True
    assert gtx1080["blockers"] == []
    assert gtx1080["binding"] == {"method": "ids", "ids": ["10de:10f0", "10de:1b80"]}
    nic = by_device["0000:04:00.0"]
    assert nic["isolated"] is False
    assert "0000:01:00.0" in nic["blockers"]


def test_json_is_stable_between_runs(capsys: pytest.CaptureFixture[str], x399_root: Path) -> None:
    first = inspect_json(capsys, "--root", str(x399_root))
    second = inspect_json(capsys, "--root", str(x399_root))
    assert first == second


def test_text_report_speaks_in_words(capsys: pytest.CaptureFixture[str], x399_root: Path) -> None:
    assert cli.main(["inspect", "--root", str(x399_root)]) == 0
    out = capsys.readouterr().out
    assert "GeForce GTX 1080 at 08:00.0 can be passed alone: 2 functions" in out
    assert "Group 13:" in out
    assert "[GPU] 08:00.0" in out
    assert "needs its blockers" in out


@pytest.mark.host
def test_live_host_does_not_crash(capsys: pytest.CaptureFixture[str]) -> None:
    out = inspect_json(capsys)
    assert out["schema"] == 1
    assert isinstance(out["iommu"]["enabled"], bool)


@pytest.mark.parametrize(
    "argv", [["inspect", "--root", "/no/such/root"], ["inspect", "--json", "--root", "/etc/hostname"]]
)
def test_bad_root_exits_2_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("vfio-deck: ")
    assert err.count("\n") == 1


def test_console_command_bad_root() -> None:
    exe = Path(sys.executable).with_name("vfio-deck")
    result = subprocess.run(
        [str(exe), "inspect", "--root", "/no/such"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "vfio-deck: /no/such: no such file or directory"
