"""Hostile tarballs: a real capture (the demo host) plus one malicious change each.

Every case must end with a one-line BadRootError or a host root that holds nothing outside its
own folder, whatever Python's tarfile offers (Debian 12's 3.11.2 has no extraction filter).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import tarfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pytest

from vfiodeck.core.errors import BadRootError
from vfiodeck.core.host import root as root_module
from vfiodeck.core.host import scratch as scratch_module
from vfiodeck.core.host import unpack as unpack_module
from vfiodeck.core.host.root import HostRoot

DEMO = Path(__file__).resolve().parents[3] / "resources" / "demo-hosts" / "demo-host.tar.gz"
TOP = "vfiodeck-snapshot"


def _member(name: str, kind: bytes = tarfile.REGTYPE, **attrs: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    for key, value in attrs.items():
        setattr(info, key, value)
    return info


Extra = tuple[tarfile.TarInfo, bytes | None]


def file_(name: str, data: bytes = b"x\n", **attrs: object) -> Extra:
    return _member(name, size=len(data), **attrs), data


def dir_(name: str) -> Extra:
    return _member(name, tarfile.DIRTYPE), None


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> Extra:
    return _member(name, kind, linkname=target), None


@cache
def _demo_tar() -> bytes:
    """The demo capture as an uncompressed tar (read once: gzip costs more than the tests)."""
    return gzip.decompress(DEMO.read_bytes())


def hostile(dest: Path, extras: Iterable[Extra], *, first: bool = False, mode: str = "w:gz") -> Path:
    """The demo host's capture with ``extras`` added after (or before) its own members."""
    extras = list(extras)
    level = {"compresslevel": 1} if mode == "w:gz" else {}
    with (
        tarfile.open(fileobj=io.BytesIO(_demo_tar())) as src,
        tarfile.open(dest, mode, format=tarfile.GNU_FORMAT, **level) as out,  # type: ignore[call-overload]
    ):
        if first:
            for info, data in extras:
                out.addfile(info, io.BytesIO(data) if data is not None else None)
        for info in src:
            out.addfile(info, src.extractfile(info) if info.isfile() else None)
        if not first:
            for info, data in extras:
                out.addfile(info, io.BytesIO(data) if data is not None else None)
    return dest


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Unpack below tmp_path/run, with a file beside it that an escape would overwrite."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "flag").write_text("original\n")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    monkeypatch.setattr(root_module, "_unpacked", {})
    # A registry of its own: remove_all() in a test must not remove the captures other tests
    # of this process unpacked and still use.
    monkeypatch.setattr(scratch_module, "_folders", [])
    return run


def assert_contained(run: Path) -> None:
    """Nothing was written beside the unpack folder, and no link in it leads out."""
    assert (run / "flag").read_text() == "original\n"
    outside = sorted(p.name for p in run.iterdir() if not p.name.startswith("vfiodeck-root-"))
    assert outside == ["flag"]
    for folder in run.glob("vfiodeck-root-*"):
        real_top = os.path.realpath(folder)
        for dirpath, dirnames, filenames in os.walk(folder):
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                if os.path.islink(path):
                    resolved = os.path.realpath(path)
                    assert os.path.commonpath([resolved, real_top]) == real_top, path
                else:
                    mode = os.lstat(path).st_mode
                    assert stat.S_ISDIR(mode) or stat.S_ISREG(mode), path
                    assert not mode & (stat.S_ISUID | stat.S_ISGID), path


def opens_like_the_demo(root: HostRoot) -> None:
    assert (root.path / "sys" / "bus" / "pci" / "devices").is_dir()
    assert (root.path / "proc" / "cpuinfo").is_file()


