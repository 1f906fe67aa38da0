"""Where a host's files are read from: the live system, a directory, or a captured tarball."""

from __future__ import annotations

import _thread
import os
import stat
from pathlib import Path

from vfiodeck.core.errors import BadRootError

_KINDS = ".tar.gz, .tar.bz2, .tar.xz, .tar"
TARBALL_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar")

# Kernel pseudo-filesystems: a --root there reads /proc/sys as "sys" and hangs on its files.
# (/dev itself only: /dev/shm is an ordinary tmpfs, and device nodes are not directories anyway.)
_PSEUDO = ("/proc", "/sys")

# The unpacker (tarfile, the compressors, tempfile, shutil) is imported only for a tarball: a
# folder or the live host, what `inspect` reads most, pays for none of it.
_unpack_lock = _thread.allocate_lock()
_unpacked: dict[tuple[int, int, int, int], Path] = {}

# Entries a host root is recognised by: a capture holds at least one of them at its top.
_ROOT_MARKERS = ("sys", "proc")


def is_tarball(path: Path) -> bool:
    return path.name.endswith(TARBALL_SUFFIXES)


class HostRoot:
    """A directory that mirrors real paths below it (``ROOT/sys/...``, ``ROOT/proc/...``).

    ``HostRoot.open()`` accepts ``/`` (the live host), a directory, or a tarball; a tarball is
    unpacked once per process (see ``unpack``) into a private folder that is removed when the
    process ends (see ``scratch``).
    """

    def __init__(self, path: Path, *, label: str | None = None, live: bool = False) -> None:
        self.path = path
        self.live = live
        self.label = label if label is not None else ("/" if live else str(path))
        # Files are read only below this real path (None: the live host, where all of / is ours).
        self.confine: str | None = None if live else os.path.realpath(path)

    def __repr__(self) -> str:
        return f"HostRoot({self.label!r})"

    @classmethod
    def live_host(cls) -> HostRoot:
        return cls(Path("/"), live=True)

    @classmethod
    def open(cls, spec: str | os.PathLike[str] | None) -> HostRoot:
        """Open a host root; raise BadRootError with a one-line reason when it is not one."""
        if spec is None or str(spec) == "/":
            return cls.live_host()
        try:
            path = Path(spec).expanduser()
        except RuntimeError as exc:  # "~nosuchuser"
            raise BadRootError(f"{spec}: {exc}") from exc
        try:
            st = path.stat()
        except FileNotFoundError as exc:
            raise BadRootError(f"{path}: no such file or directory") from exc
        except OSError as exc:
            raise BadRootError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
        real = os.path.realpath(path)
        if real == "/":
            return cls.live_host()
        if real == "/dev" or any(real == p or real.startswith(p + "/") for p in _PSEUDO):
            raise BadRootError(
                f"{path}: a kernel file system, not a host root (use --root / for this machine)"
            )
        if stat.S_ISDIR(st.st_mode):
            return cls(_find_top(path), label=str(path))
        if stat.S_ISREG(st.st_mode):
            return cls(_unpack(path), label=path.name)
        raise BadRootError(f"{path}: not a directory or a tarball ({_KINDS})")

    def join(self, rel: str) -> str:
        """The absolute path of ``rel`` (a path relative to the root, no leading slash)."""
        return os.path.join(self.path, rel)


def _find_top(directory: Path) -> Path:
    """A capture's root is the directory itself, or the single folder inside it (hwloc's layout)."""
    try:
        if _has_marker(directory):
            return directory
        entries = [e for e in directory.iterdir() if not e.name.startswith(".")]
        if len(entries) == 1 and _is_real_dir(entries[0]) and _has_marker(entries[0]):
            return entries[0]
    except OSError as exc:
        raise BadRootError(f"{directory}: cannot list it ({exc.strerror or exc})") from exc
    raise BadRootError(f"{directory}: not a host root (no sys/ or proc/ inside)")


def _is_real_dir(path: Path) -> bool:
    return stat.S_ISDIR(os.lstat(path).st_mode)


def _has_marker(directory: Path) -> bool:
    """``sys/`` or ``proc/`` as real folders: a link there would lead the scan out of the root."""
    for marker in _ROOT_MARKERS:
        try:
            if _is_real_dir(directory / marker):
                return True
        except FileNotFoundError:
            continue
    return False


def _unpack(path: Path) -> Path:
    """Unpack a tarball once per process: opening the same file again (the window's Refresh)
    reuses the copy as long as the file is unchanged."""
    try:
        st = path.stat()
    except OSError as exc:
        raise BadRootError(f"{path}: cannot read it ({exc.strerror})") from exc
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _unpack_lock:
        cached = _unpacked.get(key)
        if cached is not None and cached.is_dir():
            return cached
        top = _unpack_fresh(path)
        _unpacked[key] = top
        return top


def _unpack_fresh(path: Path) -> Path:
    from vfiodeck.core.host import scratch
    from vfiodeck.core.host.unpack import NotATarballError, UnpackError, unpack

    try:
        dest = scratch.new_folder()
    except OSError as exc:
        raise BadRootError(f"cannot make a folder to unpack {path.name} in ({exc.strerror})") from exc
    try:
        unpack(path, dest)
        return _find_top(Path(dest))
    except NotATarballError as exc:
        scratch.remove(dest)
        if not is_tarball(path):
            raise BadRootError(f"{path}: not a directory or a tarball ({_KINDS})") from exc
        raise BadRootError(f"{path}: cannot unpack it: {exc}") from exc
    except UnpackError as exc:
        scratch.remove(dest)
        raise BadRootError(f"{path}: cannot unpack it: {exc}") from exc
    except OSError as exc:
        scratch.remove(dest)
        raise BadRootError(f"{path}: cannot unpack it ({exc.strerror or exc})") from exc
    except BaseException:
        scratch.remove(dest)
        raise
