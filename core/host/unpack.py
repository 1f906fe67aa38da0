"""Unpack an untrusted capture tarball without trusting ``tarfile`` to keep it inside.

A snapshot attached to a bug report is hostile input. ``tarfile``'s own ``data`` filter is missing
before Python 3.11.4 and was bypassed (symlink chains longer than PATH_MAX) until 3.11.13/3.13.4, so
members are extracted here, one by one:

* only regular files and directories, then relative symlinks whose ``..`` steps stay below the
  link's own folder depth (checked without looking at the disk), created after every file;
* every path component is opened relative to its parent's descriptor with ``O_NOFOLLOW``, so
  nothing is ever written through a link, whatever the archive holds;
* no hard links, devices, FIFOs, sparse files, absolute names, ``..``; modes are ours (no setuid);
* members, sizes, depth and name lengths are capped, and the compressed stream is read to its
  end so a truncated or damaged file is an error, not a partial host.
"""

from __future__ import annotations

import bz2
import errno
import gzip
import io
import lzma
import os
import stat
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAX_MEMBERS = 100_000  # a 512-CPU host's capture holds ~30,000; hwloc's largest 11,495
MAX_FILE_BYTES = 4 << 20  # the largest file read is pci.ids (1.3 MiB); a snapshot caps files at 1 MiB
MAX_TOTAL_BYTES = 64 << 20  # what ``vfio-deck snapshot`` allows for a whole capture
MAX_STREAM_BYTES = 256 << 20  # the uncompressed archive: file data plus headers
MAX_DEPTH = 48  # path components; real sysfs paths reach ~20
MAX_NAME = 1024  # characters in a member name or link target: far from PATH_MAX once unpacked
MAX_COMPONENT = 255  # bytes in one path component (NAME_MAX)
_MAX_READ = 4 << 20  # no single read of the archive may ask for more (pax/GNU long-name headers)
_CHUNK = 64 << 10

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

