"""A snapshot round-trips: inspect on it gives the same JSON as on the root it was taken from."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.hostbuilder import LISTINGS_DIR, build_root_from_listing
from vfiodeck.core import cli
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.snapshot import SnapshotError, write_snapshot

HWLOC = Path(__file__).resolve().parents[1] / "fixtures" / "hwloc"


def inspect(capsys: pytest.CaptureFixture[str], root: str) -> dict[str, Any]:
    assert cli.main(["inspect", "--json", "--root", root]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "capture", ["32em64t-2n8c+dax+nvme+mic+dimms", "2pa-pcidomain32bits", "48amd64-4pa2n6c-sparse"]
)
def test_capture_round_trips(capture: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tarball = str(HWLOC / capture / f"{capture}.tar.bz2")
    out = tmp_path / "snap.tar.gz"
    assert cli.main(["snapshot", "-o", str(out), "--root", tarball]) == 0
    assert "wrote" in capsys.readouterr().out
    assert inspect(capsys, str(out)) == inspect(capsys, tarball)


def test_listing_root_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (listing,) = LISTINGS_DIR.glob("z690*.txt")
    root = build_root_from_listing(listing, tmp_path / "root")
    out = tmp_path / "z690.tar.gz"
    write_snapshot(HostRoot.open(root), out)
    original = inspect(capsys, str(root))
    assert original["iommu"]["enabled"] is True
    assert inspect(capsys, str(out)) == original


def test_only_allow_listed_paths_and_relative_links(tmp_path: Path) -> None:
    root = HostRoot.open(
        HWLOC / "32em64t-2n8c+dax+nvme+mic+dimms" / "32em64t-2n8c+dax+nvme+mic+dimms.tar.bz2"
    )
    out = tmp_path / "s.tar.gz"
    summary = write_snapshot(root, out)
    with tarfile.open(out) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert all(n.startswith("vfiodeck-snapshot") for n in names)
    assert not any("/proc/self" in n for n in names)
    # The host-in-use guard's files are taken, the mount table without its options.
    assert "vfiodeck-snapshot/proc/mounts" in names
    assert any(n.startswith("vfiodeck-snapshot/sys/class/net/") for n in names)
    with tarfile.open(out) as tar:
        mounts = tar.extractfile("vfiodeck-snapshot/proc/mounts").read().decode()  # type: ignore[union-attr]
    assert "/dev/sda1 / ext3 rw 0 0" in mounts.splitlines()
    assert "relatime" not in mounts
    assert "errors=" not in mounts
    links = [m for m in members if m.issym()]
    assert links
    assert len(links) == summary.links
    assert all(not m.linkname.startswith("/") for m in links)
    assert summary.bytes_written < 1 << 20


@pytest.mark.host
def test_live_host_snapshot_reopens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "live.tar.gz"
    write_snapshot(HostRoot.open("/"), out)
    assert inspect(capsys, str(out))["schema"] == 1


def test_unwritable_destination_leaves_nothing(tmp_path: Path) -> None:
    root = HostRoot.open(HWLOC / "2pa-pcidomain32bits" / "2pa-pcidomain32bits.tar.bz2")
    with pytest.raises(SnapshotError):
        write_snapshot(root, tmp_path / "missing-dir" / "s.tar.gz")
    assert (
        cli.main(["snapshot", "-o", str(tmp_path / "missing-dir" / "s.tar.gz"), "--root", str(root.path)])
        == 2
    )
    assert list(tmp_path.iterdir()) == []
