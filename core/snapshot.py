"""``vfio-deck snapshot``: capture exactly the files VFIO Deck reads, for a bug report.

Only paths on the allow-list below are taken (no home folders, no keys, no logs), each file is
capped in size, and the whole archive too. Symlinks stay symlinks with relative targets, so the
archive opens with ``--root`` and scans exactly like the machine it came from.
"""

from __future__ import annotations

import glob
import io
import os
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from vfiodeck.core.errors import VfioDeckError
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.safe_read import RefusedError, is_inside, open_regular, read_head
from vfiodeck.core.outfile import check_output_target, give_to_invoking_user
from vfiodeck.core.snapshot_allow import (
    ALLOW,
    FILTERED,
    HOST_USE_CLASSES,
    MAX_FILE_BYTES,
    MAX_TOTAL_BYTES,
    PCI_CONFIG_BYTES,
    PCI_FILES,
    PCI_LINKS,
    PRESENCE_ONLY_DIRS,
    PRESENCE_ONLY_SUFFIXES,
    rewrite_iomem,
    rewrite_mounts,
)


@dataclass(frozen=True)
class SnapshotSummary:
    files: int
    links: int
    bytes_written: int


class SnapshotError(VfioDeckError):
    """The snapshot could not be written (disk full, bad destination, too large)."""


