"""Roots for host-change tests: a host built from a published IOMMU listing, with real
configuration files from tests/fixtures/host-config/ placed where the system keeps them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostbuilder import LISTINGS_DIR, build_root_from_listing, scan_root
from vfiodeck.core.host.model import HostModel
from vfiodeck.core.hostchanges.files import RootFiles
from vfiodeck.core.hostchanges.planner import Request, make_plan

CONFIG = Path(__file__).parents[2] / "fixtures" / "host-config"
DEBIAN = 'ID=debian\nVERSION_ID="12"\n'
ARCH = "ID=arch\n"
FEDORA = 'ID=fedora\nID_LIKE=""\n'
INTEL_CPUINFO = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test\nflags\t\t: vmx\n\n"


def fixture_files(folder: str) -> list[Path]:
    return sorted(p for p in (CONFIG / folder).iterdir() if p.is_file())


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under etc/ and boot/ with its bytes (the journal excluded)."""
    found = {}
    for top in ("etc", "boot"):
        for dirpath, _dirs, names in os.walk(root / top):
            for name in names:
                path = Path(dirpath) / name
                found[str(path.relative_to(root))] = path.read_bytes()
    return found


class HostRootBuilder:
    def __init__(self, tmp: Path, listing: str) -> None:
        (path,) = sorted(LISTINGS_DIR.glob(f"{listing}*.txt"))
        self.path = build_root_from_listing(path, tmp / "root")

    def put(self, host_path: str, content: str | bytes | Path) -> HostRootBuilder:
        dest = self.path / host_path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, dest)
        elif isinstance(content, bytes):
            dest.write_bytes(content)
        else:
            dest.write_text(content)
        return self

    @property
    def files(self) -> RootFiles:
        return RootFiles(self.path)

    def host(self) -> HostModel:
        return scan_root(self.path)

    def plan(self, **request: object):  # type: ignore[no-untyped-def]
        return make_plan(str(self.path), self.files, self.host(), Request(**request), live=False)  # type: ignore[arg-type]


@pytest.fixture
def make_root(tmp_path: Path) -> Callable[[str], HostRootBuilder]:
    count = iter(range(1000))

    def make(listing: str = "b550m") -> HostRootBuilder:
        return HostRootBuilder(tmp_path / f"r{next(count)}", listing)

    return make


def roundtrip(builder: HostRootBuilder, **request: object):  # type: ignore[no-untyped-def]
    """plan -> apply -> plan (no changes) -> apply (no entry, no byte) -> undo (every byte back).
    Returns (the first plan, the files as applied) so the caller can ask the real consumer."""
    from vfiodeck.core.hostchanges import journal

    original = snapshot(builder.path)
    plan = builder.plan(**request)
    assert not plan.refused, plan.refused
    entry = journal.apply_plan(builder.path, plan, "test")
    applied = snapshot(builder.path)
    again = builder.plan(**request)
    assert again.changes == (), [c.diff() for c in again.changes]
    assert journal.apply_plan(builder.path, again, "test") is None
    assert snapshot(builder.path) == applied
    if entry is not None:
        journal.undo(builder.path)
        assert snapshot(builder.path) == original
        # leave the applied state for the consumer checks
        journal.apply_plan(builder.path, builder.plan(**request), "test")
    return plan, applied
