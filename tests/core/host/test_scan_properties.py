"""Property tests: a damaged host root never makes ``scan_host`` raise, and what it could not
read is explained in ``HostModel.problems``.

Two real captures are copied once per session into a working directory (copying per example
would cost seconds on a slow disk). Each example damages one or more paths, scans, and puts the
paths back from the unpacked original, so examples do not leak into each other.

The paths damaged are the ones the clean scan actually opens, found with an audit hook on the
"open" event (it sees ``open()`` and ``os.open()`` alike), plus the folders and symlinks the scan
walks. Because the scan is deterministic, a single damaged file is still opened in the damaged
scan: every file read before it is unchanged.

Running as root: ``chmod 000`` does not stop root from reading, so "cannot read" is made in
ways root cannot bypass: a directory where a file was (EISDIR) and a symlink pointing at itself
(ELOOP). A real permission denial is checked once, in a child process that drops to the
``nobody`` user. FIFOs are not used: opening one blocks until a writer comes, and a tarball
root cannot hold one (the extraction filter refuses special files).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vfiodeck.core.host.model import HostModel, ProblemKind
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.scan import scan_host

# One capture rich in CPU topology (SMT, L3, hybrid cores), one with PCI devices.
CAPTURES = ("20em64t-hybrid-1p6c2t+2ca4co1t", "2pa-pcidomain32bits")
# ~30 examples keep the suite quick on 2 cores; set VFIODECK_PROPERTY_EXAMPLES=500 to dig deeper.
SETTINGS = settings(
    max_examples=int(os.environ.get("VFIODECK_PROPERTY_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_opened: list[str] | None = None  # set while tracing a scan


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _opened is not None and isinstance(args[0], str):
        _opened.append(args[0])


sys.addaudithook(_audit)  # audit hooks cannot be removed; it does nothing unless tracing


def traced_scan(root: HostRoot) -> tuple[HostModel, list[str]]:
    """Scan and return the files it opened, relative to the root. The "open" event fires before
    the open succeeds, so files that do not exist are left out here."""
    global _opened
    _opened = []
    try:
        model = scan_host(root)
        opened = list(_opened)
    finally:
        _opened = None
    prefix = str(root.path).rstrip("/") + "/"
    files = {p for p in opened if p.startswith(prefix) and os.path.lexists(p) and not os.path.isdir(p)}
    return model, sorted(p[len(prefix) :] for p in files)  # folders are opened to list them


@dataclass(repr=False)
class Workbench:
    """A writable copy of a capture, its pristine original, and what the clean scan read."""

    original: Path
    work: Path
    clean: HostModel
    read_files: list[str]  # files the clean scan opened
    walked: list[str]  # folders and symlinks the scan goes through

    def __repr__(self) -> str:  # hypothesis prints it with each failing example
        return f"Workbench({self.original.name!r})"

    def root(self) -> HostRoot:
        return HostRoot.open(self.work)

    def restore(self, rel: str) -> None:
        """Put ``rel`` back as it was in the original, whatever the damage made of it."""
        target, source = self.work / rel, self.original / rel
        if target.is_symlink() or target.is_file() or _is_special(target):
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        elif source.is_dir():
            shutil.copytree(source, target, symlinks=True)
        elif source.exists():
            shutil.copy2(source, target)


def _is_special(path: Path) -> bool:
    return os.path.lexists(path) and not path.is_dir() and not path.is_file()


def _walked(root: Path, read_files: list[str]) -> list[str]:
    """Folders above the files read (below sys/ and proc/) and the PCI device symlinks."""
    folders = {str(Path(rel).parent) for rel in read_files}
    for rel in list(folders):
        parts = Path(rel).parts
        folders.update(str(Path(*parts[:n])) for n in range(2, len(parts)))
    links = (
        [f"sys/bus/pci/devices/{n}" for n in sorted(os.listdir(root / "sys/bus/pci/devices"))]
        if (root / "sys/bus/pci/devices").is_dir()
        else []
    )
    return sorted(f for f in folders if f not in (".", "sys", "proc")) + links


@pytest.fixture(scope="session")
def benches(
    hwloc_root: Callable[[str], HostRoot], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Workbench]:
    out: dict[str, Workbench] = {}
    for name in CAPTURES:
        original = hwloc_root(name).path
        work = tmp_path_factory.mktemp("bench") / name
        shutil.copytree(original, work, symlinks=True)
        clean, read_files = traced_scan(HostRoot.open(work))
        out[name] = Workbench(original, work, clean, read_files, _walked(work, read_files))
    return out


# -- damage -----------------------------------------------------------------------------------


def damage(path: Path, how: str, garbage: bytes) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    if how == "remove":
        return
    if how == "truncate":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(garbage)
    elif how == "directory":
        path.mkdir()
    elif how == "dangling":
        os.symlink("no-such-target-anywhere", path)
    elif how == "loop":
        os.symlink(path.name, path)  # points at itself: ELOOP on open
    else:  # pragma: no cover - the strategy only draws the names above
        raise AssertionError(how)


FILE_DAMAGE = st.sampled_from(["remove", "truncate", "garbage", "directory", "dangling", "loop"])
GARBAGE = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(
        [b"\x00", b"\xff\xfe\xfd", b"-1\n", b"99999999999999999999999", b"0-\n", b"3-1", b"\n\n"]
    ),
)


def _damaged_scan(bench: Workbench, rels: list[str], hows: list[str], garbage: bytes) -> HostModel:
    try:
        for rel, how in zip(rels, hows, strict=True):
            if os.path.lexists(bench.work / rel):
                damage(bench.work / rel, how, garbage)
        return scan_host(bench.root())
    finally:
        for rel in rels:  # a folder first: restoring it brings back what was inside
            bench.restore(rel)


# -- properties -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CAPTURES)
def test_clean_scan_reads_files_and_records_no_problem(benches: dict[str, Workbench], name: str) -> None:
    bench = benches[name]
    assert bench.clean.problems == ()
    assert "proc/cpuinfo" in bench.read_files
    assert any(rel.endswith("/topology/core_id") for rel in bench.read_files)
    assert len(bench.clean.topology.cpus) >= 2


@pytest.mark.parametrize("name", CAPTURES)
@SETTINGS
@given(data=st.data(), how=FILE_DAMAGE, garbage=GARBAGE)
def test_one_damaged_file(
    benches: dict[str, Workbench], name: str, data: st.DataObject, how: str, garbage: bytes
) -> None:
    bench = benches[name]
    rel = data.draw(st.sampled_from(bench.read_files), label="file")
    model = _damaged_scan(bench, [rel], [how], garbage)
    problems = {p.path: p.kind for p in model.problems}
    if how in ("directory", "loop"):
        # The file is still opened (everything read before it is intact) and cannot be read.
        assert rel in problems, (rel, how, model.problems)
    if how == "loop":
        assert problems[rel] == ProblemKind.IO_ERROR
    if how in ("remove", "dangling"):
        # Missing is not a problem (most sysfs attributes are optional).
        assert rel not in problems, (rel, how, model.problems)


@pytest.mark.parametrize("name", CAPTURES)
@SETTINGS
@given(data=st.data(), garbage=GARBAGE)
def test_several_damaged_paths(
    benches: dict[str, Workbench], name: str, data: st.DataObject, garbage: bytes
) -> None:
    bench = benches[name]
    paths = st.sampled_from(bench.read_files + bench.walked)
    rels = data.draw(st.lists(paths, min_size=1, max_size=4, unique=True), label="paths")
    # Damage a folder before anything inside it, and restore the other way round.
    rels.sort(key=lambda rel: len(Path(rel).parts))
    hows = data.draw(st.lists(FILE_DAMAGE, min_size=len(rels), max_size=len(rels)), label="damage")
    model = _damaged_scan(bench, rels, hows, garbage)
    assert isinstance(model, HostModel)
    for node in model.topology.numa_nodes:
        assert list(node.cpus) == sorted(node.cpus)
    assert model.cpu.threads == len(model.topology.cpus)


@pytest.mark.parametrize("name", CAPTURES)
def test_damage_is_undone(benches: dict[str, Workbench], name: str) -> None:
    bench = benches[name]
    assert scan_host(bench.root()).problems == ()
    assert scan_host(bench.root()).topology == bench.clean.topology


# -- a real permission denial -----------------------------------------------------------------


def _scan_as_nobody(root: Path) -> list[str]:
    """Scan in a forked child that has dropped to uid/gid 65534 (``nobody``) when run as root; the modules are
    already imported, so the child needs no access to the interpreter's files (which live in
    root's home here). Returns "kind path" per problem, then "threads N"."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 1
        try:
            os.close(read_end)
            if os.geteuid() == 0:  # any other user is already denied by chmod 000
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            model = scan_host(HostRoot.open(root))
            lines = [f"{p.kind.value} {p.path}" for p in model.problems] + [f"threads {model.cpu.threads}"]
            os.write(write_end, "\n".join(lines).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return b"".join(chunks).decode().splitlines()


def test_permission_denied_is_recorded_as_such(benches: dict[str, Workbench]) -> None:
    """Root reads through chmod 000, so there the scan runs in a forked child as ``nobody``."""
    bench = benches[CAPTURES[0]]
    scratch = Path(tempfile.mkdtemp(prefix="vfiodeck-perm-"))
    try:
        copy = scratch / "root"
        shutil.copytree(bench.work / "sys/devices/system", copy / "sys/devices/system", symlinks=True)
        shutil.copytree(bench.work / "proc", copy / "proc", symlinks=True)
        for rel in ("proc/cpuinfo", "sys/devices/system/cpu/cpu0/topology/core_id"):
            os.chmod(copy / rel, 0)
        os.chmod(copy / "sys/devices/system/node", 0o311)  # may enter, may not list
        for folder, dirs, _ in os.walk(scratch):
            for d in dirs:
                if Path(folder, d) != copy / "sys/devices/system/node":
                    os.chmod(Path(folder, d), 0o755)
        os.chmod(scratch, 0o755)
        lines = _scan_as_nobody(copy)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert "permission proc/cpuinfo" in lines
    assert "permission sys/devices/system/cpu/cpu0/topology/core_id" in lines
    assert "permission sys/devices/system/node" in lines
    assert "threads 20" in lines
