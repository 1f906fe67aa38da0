"""Property test: a real capture (the demo host) with random hostile changes — file types, sizes,
links, encodings, depths, damaged archives — given to the real command in a child process.

Whatever the change, the command ends (a hang would hit the child's timeout), stays within a
memory bound, exits 0 or 2 (2 with one line and no traceback), writes nothing outside its unpack
folder, and leaves no unpack folder behind.
"""

from __future__ import annotations

import bz2
import copy
import gzip
import io
import lzma
import os
import resource
import shutil
import subprocess
import sys
import tarfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vfiodeck.core.host.root import HostRoot

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo-hosts" / "demo-host.tar.gz"
TOP = "vfiodeck-snapshot"
MAX_MEMORY = 1 << 30  # address space of the child; a clean inspect of the demo host needs ~100 MiB
SETTINGS = settings(
    max_examples=int(os.environ.get("VFIODECK_PROPERTY_EXAMPLES", "6")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NASTY_TEXT = [
    b"0-999999999\n",
    "0-²\n".encode(),
    "²\n".encode(),
    b"\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\n",
    b"\xff\xfe\x00\x00garbage",
    b"<b>bold</b><img src=x>\n",
    b"",
]
TAR_KINDS = [
    "fifo", "chardev", "abslink", "outlink", "climblink", "hardlink", "text", "big",
    "badname", "deep", "dotdot", "absname", "dirlink",
]  # fmt: skip
DIR_KINDS = ["fifo", "abslink", "outlink", "devzero", "text", "bigsparse", "badname", "deep", "dirlink"]


@cache
def demo_members() -> tuple[tuple[tarfile.TarInfo, bytes | None], ...]:
    out = []
    with tarfile.open(DEMO) as tar:
        for info in tar:
            handle = tar.extractfile(info) if info.isfile() else None
            out.append((info, handle.read() if handle else None))
    return tuple(out)


def _file_indexes() -> list[int]:
    return [i for i, (info, _) in enumerate(demo_members()) if info.isfile()]


Op = tuple[str, int, int, bytes]  # kind, member pick, a number (depth, cut), payload


def mutate_members(ops: list[Op], outside: Path) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    members = [(copy.copy(info), data) for info, data in demo_members()]
    files = _file_indexes()
    extra: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for kind, pick, number, payload in ops:
        index = files[pick % len(files)]
        info, data = members[index]
        if kind in ("fifo", "chardev", "abslink", "outlink", "climblink", "hardlink", "dirlink"):
            info.size, data = 0, None
            info.type = {
                "fifo": tarfile.FIFOTYPE, "chardev": tarfile.CHRTYPE, "hardlink": tarfile.LNKTYPE
            }.get(kind, tarfile.SYMTYPE)  # fmt: skip
            info.devmajor, info.devminor = 1, 5
            info.linkname = {
                "abslink": "/dev/zero" if number % 2 else str(outside / "flag"),
                "outlink": "../" * (number % 12 + 1) + "flag",
                "climblink": "a/../../../../../../../../flag",
                "hardlink": str(outside / "flag") if number % 2 else "../" * 12 + "flag",
                "dirlink": "../" * (number % 12 + 1),
            }.get(kind, "")
            if kind == "dirlink":
                extra.append(_file(f"{info.name}/flag", b"through a link\n"))
        elif kind == "text":
            data = NASTY_TEXT[number % len(NASTY_TEXT)] + payload
        elif kind == "big":
            data = b"1" * (2 << 20)
        elif kind == "badname":
            info.name = f"{os.path.dirname(info.name)}/{os.fsdecode(payload.replace(b'/', b'_') or b'x')}"
        elif kind == "deep":
            extra.append(_file(f"{TOP}/" + "d/" * (number % 1500 + 1) + "f", payload))
        elif kind == "dotdot":
            extra.append(_file(f"{TOP}/" + "../" * (number % 6 + 1) + "flag", b"overwritten\n"))
        elif kind == "absname":
            extra.append(_file(str(outside / "abs-escape"), b"escaped\n"))
        if data is not None:
            info.size = len(data)
        members[index] = (info, data)
    return members + extra


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def write_tarball(
    members: list[tuple[tarfile.TarInfo, bytes | None]], dest: Path, kind: str, cut: int
) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT, errors="surrogateescape") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    packed = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress, "tar": bytes}[kind](
        raw.getvalue()
    )
    if cut:  # damaged in transit: cut short
        packed = packed[: len(packed) * cut // 100]
    dest.write_bytes(packed)


def mutate_folder(root: Path, ops: list[Op], outside: Path) -> None:
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    for kind, pick, number, payload in ops:
        path = files[pick % len(files)]
        if not path.is_file() or path.is_symlink():
            continue  # changed by an earlier step
        if kind in ("fifo", "abslink", "outlink", "devzero", "dirlink"):
            path.unlink()
            if kind == "fifo":
                os.mkfifo(path)
            else:
                target = {
                    "abslink": str(outside / "flag"),
                    "outlink": "../" * (number % 14 + 1) + "flag",
                    "devzero": "/dev/zero",
                    "dirlink": str(outside),
                }[kind]
                os.symlink(target, path)
        elif kind == "text":
            path.write_bytes(NASTY_TEXT[number % len(NASTY_TEXT)] + payload)
        elif kind == "bigsparse":
            with open(path, "r+b") as fh:
                fh.truncate(200 << 20)
        elif kind == "badname":
            name = payload.replace(b"/", b"_").replace(b"\0", b"_").lstrip(b".") or b"x"
            os.rename(os.fsencode(path), os.path.join(os.fsencode(path.parent), name))
        elif kind == "deep":
            deep = os.path.join(root, "sys", *(["d"] * (number % 1000 + 1)))
            os.makedirs(deep, exist_ok=True)
            Path(deep, "f").write_bytes(payload)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MAX_MEMORY, MAX_MEMORY))


