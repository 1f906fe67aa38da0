"""Writing under a root without following a symlink anywhere on the way: every directory is opened
relative to the one above it with O_NOFOLLOW, files are replaced by temp file + fsync + rename, and
the file's mode and owner are kept."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafePath(OSError):
    """A component is a symlink or not a directory, or the path leaves the root."""


def _parts(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise UnsafePath(errno.EINVAL, f"{path}: not a plain absolute path")
    return parts


@contextlib.contextmanager
def open_parent(root: Path, path: str, *, create: bool) -> Iterator[tuple[int, str]]:
    """(directory fd, file name) for ``path`` under ``root``; missing folders made when ``create``."""
    *folders, name = _parts(path)
    fd = os.open(root, _DIR_FLAGS)
    try:
        for folder in folders:
            try:
                child = os.open(folder, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(folder, 0o755, dir_fd=fd)
                child = os.open(folder, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafePath(exc.errno, f"{path}: {folder} is a symlink or not a folder") from exc
                raise
            os.close(fd)
            fd = child
        yield fd, name
    finally:
        os.close(fd)


def read_bytes(root: Path, path: str) -> bytes | None:
    """A regular file's bytes, None when it does not exist; a symlink or a special file raises."""
    try:
        with open_parent(root, path, create=False) as (dirfd, name):
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dirfd)
            except FileNotFoundError:
                return None
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise UnsafePath(exc.errno, f"{path} is a symlink") from exc
                raise
            with os.fdopen(fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    raise UnsafePath(errno.EINVAL, f"{path} is not a regular file")
                return handle.read()
    except FileNotFoundError:
        return None


def _before_rename() -> None:
    """A seam for fault-injection tests (a writer killed between two renames)."""


def temp_name(name: str) -> str:
    return f".{name}.vfio-deck-tmp"


def stage_bytes(root: Path, path: str, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path`` (same mode and owner as the file it will
    replace), fsynced: the step that needs disk space, done for every file before any rename."""
    with open_parent(root, path, create=True) as (dirfd, name):
        mode, owner = 0o644, None
        try:
            info = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
        except FileNotFoundError:
            info = None
        if info is not None:
            if not stat.S_ISREG(info.st_mode):
                raise UnsafePath(errno.EINVAL, f"{path} is a symlink or not a regular file")
            mode, owner = stat.S_IMODE(info.st_mode), (info.st_uid, info.st_gid)
        temp = temp_name(name)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=dirfd)
        fd = os.open(
            temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dirfd
        )
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
            if owner is not None and os.geteuid() == 0:
                os.fchown(fd, *owner)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=dirfd)
            raise
        os.close(fd)


def commit_staged(root: Path, path: str) -> None:
    """Rename the staged temp file over ``path``: atomic, and needs no space."""
    with open_parent(root, path, create=False) as (dirfd, name):
        info = _lstat(dirfd, name)
        if info is not None and not stat.S_ISREG(info.st_mode):
            raise UnsafePath(errno.EINVAL, f"{path} is a symlink or not a regular file")
        _before_rename()
        os.rename(temp_name(name), name, src_dir_fd=dirfd, dst_dir_fd=dirfd)
        os.fsync(dirfd)


def discard_staged(root: Path, path: str) -> None:
    with contextlib.suppress(OSError), open_parent(root, path, create=False) as (dirfd, name):
        os.unlink(temp_name(name), dir_fd=dirfd)


def _lstat(dirfd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dirfd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def write_bytes(root: Path, path: str, data: bytes) -> None:
    """Replace (or create) ``path`` atomically: readers see the old bytes or the new, never a mix."""
    try:
        stage_bytes(root, path, data)
        commit_staged(root, path)
    except BaseException:
        discard_staged(root, path)
        raise


def delete(root: Path, path: str) -> None:
    with open_parent(root, path, create=False) as (dirfd, name):
        info = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePath(errno.EINVAL, f"{path} is a symlink or not a regular file")
        os.unlink(name, dir_fd=dirfd)
        os.fsync(dirfd)