_MAGIC = ((b"\x1f\x8b", "gz"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"))


class UnpackError(Exception):
    """The archive is damaged, truncated, or over a limit; ``str()`` is one line for the user."""


class NotATarballError(UnpackError):
    """Not a tar archive at all (after decompression)."""


@dataclass
class UnpackStats:
    files: int = 0
    dirs: int = 0
    links: int = 0
    skipped: int = 0  # members refused one by one (devices, hard links, escaping links, ...)
    bytes: int = 0


class _Bounded(io.RawIOBase):
    """The decompressed archive, read through a guard: a single huge read (a forged pax header),
    a stream longer than ``MAX_STREAM_BYTES`` and any decoder error become ``UnpackError``."""

    def __init__(self, inner: io.BufferedIOBase | BinaryIO) -> None:
        super().__init__()
        self._inner = inner
        self._pos = 0
        self.last_read: tuple[int, bytes] = (-1, b"")  # where the latest read started, and what it got

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > _MAX_READ:
            raise UnpackError("a header in it is too large")
        if self._pos + size > MAX_STREAM_BYTES:
            raise UnpackError(f"larger than {MAX_STREAM_BYTES >> 20} MiB when unpacked")
        data = _guarded(self._inner.read, size)
        self.last_read = (self._pos, data)
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self._pos + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self._pos:
            raise UnpackError("it needs seeking backwards, which a capture never does")
        while self._pos < target:  # forward: decompress and drop, within the stream cap
            if not self.read(min(_CHUNK, target - self._pos)):
                break
        return self._pos

    def drain(self) -> None:
        """Read to the end, so the decoder checks its trailer (CRC, length, end marker)."""
        while self.read(_CHUNK):
            pass


def _guarded(read: object, size: int) -> bytes:
    try:
        data = read(size)  # type: ignore[operator]
    except EOFError as exc:
        raise UnpackError("truncated: the compressed stream ends early") from exc
    except (OSError, lzma.LZMAError, zlib.error, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnpackError(f"damaged ({reason})") from exc
    assert isinstance(data, bytes)
    return data


def _decoder(raw: BinaryIO) -> io.BufferedIOBase | BinaryIO:
    head = raw.read(6)
    raw.seek(0)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "gz":
                return gzip.GzipFile(fileobj=raw, mode="rb")
            if kind == "bz2":
                return bz2.BZ2File(raw, "rb")
            return lzma.LZMAFile(raw, "rb")
    return raw


def _parts(name: str) -> list[str] | None:
    """A member name as safe components, or None when it is absolute, climbs, or is too long."""
    if not name or len(name) > MAX_NAME or "\x00" in name or name.startswith("/"):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or len(parts) > MAX_DEPTH or ".." in parts:
        return None
    if any(len(os.fsencode(p)) > MAX_COMPONENT for p in parts):
        return None
    return parts


def link_stays_inside(link_parts: list[str], target: str) -> bool:
    """Whether a relative symlink at ``link_parts`` resolves below the unpack folder.

    Only targets of the form ``../../a/b`` are allowed: every ``..`` comes first, and there are no
    more of them than folders above the link. The folders above a link are real directories (they
    were opened with O_NOFOLLOW), so those steps stay inside; the names after them only descend,
    through folders or through other links that, by the same rule, stay inside too. No ``..`` can
    follow a name, so no link can be used to climb from somewhere deeper than it looks."""
    if not target or len(target) > MAX_NAME or "\x00" in target or target.startswith("/"):
        return False
    ups = 0
    descended = False
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if descended:
                return False
            ups += 1
        else:
            if len(os.fsencode(part)) > MAX_COMPONENT:
                return False
            descended = True
    return ups <= len(link_parts) - 1


class _Tree:
    """The unpack folder, written only through descriptors opened without following links."""

    def __init__(self, dest: str) -> None:
        self.root_fd = os.open(dest, _DIR_FLAGS)
        self._cached: tuple[tuple[str, ...], int] | None = None  # last parent: members come sorted

    def close(self) -> None:
        self._drop_cache()
        os.close(self.root_fd)

    def _drop_cache(self) -> None:
        if self._cached is not None:
            os.close(self._cached[1])
            self._cached = None

    def folder(self, parts: tuple[str, ...]) -> int:
        """A descriptor of folder ``parts`` (created as needed); owned by the tree, do not close."""
        if self._cached is not None and self._cached[0] == parts:
            return self._cached[1]
        fd = os.dup(self.root_fd)
        try:
            for name in parts:
                try:
                    os.mkdir(name, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        self._drop_cache()
        self._cached = (parts, fd)
        return fd

    def write_file(self, parts: list[str], source: BinaryIO, size: int) -> int:
        parent = self.folder(tuple(parts[:-1]))
        try:
            os.unlink(parts[-1], dir_fd=parent)  # a later member of the same name replaces it
        except FileNotFoundError:
            pass
        fd = os.open(parts[-1], _FILE_FLAGS, 0o644, dir_fd=parent)
        written = 0
        with os.fdopen(fd, "wb") as out:
            while written < size:
                chunk = source.read(min(_CHUNK, size - written))
                if not chunk:
                    raise UnpackError("truncated: a file in it ends early")
                out.write(chunk)
                written += len(chunk)
        return written


# Errors that refuse one member (its name clashes with another of another type, ...), not the archive.
_MEMBER_ERRNOS = frozenset(
    {errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ELOOP, errno.ENAMETOOLONG, errno.ENOTEMPTY}
)


def unpack(path: Path, dest: str) -> UnpackStats:
    """Unpack the tarball at ``path`` (plain, gzip, bzip2 or xz) into the empty folder ``dest``.

    Raises UnpackError (damaged, truncated, over a limit) or OSError (``dest`` not writable, disk full).
    The caller removes ``dest`` on failure."""
    stats = UnpackStats()
    links: list[tuple[list[str], str]] = []
    with _open_archive(path) as raw, _decoder(raw) as decoded:
        stream = _Bounded(decoded)
        tar = _open_tar(stream)
        tree = _Tree(dest)
        try:
            _extract_members(tar, stream, tree, stats, links)
            _check_end(tar, stream)
            stream.drain()
            for parts, target in links:
                _make_link(tree, parts, target, stats)
        finally:
            tree.close()
    return stats


def _open_archive(path: Path) -> BinaryIO:
    """The file, opened without blocking (it may have become a FIFO since it was looked at)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnpackError("not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _open_tar(stream: _Bounded) -> tarfile.TarFile:
    try:
        return tarfile.open(fileobj=stream, mode="r:")
    except tarfile.TarError as exc:
        raise NotATarballError("not a tar archive, or damaged") from exc


def _next(tar: tarfile.TarFile) -> tarfile.TarInfo | None:
    try:
        return tar.next()
    except tarfile.TarError as exc:
        raise UnpackError(f"damaged ({str(exc).splitlines()[0] if str(exc) else 'bad header'})") from exc


def _extract_members(
    tar: tarfile.TarFile,
    stream: _Bounded,
    tree: _Tree,
    stats: UnpackStats,
    links: list[tuple[list[str], str]],
) -> None:
    count = 0
    while (member := _next(tar)) is not None:
        count += 1
        if count > MAX_MEMBERS:
            raise UnpackError(f"more than {MAX_MEMBERS} entries")
        tar.members.clear()  # type: ignore[attr-defined]  # tarfile keeps every header; we need none of them afterwards
        parts = _parts(member.name)
        if parts is None:
            stats.skipped += 1
        elif member.isdir():
            _guard_member(lambda p=parts: tree.folder(tuple(p)), stats)
            stats.dirs += 1
        elif member.isreg() and not member.issparse() and member.size <= MAX_FILE_BYTES:
            if stats.bytes + member.size > MAX_TOTAL_BYTES:
                raise UnpackError(f"its files add up to more than {MAX_TOTAL_BYTES >> 20} MiB")
            source = tar.extractfile(member)
            assert source is not None
            written = _guard_member(lambda p=parts, s=source: tree.write_file(p, s, member.size), stats)
            stats.bytes += written or 0
            stats.files += written is not None
        elif member.issym() and link_stays_inside(parts, member.linkname):
            if len(links) < MAX_MEMBERS:
                links.append((parts, member.linkname))
        else:
            stats.skipped += 1


def _guard_member(action: object, stats: UnpackStats) -> int | None:
    try:
        result = action()  # type: ignore[operator]
    except tarfile.TarError as exc:
        raise UnpackError("truncated: a file in it ends early") from exc
    except OSError as exc:
        if exc.errno not in _MEMBER_ERRNOS:
            raise
        stats.skipped += 1
        return None
    return result if isinstance(result, int) else 0


def _check_end(tar: tarfile.TarFile, stream: _Bounded) -> None:
    """tarfile stops quietly at a truncated or garbage header; a whole archive ends in a zero block.

    tarfile's last read was that header, at ``tar.offset``."""
    start, block = stream.last_read
    if start != tar.offset or len(block) < tarfile.BLOCKSIZE:
        raise UnpackError("truncated: it ends without the end-of-archive marker")
    if block.count(0) != tarfile.BLOCKSIZE:
        raise UnpackError(f"damaged: unreadable header at byte {tar.offset}")


def _make_link(tree: _Tree, parts: list[str], target: str, stats: UnpackStats) -> None:
    try:
        parent = tree.folder(tuple(parts[:-1]))
        os.symlink(target, parts[-1], dir_fd=parent)
    except OSError as exc:
        if exc.errno not in _MEMBER_ERRNOS:
            raise
        stats.skipped += 1
        return
    stats.links += 1
