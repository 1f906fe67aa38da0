"""libvirt_access: the system libvirt daemon's socket is there and this user may talk to it.

Monolithic libvirtd listens on run/libvirt/libvirt-sock, the modular daemons on
run/libvirt/virtqemud-sock. A user outside the ``libvirt`` group is asked for a password by polkit
on every connection, or refused where no agent runs.
"""

from __future__ import annotations

import os
import socket

from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.model import Check, Status

TITLE = "libvirt reachable by this user"
SOCKETS = ("run/libvirt/virtqemud-sock", "run/libvirt/libvirt-sock")
GROUP = "libvirt"
START_COMMAND = "sudo systemctl enable --now libvirtd.socket"
JOIN_COMMAND = f'sudo usermod -aG {GROUP} "$USER"'


def group_gid(text: str, name: str) -> int | None:
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[0] == name and fields[2].isdigit():
            return int(fields[2])
    return None


def _connect_error(path: str) -> OSError | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(1.0)
    try:
        sock.connect(path)
    except OSError as exc:
        return exc
    finally:
        sock.close()
    return None


def _membership(ctx: CheckContext) -> tuple[bool | None, str]:
    if os.geteuid() == 0:
        return True, "running as root"
    text = ctx.reader.text("etc/group")
    gid = group_gid(text, GROUP) if text is not None else None
    if gid is None:
        return None, f"etc/group: no {GROUP} group"
    member = gid in os.getgroups()
    return member, f"{'in' if member else 'not in'} the {GROUP} group (gid {gid})"


def check_libvirt_access(ctx: CheckContext) -> Check:
    reader = ctx.reader
    if not reader.root.live:
        evidence = "run/libvirt: sockets and user accounts are not in a snapshot"
        return Check("libvirt_access", Status.UNKNOWN, TITLE, evidence, "")
    present = [rel for rel in SOCKETS if reader.exists(rel)]
    if not present:
        evidence = f"{' and '.join(SOCKETS)}: missing (no libvirt daemon listening)"
        fix = (
            f"Start libvirt's system daemon: `{START_COMMAND}` (modular daemons: "
            "`sudo systemctl enable --now virtqemud.socket`); install it first if needed "
            "(Debian/Ubuntu: libvirt-daemon-system, Fedora: libvirt-daemon-kvm, Arch: libvirt)."
        )
        return Check("libvirt_access", Status.FAIL, TITLE, evidence, fix, START_COMMAND)
    rel = present[0]
    error = _connect_error(reader.root.join(rel))
    member, how = _membership(ctx)
    if error is not None:
        evidence = f"{rel}: {error.strerror or error}; {how}"
        fix = (
            f"Join the {GROUP} group and log in again: `{JOIN_COMMAND}`; check the daemon runs "
            f"(`{START_COMMAND}`)."
        )
        return Check("libvirt_access", Status.FAIL, TITLE, evidence, fix, JOIN_COMMAND)
    evidence = f"{rel}: connected; {how}"
    if member is False:
        fix = (
            f"polkit will ask for a password on each connection: join the {GROUP} group "
            f"(`{JOIN_COMMAND}`) and log in again."
        )
        return Check("libvirt_access", Status.WARN, TITLE, evidence, fix, JOIN_COMMAND)
    return Check("libvirt_access", Status.PASS, TITLE, evidence, "")
