"""Private folders that hold unpacked captures, removed at exit and on SIGTERM/SIGHUP too.

``atexit`` alone leaves them behind when the process is terminated (a desktop logout, ``kill``),
and they live in memory (``/dev/shm``), so each one left is memory lost until reboot.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
import threading
from types import FrameType

_PREFIX = "vfiodeck-root-"
_HANDLED = (signal.SIGTERM, signal.SIGHUP)

_lock = threading.Lock()
_folders: list[str] = []


def scratch_parent() -> str | None:
    """Where to unpack: a memory-backed folder when there is one. A capture holds thousands of
    tiny files, and creating them on some disks costs ~1 ms each (a 10,000-file hwloc capture
    took 7 s on disk and 0.4 s in tmpfs here); on the desktop $XDG_RUNTIME_DIR is such a folder."""
    for candidate in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK):
            return candidate
    return None  # the system's temporary folder


def new_folder() -> str:
    """A new private (0700) folder, removed when the process ends however it ends."""
    path = tempfile.mkdtemp(prefix=_PREFIX, dir=scratch_parent())
    with _lock:
        if not _folders:
            atexit.register(remove_all)
        _folders.append(path)
    install_signal_cleanup()
    return path


def remove(path: str) -> None:
    with _lock:
        if path in _folders:
            _folders.remove(path)
    shutil.rmtree(path, ignore_errors=True)  # depth is capped when unpacking: no recursion limit


def remove_all() -> None:
    with _lock:
        folders, _folders[:] = list(_folders), []
    for path in folders:
        shutil.rmtree(path, ignore_errors=True)


def install_signal_cleanup() -> None:
    """Remove the folders on SIGTERM and SIGHUP, then die of the signal as before.

    Only from the main thread (Python's rule) and only where nobody set a handler of their own."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in _HANDLED:
        if signal.getsignal(signum) in (signal.SIG_DFL, None):
            signal.signal(signum, _on_signal)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    remove_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
