"""Helpers for the readiness-check tests: real fixture text and host roots built from it."""

from __future__ import annotations

from pathlib import Path

from vfiodeck.core.checks import Check, run_checks
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.scan import scan_host
from vfiodeck.core.host.sysfs import Reader

FIXTURES = Path(__file__).parents[2] / "fixtures"
CHECK_FIXTURES = FIXTURES / "checks"
HWLOC_DIR = FIXTURES / "hwloc"
LISTINGS_DIR = FIXTURES / "listings"


def real_text(rel: str) -> str:
    """A fixture file's published text, without the "# source:" line we put on top."""
    text = (CHECK_FIXTURES / rel).read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    return rest if first.startswith("# source:") else text


def grub_default_cmdline(rel: str) -> str:
    """The live (uncommented) GRUB_CMDLINE_LINUX_DEFAULT value of a real /etc/default/grub."""
    for line in (CHECK_FIXTURES / rel).read_text(encoding="utf-8").splitlines():
        if line.startswith("GRUB_CMDLINE_LINUX_DEFAULT="):
            return line.split("=", 1)[1].strip().strip('"')
    raise AssertionError(f"{rel}: no GRUB_CMDLINE_LINUX_DEFAULT line")


def write_files(base: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def checks_of(root: HostRoot) -> dict[str, Check]:
    host = scan_host(root)
    return {check.id: check for check in run_checks(host, Reader(root), host.candidates)}
