"""Small, forgiving readers for sysfs/procfs files under a host root.

A missing file gives ``None`` and is not a problem: most sysfs attributes are optional. A file
that exists but cannot be read, or whose content does not parse, also gives ``None`` but is
recorded in ``Reader.problems`` with its reason, so "permission denied" never looks like "absent".
"""

from __future__ import annotations

import errno
import os
import sys

from vfiodeck.core.host.model import Problem, ProblemKind
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.safe_read import RefusedError, limit_for, open_dir_names, read_file
from vfiodeck.core.text import MAX_CPU, is_digits, parse_cpulist

_HEX_DIGITS = frozenset("0123456789abcdef")
_CPU_DIR = "sys/devices/system/cpu"


def parse_hex_id(text: str, digits: int) -> str | None:
    """ "0x10de\\n" -> "10de"; None unless it is exactly ``digits`` hex digits (after 0x)."""
    value = text.strip().lower()
    if value.startswith("0x"):
        value = value[2:]
    if len(value) != digits or not _HEX_DIGITS.issuperset(value):
        return None
    return value


class Reader:
    """Reads files below one ``HostRoot`` and keeps the reasons for what it could not read."""

    def __init__(self, root: HostRoot) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self._max_cpu: int | None = None

    # -- recording -------------------------------------------------------------------------
    def problem(self, rel: str, kind: ProblemKind, detail: str) -> None:
        logging = sys.modules.get("logging")  # loaded by the window, or by the CLI with -v
        if logging is not None:
            logging.getLogger(__name__).debug("%s: %s (%s)", rel, detail, kind.value)
        self.problems.append(Problem(rel, kind, detail))

    def _os_error(self, rel: str, exc: OSError) -> None:
        if exc.errno in (errno.EACCES, errno.EPERM):
            self.problem(rel, ProblemKind.PERMISSION, "permission denied")
        else:
            self.problem(rel, ProblemKind.IO_ERROR, exc.strerror or str(exc))

    # -- raw access ------------------------------------------------------------------------
    def _read(self, rel: str, limit: int) -> bytes | None:
        try:
            return read_file(self.root.join(rel), self.root.confine, limit)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except RefusedError as exc:
            self.problem(rel, ProblemKind.GARBAGE, str(exc))
            return None
        except OSError as exc:
            self._os_error(rel, exc)
            return None

    def text(self, rel: str) -> str | None:
        """The file's text, or None (missing, unreadable, not a regular file, too large, outside)."""
        data = self._read(rel, limit_for(rel))
        return None if data is None else data.decode("utf-8", "replace")

    def data(self, rel: str, limit: int = -1) -> bytes | None:
        """The file's bytes; with ``limit``, only that many (the rest is not read)."""
        if limit < 0:
            return self._read(rel, limit_for(rel))
        data = self._read(rel, max(limit, limit_for(rel)))
        return None if data is None else data[:limit]

    def listdir(self, rel: str) -> list[str]:
        """Entry names, sorted; [] when the directory is missing (recorded if unreadable)."""
        try:
            return sorted(open_dir_names(self.root.join(rel), self.root.confine))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except RefusedError as exc:
            self.problem(rel, ProblemKind.GARBAGE, str(exc))
            return []
        except OSError as exc:
            self._os_error(rel, exc)
            return []

    def exists(self, rel: str) -> bool:
        return os.path.lexists(self.root.join(rel))

    def isdir(self, rel: str) -> bool:
        return os.path.isdir(self.root.join(rel))

    def resolve(self, rel: str) -> str | None:
        """Where ``rel`` really is, following every link, relative to the root ("sys/devices/...");
        None when it is missing or leads outside the root."""
        top = os.path.realpath(self.root.path)
        path = self.root.join(rel)
        if not os.path.lexists(path):
            return None
        real = os.path.realpath(path)
        if real == top:
            return ""
        if not real.startswith(top.rstrip(os.sep) + os.sep):
            return None
        return real[len(top.rstrip(os.sep)) + 1 :]

    def link_name(self, rel: str) -> str | None:
        """Last component of a symlink's target, even when the target is gone (captures
        often leave ``driver`` links dangling)."""
        try:
            target = os.readlink(self.root.join(rel))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # not a symlink
                self.problem(rel, ProblemKind.GARBAGE, "expected a symlink")
                return None
            self._os_error(rel, exc)
            return None
        name = os.path.basename(target.rstrip("/"))
        return name or None

    # -- typed access ----------------------------------------------------------------------
    def string(self, rel: str) -> str | None:
        """First line, stripped; None when missing or empty."""
        text = self.text(rel)
        if text is None:
            return None
        value = text.split("\n", 1)[0].strip()
        return value or None

    def integer(self, rel: str, base: int = 10) -> int | None:
        value = self.string(rel)
        if value is None:
            return None
        try:
            return int(value, base)
        except ValueError:
            self.problem(rel, ProblemKind.GARBAGE, f"not an integer: {value[:40]!r}")
            return None

    def hex_id(self, rel: str, digits: int = 4) -> str | None:
        text = self.text(rel)
        if text is None:
            return None
        value = parse_hex_id(text, digits)
        if value is None:
            self.problem(rel, ProblemKind.GARBAGE, f"not a {digits}-digit hex id: {text.strip()[:40]!r}")
        return value

    def cpulist(self, rel: str) -> tuple[int, ...] | None:
        """A cpulist naming only CPUs that have a folder: every list the scan reads (online, node,
        siblings, cache sharing) holds present CPUs, so a larger number is garbage, not a host."""
        text = self.text(rel)
        if text is None:
            return None
        cpus = parse_cpulist(text, self.max_cpu())
        if cpus is None:
            self.problem(rel, ProblemKind.GARBAGE, f"not a cpulist of present CPUs: {text.strip()[:40]!r}")
        return cpus

    def max_cpu(self) -> int:
        """The highest ``cpuN`` folder (MAX_CPU when there is none), looked up once."""
        if self._max_cpu is None:
            ids = [int(n[3:]) for n in self.listdir(_CPU_DIR) if n.startswith("cpu") and is_digits(n[3:])]
            self._max_cpu = min(max(ids), MAX_CPU) if ids else MAX_CPU
        return self._max_cpu