def run_command(command: list[str], run_dir: Path) -> tuple[int, bytes, bytes]:
    """Exit code, stdout and stderr of ``vfio-deck COMMAND``, run with at most MAX_MEMORY: a
    blow-up is a MemoryError (exit 1, a traceback), which the caller refuses."""
    env = {**os.environ, "XDG_RUNTIME_DIR": str(run_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "vfiodeck.core.cli", *command],
        capture_output=True,
        env=env,
        timeout=120,  # a guard against hangs, not a measurement
        preexec_fn=_limit_memory,
    )
    return done.returncode, done.stdout, done.stderr


def check_outcome(command: list[str], work: Path) -> None:
    outside, run_dir = work / "outside", work / "run"
    before = sorted(p.name for p in outside.iterdir())
    code, out, err = run_command(command, run_dir)
    assert code in (0, 2), err.decode(errors="replace")
    assert b"Traceback" not in err
    if code == 2:
        assert len(err.splitlines()) == 1, err
        assert out == b""
    assert b"\x1b" not in out + err
    assert (outside / "flag").read_text() == "original\n"
    assert sorted(p.name for p in outside.iterdir()) == before
    assert list(run_dir.iterdir()) == []  # no unpacked copy left behind


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "flag").write_text("original\n")
    (tmp_path / "run").mkdir()
    return tmp_path


OPS = st.lists(
    st.tuples(
        st.sampled_from(TAR_KINDS), st.integers(0, 10_000), st.integers(0, 10_000), st.binary(max_size=24)
    ),
    min_size=1,
    max_size=4,
)


@SETTINGS
@given(
    ops=OPS,
    kind=st.sampled_from(["gz", "bz2", "xz", "tar"]),
    cut=st.sampled_from([0, 0, 0, 50, 97]),
    command=st.sampled_from([["inspect"], ["inspect", "--json"], ["snapshot", "-o", "SNAP"]]),
)
def test_hostile_tarball(work: Path, ops: list[Op], kind: str, cut: int, command: list[str]) -> None:
    example = work / f"ex{len(list(work.iterdir()))}"
    example.mkdir()
    tarball = example / f"host.tar.{kind}"
    write_tarball(mutate_members(ops, work / "outside"), tarball, kind, cut)
    command = [c.replace("SNAP", str(example / "snap.tar.gz")) for c in command]
    check_outcome([command[0], "--root", str(tarball), *command[1:]], work)


@cache
def demo_folder(base: Path) -> Path:
    dest = base / "demo"
    shutil.copytree(HostRoot.open(DEMO).path, dest, symlinks=True)
    return dest


@SETTINGS
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(DIR_KINDS), st.integers(0, 10_000), st.integers(0, 10_000), st.binary(max_size=24)
        ),
        min_size=1,
        max_size=4,
    ),
    command=st.sampled_from([["inspect"], ["inspect", "--json"], ["snapshot", "-o", "SNAP"]]),
)
def test_hostile_folder(
    work: Path, tmp_path_factory: pytest.TempPathFactory, ops: list[Op], command: list[str]
) -> None:
    example = work / f"ex{len(list(work.iterdir()))}"
    root = example / "host"
    shutil.copytree(demo_folder(tmp_path_factory.getbasetemp()), root, symlinks=True)
    mutate_folder(root, ops, work / "outside")
    command = [c.replace("SNAP", str(example / "snap.tar.gz")) for c in command]
    check_outcome([command[0], "--root", str(root), *command[1:]], work)
    if (example / "snap.tar.gz").exists():  # the snapshot holds nothing from outside the root
        with tarfile.open(example / "snap.tar.gz") as tar:
            for member in tar:
                handle = tar.extractfile(member) if member.isfile() else None
                assert handle is None or b"original" not in handle.read()