def test_path_max_symlink_chain_does_not_escape(tmp_path: Path, scratch: Path) -> None:
    """The CVE-2025-4517 layout: links through long folder names that make realpath() give up
    past PATH_MAX, a link that climbs back through them, then writes through the chain."""
    steps = "abcdefghijklmnop"
    long_name = "d" * 247
    extras: list[Extra] = []
    folder = TOP  # inside the capture's own folder, so the host still opens
    for step in steps:
        extras.append(dir_(os.path.join(folder, long_name)))
        extras.append(link(os.path.join(folder, step), long_name))
        folder = os.path.join(folder, long_name)
    chain = os.path.join(TOP, *steps, "l" * 254)
    extras.append(link(chain, os.path.join(*[".."] * (len(steps) + 1))))  # the unpack folder
    extras.append(link(f"{TOP}/escape", os.path.join(chain[len(TOP) + 1 :], "..", "..")))  # beside it
    extras.append(link(f"{TOP}/flaglink", os.path.join(TOP, "escape", "flag"), tarfile.LNKTYPE))
    extras.append(file_(f"{TOP}/flaglink", b"overwritten\n"))
    extras.append(file_(f"{TOP}/escape/newfile", b"new\n"))
    extras.append(file_(f"{chain}/../newfile2", b"new\n"))
    root = HostRoot.open(hostile(tmp_path / "chain.tar.gz", extras))
    opens_like_the_demo(root)
    assert_contained(scratch)


@pytest.mark.parametrize(
    "extras",
    [
        pytest.param([file_("/tmp/abs-escape")], id="absolute-name"),
        pytest.param([file_("../flag", b"overwritten\n")], id="dotdot-name"),
        pytest.param([file_(f"{TOP}/../../flag", b"overwritten\n")], id="dotdot-inside-name"),
        pytest.param([link(f"{TOP}/up", "../../.."), file_(f"{TOP}/up/flag", b"x")], id="link-then-write"),
        pytest.param([link(f"{TOP}/proc/cmdline2", "/etc/shadow")], id="absolute-link"),
        pytest.param(
            [link(f"{TOP}/a/b/top", "../.."), link(f"{TOP}/a/b/out", "top/../..")], id="dotdot-after-link"
        ),
        pytest.param([link(f"{TOP}/hard", "../flag", tarfile.LNKTYPE)], id="hard-link-out"),
        pytest.param([link(f"{TOP}/hard", f"{TOP}/proc/cpuinfo", tarfile.LNKTYPE)], id="hard-link-in"),
        pytest.param(
            [(_member(f"{TOP}/dev-zero", tarfile.CHRTYPE, devmajor=1, devminor=5), None)], id="chardev"
        ),
        pytest.param([(_member(f"{TOP}/proc/interrupts2", tarfile.FIFOTYPE), None)], id="fifo"),
        pytest.param([file_(f"{TOP}/suid", b"#!/bin/sh\n", mode=0o6755)], id="setuid"),
        pytest.param([dir_(f"{TOP}/sgid-dir"), file_(f"{TOP}/sgid-dir/x", mode=0o2777)], id="setgid"),
        pytest.param([file_(f"{TOP}/x\x00y")], id="nul-in-name"),
        pytest.param([file_(f"{TOP}/" + "n" * 300)], id="component-too-long"),
    ],
)
def test_hostile_members_are_skipped(tmp_path: Path, scratch: Path, extras: list[Extra]) -> None:
    root = HostRoot.open(hostile(tmp_path / "evil.tar.gz", extras))
    opens_like_the_demo(root)
    assert_contained(scratch)


def test_file_before_link_of_the_same_folder_stays_a_folder(tmp_path: Path, scratch: Path) -> None:
    """Links come last: a link whose name is taken by a folder is dropped, never replaces it."""
    extras = [link(f"{TOP}/proc", "../.."), file_(f"{TOP}/proc/extra", b"kept\n")]
    root = HostRoot.open(hostile(tmp_path / "evil.tar.gz", extras))
    assert (root.path / "proc").is_dir()
    assert not (root.path / "proc").is_symlink()
    assert (root.path / "proc" / "extra").read_text() == "kept\n"
    assert_contained(scratch)


@pytest.mark.parametrize(
    ("name", "target", "inside"),
    [
        ("a/b/c", "../../x", True),
        ("a/b/c", "../../../x", False),
        ("a/b/c", "x/../y", False),
        ("a/b/c", "./../x", True),
        ("a/b/c", "/abs", False),
        ("a/b/c", "", False),
        ("c", "..", False),
        ("top/c", "..", True),
    ],
)
def test_link_rule(name: str, target: str, inside: bool) -> None:
    assert unpack_module.link_stays_inside(name.split("/"), target) is inside