class _Collector:
    def __init__(self, root: HostRoot) -> None:
        self.root = root
        self.root_real = os.path.realpath(root.path)
        self.members: dict[str, tarfile.TarInfo] = {}
        self.data: dict[str, bytes] = {}
        self.total = 0
        self.links = 0

    def _abs(self, rel: str) -> str:
        return self.root.join(rel)

    def _inside(self, path: str) -> bool:
        """Whether ``path``, links resolved, is below the root (on the live host: always)."""
        return is_inside(os.path.realpath(path), self.root_real)

    def add_dir(self, rel: str) -> None:
        if rel in self.members:
            return
        info = tarfile.TarInfo(rel)
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        self.members[rel] = info

    def add_link(self, rel: str) -> None:
        if rel in self.members:
            return
        try:
            target = os.readlink(self._abs(rel))
        except OSError:
            return
        if os.path.isabs(target):
            # Keep the capture self-contained: an absolute link becomes relative to the root.
            target = os.path.relpath(target.lstrip("/"), os.path.dirname(rel) or ".")
        resolved = os.path.normpath(os.path.join(os.path.dirname(rel), target))
        if resolved == ".." or resolved.startswith("../"):
            return  # climbs out of the root: nothing that opens the snapshot could follow it
        info = tarfile.TarInfo(rel)
        info.type = tarfile.SYMTYPE
        info.linkname = target
        info.mode = 0o777
        self.members[rel] = info
        self.links += 1

    def _keep(self, rel: str, content: bytes) -> None:
        """Add a regular file's bytes as a read-only member, within the snapshot's total cap."""
        info = tarfile.TarInfo(rel)
        info.size = len(content)
        info.mode = 0o444
        self.total += len(content)
        if self.total > MAX_TOTAL_BYTES:
            raise SnapshotError(f"snapshot would exceed {MAX_TOTAL_BYTES >> 20} MiB; refusing to write it")
        self.members[rel] = info
        self.data[rel] = content

    def add_file(self, rel: str, limit: int = MAX_FILE_BYTES, presence_only: bool = False) -> None:
        """A regular file below the root, its first ``limit`` bytes (a FIFO or device is left out)."""
        if rel in self.members:
            return
        content = b""
        try:
            fd = open_regular(self._abs(rel), self.root.confine)
            try:
                content = b"" if presence_only else read_head(fd, limit)
            finally:
                os.close(fd)
        except (OSError, RefusedError):
            return  # unreadable, vanished, not a file, or outside: the snapshot lacks it, as the scan would
        self._keep(rel, content)

    def add_filtered(self, rel: str, prefix: str) -> None:
        """Only the lines that start with ``prefix``, from a file read whole (up to 64 MiB)."""
        try:
            fd = open_regular(self._abs(rel), self.root.confine)
            try:
                data = read_head(fd, MAX_TOTAL_BYTES)
            finally:
                os.close(fd)
        except (OSError, RefusedError):
            return
        wanted = prefix.encode()
        kept = b"".join(line for line in data.splitlines(keepends=True) if line.startswith(wanted))
        self._keep(rel, kept)

    def add_path(self, rel: str) -> None:
        path = self._abs(rel)
        if not self._inside(os.path.dirname(path)):
            return  # reached through a folder link that leads out of the root
        if os.path.islink(path):
            self.add_link(rel)
            if rel.startswith("sys/kernel/iommu_groups/"):
                return
            target = os.path.realpath(path)
            if not is_inside(target, self.root_real):
                return
            if os.path.isdir(target):
                # A link to a directory (e.g. sys/class/iommu/dmar0): keep the link, capture nothing below.
                return
            real = os.path.relpath(target, self.root_real)
            self.add_file(real, presence_only=real.endswith(PRESENCE_ONLY_SUFFIXES))
        elif os.path.isdir(path):
            self.add_dir(rel)
        else:  # a file, or something that add_file refuses (FIFO, device) without opening it blocking
            prefix = FILTERED.get(os.path.basename(rel))
            if prefix is not None:
                self.add_filtered(rel, prefix)
                return
            presence = rel.endswith(PRESENCE_ONLY_SUFFIXES) or rel.startswith(PRESENCE_ONLY_DIRS)
            self.add_file(rel, presence_only=presence)

    def add_text(self, rel: str, content: bytes) -> None:
        """A file whose content was rewritten on the way in (secrets dropped)."""
        if rel in self.members:
            return
        self._keep(rel, content)

    def _read(self, rel: str) -> bytes | None:
        """The first MAX_FILE_BYTES of a regular file inside the root (a FIFO is not waited on)."""
        try:
            fd = open_regular(self._abs(rel), self.root.confine)
            try:
                return read_head(fd, MAX_FILE_BYTES)
            finally:
                os.close(fd)
        except (OSError, RefusedError):
            return None

    def add_rewritten_proc(self) -> None:
        mounts = self._read("proc/mounts")
        if mounts is not None:
            self.add_text("proc/mounts", rewrite_mounts(mounts))
        iomem = self._read("proc/iomem")
        if iomem is not None:
            self.add_text("proc/iomem", rewrite_iomem(iomem))

    def _real_rel(self, rel: str) -> str | None:
        """Where a link under the root really leads, relative to the root; None outside it."""
        target = os.path.realpath(self._abs(rel))
        if not is_inside(target, self.root_real) or target == self.root_real or not os.path.isdir(target):
            return None
        return os.path.relpath(target, self.root_real)

    def _add_entries(
        self, directory: str, names: tuple[str, ...] = (), prefixes: tuple[str, ...] = ()
    ) -> None:
        """Files ``names`` of ``directory``, and its entries starting with ``prefixes`` (links or
        empty folders: only their names matter)."""
        self.add_dir(directory)
        for name in names:
            if os.path.isfile(self._abs(f"{directory}/{name}")):
                self.add_file(f"{directory}/{name}")
        if not prefixes:
            return
        try:
            entries = sorted(os.listdir(self._abs(directory)))
        except OSError:
            return
        for entry in entries:
            if not entry.startswith(prefixes):
                continue
            rel = f"{directory}/{entry}"
            if os.path.islink(self._abs(rel)):
                self.add_link(rel)
            elif os.path.isdir(self._abs(rel)):
                self.add_dir(rel)

    def add_class_devices(self) -> None:
        """What the host-in-use guard reads: block topology, NICs, DRM connectors, input devices."""
        for cls, names, prefixes in HOST_USE_CLASSES:
            try:
                entries = sorted(os.listdir(self._abs(cls)))
            except OSError:
                continue
            for entry in entries:
                link = f"{cls}/{entry}"
                if not os.path.islink(self._abs(link)):
                    continue
                self.add_link(link)
                real = self._real_rel(link)
                if real is None:
                    continue
                self._add_entries(real, names, prefixes)
                for sub in ("holders", "slaves"):
                    if cls == "sys/block" and os.path.isdir(self._abs(f"{real}/{sub}")):
                        self._add_entries(f"{real}/{sub}", prefixes=("",))
                if cls == "sys/block":
                    self._add_partitions(real, entry)
                if cls == "sys/class/input":
                    self._add_entries(f"{real}/capabilities", ("key", "rel", "ev"))

    def _add_partitions(self, disk_dir: str, disk: str) -> None:
        try:
            entries = sorted(os.listdir(self._abs(disk_dir)))
        except OSError:
            return
        for entry in entries:
            holders = f"{disk_dir}/{entry}/holders"
            if entry.startswith(disk) and os.path.isdir(self._abs(holders)):
                self._add_entries(holders, prefixes=("",))

    def add_pci_devices(self) -> None:
        devices = self._abs("sys/bus/pci/devices")
        if not self._inside(devices):
            return
        try:
            names = sorted(os.listdir(devices))
        except OSError:
            return
        for name in names:
            link_rel = f"sys/bus/pci/devices/{name}"
            self.add_link(link_rel)
            target = os.path.realpath(self._abs(link_rel))
            if not is_inside(target, self.root_real) or target == self.root_real or not os.path.isdir(target):
                continue
            dev_rel = os.path.relpath(target, self.root_real)
            self.add_dir(dev_rel)
            for fname in PCI_FILES:
                self.add_file(f"{dev_rel}/{fname}")
            self.add_file(f"{dev_rel}/config", limit=PCI_CONFIG_BYTES)
            for lname in PCI_LINKS:
                if os.path.islink(os.path.join(target, lname)):
                    self.add_link(f"{dev_rel}/{lname}")

    def collect(self) -> None:
        root_path = str(self.root.path)
        self.add_rewritten_proc()  # first: the allow-list must not add the raw text of these
        for pattern in ALLOW:
            for match in sorted(glob.glob(os.path.join(glob.escape(root_path), pattern))):
                self.add_path(os.path.relpath(match, root_path))
        self.add_pci_devices()
        self.add_class_devices()


