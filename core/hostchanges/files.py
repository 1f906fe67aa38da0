"""Reading a host root's configuration files: text with every byte kept, no symlink followed
outside the root. Bytes that are not UTF-8 survive as surrogates and are written back as they were."""

from __future__ import annotations

import os
from pathlib import Path

ENCODING = "utf-8"
ERRORS = "surrogateescape"


class RootFiles:
    """The files of one host root, by absolute host path ("/etc/default/grub")."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def host_path(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def read(self, path: str) -> str | None:
        """The text of a regular file, or None when it is missing, unreadable or not a plain file."""
        full = self.host_path(path)
        try:
            fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            with os.fdopen(fd, "rb") as handle:
                return handle.read().decode(ENCODING, ERRORS)
        except OSError:
            return None

    def exists(self, path: str) -> bool:
        return os.path.lexists(self.host_path(path))

    def is_dir(self, path: str) -> bool:
        full = self.host_path(path)
        return full.is_dir() and not full.is_symlink()

    def listdir(self, path: str, suffix: str = "") -> list[str]:
        """Host paths of the plain files in a folder, sorted as the shell's glob sorts them (C locale)."""
        if not self.is_dir(path):
            return []
        names = sorted(n for n in os.listdir(self.host_path(path)) if n.endswith(suffix))
        return [f"{path.rstrip('/')}/{n}" for n in names if (self.host_path(path) / n).is_file()]


def encode(text: str) -> bytes:
    return text.encode(ENCODING, ERRORS)
