"""``vfio-deck snapshot`` on hostile roots and destinations, and the live host's round trip."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from vfiodeck.core import cli
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.snapshot import write_snapshot

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo-hosts" / "demo-host.tar.gz"
KEY = "-----BEGIN OPENSSH PRIVATE KEY----- not a real key"


def inspect(capsys: pytest.CaptureFixture[str], root: str) -> dict[str, Any]:
    assert cli.main(["inspect", "--json", "--root", root]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    dest = tmp_path / "host"
    shutil.copytree(HostRoot.open(DEMO).path, dest, symlinks=True)
    return dest


def _names(tarball: Path) -> list[str]:
    with tarfile.open(tarball) as tar:
        return tar.getnames()


def _contents(tarball: Path) -> str:
    out = []
    with tarfile.open(tarball) as tar:
        for member in tar:
            if member.isfile():
                handle = tar.extractfile(member)
                assert handle is not None
                out.append(handle.read().decode("utf-8", "replace"))
    return "\n".join(out)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chroot")
def test_live_host_round_trip_keeps_pci_devices(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A snapshot of ``/`` (here: a chroot into the demo host, so the test does not depend on this
    machine) reopens to the same report, PCI devices included, compared as a whole."""
    out = tmp_path / "live.tar.gz"
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 1
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT, 0o644)
            os.chroot(demo_dir)
            os.chdir("/")
            write_snapshot(HostRoot.open("/"), "/live.tar.gz")
            with open("/live.tar.gz", "rb") as fh:
                os.write(fd, fh.read())
            os.unlink("/live.tar.gz")
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    original = inspect(capsys, str(demo_dir))
    assert original["pci_devices"]
    assert original["pci_devices"][0]["vendor_id"] is not None
    assert inspect(capsys, str(out)) == original


def test_folder_links_out_of_the_root_are_not_captured(demo_dir: Path, tmp_path: Path) -> None:
    ssh = tmp_path / "dot-ssh"
    ssh.mkdir()
    (ssh / "id_rsa.conf").write_text(KEY)
    (ssh / "cmdline").write_text(KEY)
    (demo_dir / "etc").mkdir(exist_ok=True)
    shutil.rmtree(demo_dir / "etc" / "modprobe.d", ignore_errors=True)
    os.symlink(ssh, demo_dir / "etc" / "modprobe.d")
    os.symlink(ssh / "id_rsa.conf", demo_dir / "etc" / "modules")
    shutil.rmtree(demo_dir / "proc")
    os.symlink(ssh, demo_dir / "proc")
    out = tmp_path / "snap.tar.gz"
    write_snapshot(HostRoot.open(demo_dir), out)
    assert "BEGIN OPENSSH" not in _contents(out)
    assert not any(n.endswith("id_rsa.conf") for n in _names(out))


def test_fifo_and_device_files_in_the_root_are_skipped(demo_dir: Path, tmp_path: Path) -> None:
    os.unlink(demo_dir / "proc" / "cmdline")
    os.mkfifo(demo_dir / "proc" / "cmdline")
    os.unlink(demo_dir / "proc" / "meminfo")
    os.symlink("/dev/zero", demo_dir / "proc" / "meminfo")
    out = tmp_path / "snap.tar.gz"
    write_snapshot(HostRoot.open(demo_dir), out)
    names = _names(out)
    assert "vfiodeck-snapshot/proc/cmdline" not in names
    assert "vfiodeck-snapshot/proc/cpuinfo" in names


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda tmp: Path("/dev/null"), id="dev-null"),
        pytest.param(lambda tmp: Path("/dev/stdout"), id="dev-stdout"),
        pytest.param(lambda tmp: os.mkfifo(tmp / "fifo") or tmp / "fifo", id="fifo"),
        pytest.param(lambda tmp: (tmp / "d").mkdir() or tmp / "d", id="directory"),
        pytest.param(
            lambda tmp: ((tmp / "t").write_text("keep"), os.symlink(tmp / "t", tmp / "l"), tmp / "l")[-1],
            id="symlink",
        ),
    ],
)
def test_existing_non_regular_target_is_refused(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    target = make(tmp_path)
    before = os.lstat(target)
    done = subprocess.run(
        [sys.executable, "-m", "vfiodeck.core.cli", "snapshot", "--root", str(DEMO), "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "not a regular file" in done.stderr
    assert len(done.stderr.splitlines()) == 1
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)
    assert not [p for p in os.listdir(target.parent) if p.startswith(".vfiodeck-snapshot-")]


def test_dash_writes_to_standard_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vfiodeck.core.cli", "snapshot", "--root", str(DEMO), "-o", "-"],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout[:2] == b"\x1f\x8b"
    assert b"wrote standard output" in done.stderr
    (tmp_path / "piped.tar.gz").write_bytes(done.stdout)
    assert inspect(capsys, str(tmp_path / "piped.tar.gz")) == inspect(capsys, str(DEMO))


@pytest.mark.parametrize(
    ("suffix", "magic"),
    [(".tar.gz", b"\x1f\x8b"), (".tar.bz2", b"BZh"), (".tar.xz", b"\xfd7zXZ\x00"), (".tar", None)],
)
def test_suffix_chooses_the_compression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str, magic: bytes | None
) -> None:
    out = tmp_path / f"snap{suffix}"
    write_snapshot(HostRoot.open(DEMO), out)
    head = out.read_bytes()[:6]
    if magic is None:
        assert out.read_bytes()[257:262] == b"ustar"
    else:
        assert head.startswith(magic)
    assert inspect(capsys, str(out)) == inspect(capsys, str(DEMO))


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file away")
def test_sudo_user_owns_the_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUDO_UID", "4321")
    monkeypatch.setenv("SUDO_GID", "4322")
    out = tmp_path / "snap.tar.gz"
    write_snapshot(HostRoot.open(DEMO), out)
    st = out.stat()
    assert (st.st_uid, st.st_gid) == (4321, 4322)
    assert st.st_mode & 0o444 == 0o444


@pytest.mark.parametrize("rel", ["proc/mounts", "proc/iomem"])
def test_rewritten_proc_files_are_read_as_untrusted(demo_dir: Path, tmp_path: Path, rel: str) -> None:
    """A FIFO is skipped, not waited on; a link out of the root is not followed."""
    path = demo_dir / rel
    if path.exists() or path.is_symlink():
        path.unlink()
    os.mkfifo(path)
    write_snapshot(HostRoot.open(demo_dir), tmp_path / "fifo.tar.gz")
    path.unlink()
    (tmp_path / "secret").write_text("/dev/sda1 /secret ext4 rw 0 0\n")
    os.symlink(tmp_path / "secret", path)
    write_snapshot(HostRoot.open(demo_dir), tmp_path / "link.tar.gz")
    assert "/secret" not in _contents(tmp_path / "link.tar.gz")
