"""Open files of a host root as untrusted: regular files only, bounded, and never outside the root.

A captured folder may hold a FIFO named ``config`` (an ``open()`` blocks forever), a link to
``/dev/zero`` (a read never ends), a 100 MB ``vendor`` file, or ``proc/cmdline -> /etc/shadow``.
Each of these is a refusal with a reason, recorded as a problem, never a read.
"""

from __future__ import annotations

import os
import stat

SYSFS_LIMIT = 64 << 10  # a sysfs attribute is at most one page; binary ones (config) 4 KiB
FILE_LIMIT = 1 << 20  # what ``vfio-deck snapshot`` keeps of any file (/proc/interrupts on 256 CPUs)
MODULES_LIMIT = 8 << 20  # lib/modules/*/modules.dep passes 1 MiB on distribution kernels

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC  # O_NONBLOCK: a FIFO opens, then is refused


class RefusedError(Exception):
    """A file that exists but is not read: ``str()`` says why (one line)."""


def limit_for(rel: str) -> int:
    if rel.startswith("sys/"):
        return SYSFS_LIMIT
    return MODULES_LIMIT if rel.startswith(("lib/modules/", "usr/lib/modules/")) else FILE_LIMIT


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device node"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def is_inside(real: str, confine: str) -> bool:
    return confine == "/" or real == confine or real.startswith(confine + "/")


def _real_path(fd: int, path: str) -> str:
    """Where the open file really is: the kernel's answer for this descriptor, not a second lookup."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # no /proc mounted
        return os.path.realpath(path)


def open_regular(path: str, confine: str | None, *, nofollow: bool = False) -> int:
    """A descriptor of the regular file at ``path``; OSError as ``os.open`` raises it, RefusedError
    when it is not a regular file or (``confine`` set: the real path of a folder root) lies outside."""
    fd = os.open(path, _OPEN_FLAGS | (os.O_NOFOLLOW if nofollow else 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise RefusedError(f"{_kind(mode)}, not read")
        if confine is not None and not nofollow and not is_inside(_real_path(fd, path), confine):
            raise RefusedError("a link out of the host root, not followed")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_head(fd: int, size: int) -> bytes:
    """The first ``size`` bytes (fewer at the end of the file); the rest is not read."""
    chunks: list[bytes] = []
    got = 0
    while got < size and (chunk := os.read(fd, size - got)):
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_fd(fd: int, limit: int) -> bytes:
    """Up to ``limit`` bytes; RefusedError when the file is longer."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = os.read(fd, min(limit + 1 - size, 1 << 16) or 1)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RefusedError(f"larger than {limit >> 10} KiB, not read")
    return b"".join(chunks)


def confine_of(root: str | os.PathLike[str]) -> str | None:
    """What to confine reads under ``root`` to: its real path, or None for the live host's /."""
    real = os.path.realpath(root)
    return None if real == "/" else real


def read_text(root: str | os.PathLike[str], rel: str, limit: int | None = None) -> str:
    """The text of ``root/rel`` (undecodable bytes replaced), read as ``read_file`` reads;
    OSError or RefusedError when it cannot be."""
    data = read_file(
        os.path.join(root, rel), confine_of(root), limit if limit is not None else limit_for(rel)
    )
    return data.decode("utf-8", "replace")


def read_file(path: str, confine: str | None, limit: int, *, nofollow: bool = False) -> bytes:
    fd = open_regular(path, confine, nofollow=nofollow)
    try:
        return read_fd(fd, limit)
    finally:
        os.close(fd)


def open_dir_names(path: str, confine: str | None) -> list[str]:
    """Entry names of the folder at ``path``, refused when it lies outside ``confine``."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if confine is not None and not is_inside(_real_path(fd, path), confine):
            raise RefusedError("a link out of the host root, not followed")
        return os.listdir(fd)
    finally:
        os.close(fd)
