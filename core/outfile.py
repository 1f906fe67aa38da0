"""Where a command writes a file the user asked for: never over anything but a regular file, and
under sudo owned by the user who ran sudo."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from vfiodeck.core.errors import VfioDeckError


class OutputError(VfioDeckError):
    """The output file cannot or must not be written (one line for the user)."""


def check_output_target(dest: Path) -> None:
    """Refuse to replace anything but a regular file (a device node, a FIFO, a folder, a link):
    ``sudo vfio-deck snapshot -o /dev/null`` must not turn /dev/null into a file."""
    try:
        st = os.lstat(dest)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"cannot write {dest}: {exc.strerror}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{dest} exists and is not a regular file; not replacing it")


def give_to_invoking_user(fd: int) -> None:
    """Under sudo, the snapshot belongs to the user who ran sudo (they attach it to a report)."""
    if os.geteuid() != 0:
        return
    uid, gid = os.environ.get("SUDO_UID", ""), os.environ.get("SUDO_GID", "")
    if uid.isascii() and uid.isdigit() and gid.isascii() and gid.isdigit():
        os.fchown(fd, int(uid), int(gid))
