"""HostRoot opens the live host, directories and tarballs; anything else is one clear error."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from vfiodeck.core.errors import BadRootError
from vfiodeck.core.host.root import HostRoot

HWLOC = Path(__file__).resolve().parents[2] / "fixtures" / "hwloc"


def test_slash_is_the_live_host() -> None:
    root = HostRoot.open("/")
    assert root.live
    assert root.label == "/"
    assert HostRoot.open(None).live


@pytest.mark.parametrize("name", sorted(p.name for p in HWLOC.iterdir() if p.is_dir()))
def test_every_hwloc_tarball_opens_as_it_is(name: str) -> None:
    root = HostRoot.open(HWLOC / name / f"{name}.tar.bz2")
    assert (root.path / "sys" / "devices" / "system" / "cpu").is_dir()
    assert root.label == f"{name}.tar.bz2"
    assert not root.live


def test_a_directory_with_a_single_capture_folder_inside(tmp_path: Path) -> None:
    (tmp_path / "capture" / "sys").mkdir(parents=True)
    assert HostRoot.open(tmp_path).path == tmp_path / "capture"
    assert HostRoot.open(tmp_path / "capture").path == tmp_path / "capture"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "nope", "no such file or directory"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "not a host root"),
        (lambda p: (p / "notes.txt").write_text("hello") and p / "notes.txt", "not a directory or a tarball"),
        (
            lambda p: (p / "broken.tar.gz").write_bytes(b"\x1f\x8b garbage") and p / "broken.tar.gz",
            "cannot unpack it",
        ),
    ],
)
def test_bad_roots_give_one_line(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadRootError) as err:
        HostRoot.open(make(tmp_path))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_unsafe_tar_members_are_skipped_not_fatal(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sys").mkdir(parents=True)
    (src / "proc").mkdir()
    (src / "proc" / "cmdline").write_text("quiet\n")
    tarball = tmp_path / "odd.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(src / "sys", arcname="sys")
        tar.add(src / "proc", arcname="proc")
        evil = tarfile.TarInfo("proc/escape")
        evil.type = tarfile.SYMTYPE
        evil.linkname = "/etc/shadow"
        tar.addfile(evil)
    root = HostRoot.open(tarball)
    assert (root.path / "proc" / "cmdline").read_text() == "quiet\n"
    assert not (root.path / "proc" / "escape").exists()
