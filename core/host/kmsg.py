"""The kernel log (what ``dmesg`` prints), read from ``/dev/kmsg`` under a host root.

The log is not a file: on the live host it is the ``dev/kmsg`` character device, read record by
record without blocking; a snapshot cannot hold it, so there the log is None with the reason. A
test root may hold ``dev/kmsg`` as a plain file with ``dmesg`` or kmsg-record text in it.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass

from vfiodeck.core.host.sysfs import Reader

KMSG = "dev/kmsg"
_MAX_RECORDS = 100_000
_MAX_BYTES = 16 << 20

# "6,339,5140900,-;message" (a /dev/kmsg record), "<6>[    0.000000] message" (printk level
# prefix), "[    0.000000] message" (dmesg), "[  +0.000309] message" (dmesg -H).
_KMSG_RECORD = re.compile(r"^\d+,\d+,\d+,[^;]*;")
_LEVEL = re.compile(r"^<\d+>")
_STAMP = re.compile(r"^\[\s*[+]?[\d.]+\]\s?")


@dataclass(frozen=True)
class KernelLog:
    lines: tuple[str, ...] | None  # messages without prefixes; None when the log could not be read
    reason: str  # where the lines came from, or why there are none

    def matching(self, *needles: str) -> list[str]:
        """Lines holding any of the needles, in log order."""
        return [line for line in self.lines or () if any(n in line for n in needles)]


def message_of(line: str) -> str:
    """A log line without its record header, printk level or timestamp."""
    line = line.rstrip("\r\n")
    line = _KMSG_RECORD.sub("", line, count=1)
    line = _LEVEL.sub("", line, count=1)
    return _STAMP.sub("", line, count=1)


def parse_log(text: str) -> tuple[str, ...]:
    # kmsg continuation lines (" SUBSYSTEM=pci") belong to the record before: they are dropped.
    return tuple(message_of(line) for line in text.splitlines() if line and not line.startswith(" "))


def _read_device(path: str) -> bytes:
    chunks: list[bytes] = []
    total = 0
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        for _ in range(_MAX_RECORDS):
            try:
                record = os.read(fd, 8192)  # one record per read
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EPIPE:  # the ring buffer overwrote the record: skip it
                    continue
                raise
            if not record:
                break
            chunks.append(record)
            total += len(record)
            if total > _MAX_BYTES:
                break
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_kernel_log(reader: Reader) -> KernelLog:
    path = reader.root.join(KMSG)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if reader.root.live:
            return KernelLog(None, f"{KMSG}: missing (no kernel log device)")
        return KernelLog(None, "kernel log: not in a snapshot (dmesg is not a file)")
    except OSError as exc:
        return KernelLog(None, f"{KMSG}: {exc.strerror or exc}")
    if stat.S_ISREG(mode):
        text = reader.text(KMSG)
        if text is None:
            return KernelLog(None, f"{KMSG}: unreadable")
        return KernelLog(parse_log(text), KMSG)
    if not stat.S_ISCHR(mode) or not reader.root.live:
        return KernelLog(None, "kernel log: not in a snapshot (dmesg is not a file)")
    try:
        data = _read_device(path)
    except PermissionError:
        return KernelLog(
            None,
            f"{KMSG}: permission denied (kernel.dmesg_restrict=1: reading the kernel log needs root)",
        )
    except OSError as exc:
        return KernelLog(None, f"{KMSG}: {exc.strerror or exc}")
    return KernelLog(parse_log(data.decode("utf-8", "replace")), KMSG)