_COMPRESSION = (
    ((".tar.gz", ".tgz"), "gz"),
    ((".tar.bz2", ".tbz2", ".tbz"), "bz2"),
    ((".tar.xz", ".txz"), "xz"),
    ((".tar",), ""),
)
_TOP = "vfiodeck-snapshot"


def compression_for(name: str) -> str:
    """The compression a file name asks for ("gz", "bz2", "xz", "" for .tar); gzip otherwise."""
    for suffixes, kind in _COMPRESSION:
        if name.endswith(suffixes):
            return kind
    return "gz"


def write_snapshot(root: HostRoot, dest: Path | str) -> SnapshotSummary:
    """Write the allow-listed files of ``root`` to ``dest``, compressed as its suffix says, or to
    standard output for ``-``. A file is written atomically (a failure leaves nothing behind),
    never replaces anything but a regular file, and under sudo belongs to the invoking user."""
    collector = _Collector(root)
    collector.collect()
    if str(dest) == "-":
        return _write_stdout(collector)
    return _write_file(collector, Path(dest))


def _summary(collector: _Collector, size: int) -> SnapshotSummary:
    files = sum(1 for info in collector.members.values() if info.isfile())
    return SnapshotSummary(files=files, links=collector.links, bytes_written=size)


def _write_tar(collector: _Collector, out: BinaryIO, mode: str) -> None:
    now = int(time.time())
    with tarfile.open(fileobj=out, mode=mode) as tar:  # type: ignore[call-overload]
        top_info = tarfile.TarInfo(_TOP)
        top_info.type = tarfile.DIRTYPE
        top_info.mode = 0o755
        top_info.mtime = now
        tar.addfile(top_info)
        for rel in sorted(collector.members):
            info = collector.members[rel]
            info.name = f"{_TOP}/{rel}"
            info.mtime = now
            data = collector.data.get(rel)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)


class _Counter(io.RawIOBase):
    def __init__(self, out: BinaryIO) -> None:
        super().__init__()
        self.out = out
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.out.write(data)
        self.count += len(data)
        return len(data)


def _write_stdout(collector: _Collector) -> SnapshotSummary:
    out = sys.stdout.buffer
    if out.isatty():
        raise SnapshotError("not writing a binary archive to a terminal: redirect it, or give -o FILE")
    counter = _Counter(out)
    _write_tar(collector, counter, "w|gz")  # type: ignore[arg-type]
    out.flush()
    return _summary(collector, counter.count)


def _write_file(collector: _Collector, dest: Path) -> SnapshotSummary:
    check_output_target(dest)
    directory = dest.parent if str(dest.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".vfiodeck-snapshot-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise SnapshotError(f"cannot write to {directory}: {exc.strerror}") from exc
    try:
        os.fchmod(fd, 0o644)  # no secrets inside (allow-list): readable like any file the user writes
        give_to_invoking_user(fd)
        with os.fdopen(fd, "wb") as raw:
            _write_tar(collector, raw, f"w:{compression_for(dest.name)}")
            raw.flush()
            os.fsync(raw.fileno())
        check_output_target(dest)  # it may have appeared meanwhile
        os.replace(tmp_name, dest)
    except OSError as exc:
        os.unlink(tmp_name)
        raise SnapshotError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    except BaseException:
        os.unlink(tmp_name)
        raise
    return _summary(collector, dest.stat().st_size)