def _too_many(limit: int) -> list[Extra]:
    return [file_(f"{TOP}/many/{i}", b"") for i in range(limit + 1)]


@pytest.mark.parametrize(
    ("extras", "patch", "message"),
    [
        pytest.param(lambda: _too_many(50), ("MAX_MEMBERS", 1717), "more than 1717 entries", id="members"),
        pytest.param(
            lambda: [file_(f"{TOP}/big{i}", b"\0" * 40_000) for i in range(3)],
            ("MAX_TOTAL_BYTES", 100_000),
            "add up to more than",
            id="total",
        ),
        pytest.param(
            lambda: [file_(f"{TOP}/huge", b"\0" * 300_000)],
            ("MAX_STREAM_BYTES", 200_000),
            "when unpacked",
            id="stream",
        ),
    ],
)
def test_limits_refuse_the_archive(
    tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch, extras, patch, message: str
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(unpack_module, patch[0], patch[1])
    with pytest.raises(BadRootError) as err:
        HostRoot.open(hostile(tmp_path / "big.tar.gz", extras()))
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert sorted(p.name for p in scratch.iterdir()) == ["flag"]  # the half-unpacked copy is gone


def _gnu_sparse_header(name: str, real_size: int) -> bytes:
    """An old-GNU sparse header ('S'): nothing stored, ``real_size`` bytes once expanded."""
    block = bytearray(_member(name, size=0).tobuf(tarfile.GNU_FORMAT))
    block[156:157] = tarfile.GNUTYPE_SPARSE
    block[483:495] = b"%011o\0" % real_size
    block[148:156] = b" " * 8
    block[148:155] = b"%06o\0" % sum(block)
    return bytes(block)


def test_a_sparse_gigabyte_is_not_unpacked(tmp_path: Path, scratch: Path) -> None:
    """A GNU sparse member: 1 GiB once expanded, one header in the archive."""
    tarball = tmp_path / "sparse.tar"
    hostile(tarball, [], mode="w")
    data = bytearray(tarball.read_bytes().rstrip(b"\0"))
    data += b"\0" * (-len(data) % 512)
    data += _gnu_sparse_header(f"{TOP}/proc/meminfo2", 1 << 30) + b"\0" * 1024
    tarball.write_bytes(bytes(data))
    with tarfile.open(tarball) as tar:
        assert tar.getmember(f"{TOP}/proc/meminfo2").size == 1 << 30  # tarfile would expand it
    root = HostRoot.open(tarball)
    assert not (root.path / "proc" / "meminfo2").exists()
    assert_contained(scratch)


def test_deep_member_is_skipped_and_cleanup_works(tmp_path: Path, scratch: Path) -> None:
    deep = f"{TOP}/" + "/".join(["d"] * 1200) + "/f"
    root = HostRoot.open(hostile(tmp_path / "deep.tar.gz", [file_(deep[:1000]), file_(deep)]))
    opens_like_the_demo(root)
    depth = max(len(Path(d).relative_to(root.path).parts) for d, _, _ in os.walk(root.path))
    assert depth <= unpack_module.MAX_DEPTH
    from vfiodeck.core.host import scratch as scratch_module

    for folder in scratch.glob("vfiodeck-root-*"):  # only this test's: others are cached per session
        scratch_module.remove(str(folder))
    assert sorted(p.name for p in scratch.iterdir()) == ["flag"]


def test_huge_pax_header_is_refused_without_reading_it(tmp_path: Path, scratch: Path) -> None:
    tarball = tmp_path / "pax.tar"
    hostile(tarball, [], mode="w")
    data = bytearray(tarball.read_bytes().rstrip(b"\0"))
    data += b"\0" * (-len(data) % 512)
    pax = _member("././@PaxHeader", tarfile.XHDTYPE, size=1 << 30)
    data += pax.tobuf(tarfile.USTAR_FORMAT) + b"\0" * 4096
    tarball.write_bytes(bytes(data))
    with pytest.raises(BadRootError) as err:
        HostRoot.open(tarball)
    assert "\n" not in str(err.value)


def _compress(data: bytes, kind: str) -> bytes:
    return {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress, "tar": bytes}[kind](data)


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz"])
@pytest.mark.parametrize("cut", [0.3, 0.7, 0.98])
def test_truncated_compressed_captures_are_errors(
    tmp_path: Path, scratch: Path, kind: str, cut: float
) -> None:
    plain = hostile(tmp_path / "plain.tar", [], mode="w").read_bytes()
    packed = _compress(plain, kind)
    broken = tmp_path / f"cut.tar.{kind}"
    broken.write_bytes(packed[: int(len(packed) * cut)])
    with pytest.raises(BadRootError) as err:
        HostRoot.open(broken)
    assert "cannot unpack it" in str(err.value)
    assert "\n" not in str(err.value)
    assert sorted(p.name for p in scratch.iterdir()) == ["flag"]


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz"])
def test_damaged_compressed_captures_are_errors(tmp_path: Path, scratch: Path, kind: str) -> None:
    packed = bytearray(_compress(hostile(tmp_path / "plain.tar", [], mode="w").read_bytes(), kind))
    middle = len(packed) // 2
    packed[middle : middle + 8] = b"\xff\x00\xff\x00garbage"[:8]
    broken = tmp_path / f"bad.tar.{kind}"
    broken.write_bytes(bytes(packed))
    with pytest.raises(BadRootError) as err:
        HostRoot.open(broken)
    assert "\n" not in str(err.value)


def test_plain_tar_cut_at_a_member_boundary_is_an_error(tmp_path: Path, scratch: Path) -> None:
    """tarfile itself reads such a file as complete: the end-of-archive marker is what tells."""
    plain = hostile(tmp_path / "plain.tar", [], mode="w").read_bytes()
    with tarfile.open(tmp_path / "plain.tar") as tar:
        members = tar.getmembers()
    cut = members[len(members) // 2].offset
    (tmp_path / "cut.tar").write_bytes(plain[:cut])
    with pytest.raises(BadRootError, match="end-of-archive"):
        HostRoot.open(tmp_path / "cut.tar")


def test_garbage_header_in_the_middle_is_an_error(tmp_path: Path, scratch: Path) -> None:
    plain = bytearray(hostile(tmp_path / "plain.tar", [], mode="w").read_bytes())
    with tarfile.open(tmp_path / "plain.tar") as tar:
        members = tar.getmembers()
    offset = members[len(members) // 2].offset
    plain[offset : offset + 512] = b"\x07" * 512
    (tmp_path / "bad.tar").write_bytes(bytes(plain))
    with pytest.raises(BadRootError, match="damaged"):
        HostRoot.open(tmp_path / "bad.tar")


def test_works_without_tarfile_filters(
    tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python 3.11.2 (Debian 12) has neither ``data_filter`` nor ``extractall(filter=)``."""
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    monkeypatch.delattr(tarfile, "FilterError", raising=False)

    def no_extract(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("tarfile's own extraction must not be used")

    monkeypatch.setattr(tarfile.TarFile, "extractall", no_extract)
    monkeypatch.setattr(tarfile.TarFile, "extract", no_extract)
    for kind in ("gz", "bz2", "xz", "tar"):
        tarball = tmp_path / f"demo.tar.{kind}"
        tarball.write_bytes(_compress(hostile(tmp_path / "plain.tar", [], mode="w").read_bytes(), kind))
        opens_like_the_demo(HostRoot.open(tarball))
    assert_contained(scratch)


def test_the_same_tarball_is_unpacked_once(tmp_path: Path, scratch: Path) -> None:
    tarball = hostile(tmp_path / "demo.tar.gz", [])
    first = HostRoot.open(tarball)
    second = HostRoot.open(tarball)
    assert first.path == second.path
    assert len(list(scratch.glob("vfiodeck-root-*"))) == 1
    os.utime(tarball, ns=(0, 0))  # a changed file is unpacked anew
    assert HostRoot.open(tarball).path != first.path
