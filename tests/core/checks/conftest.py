"""Fixtures for the readiness-check tests: host roots built in tmp_path from real files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.core.checks.roots import checks_of, write_files
from vfiodeck.core.checks import Check
from vfiodeck.core.host.root import HostRoot


@pytest.fixture
def make_root(tmp_path: Path) -> Callable[..., HostRoot]:
    """``make_root({"proc/cmdline": "...", ...}, dirs=["sys/kernel/iommu_groups"])`` -> a HostRoot."""

    def make(files: dict[str, str | bytes], dirs: tuple[str, ...] = ()) -> HostRoot:
        base = tmp_path / "root"
        (base / "proc").mkdir(parents=True, exist_ok=True)
        write_files(base, files)
        for rel in dirs:
            os.makedirs(base / rel, exist_ok=True)
        return HostRoot.open(base)

    return make


@pytest.fixture(scope="session")
def cpuinfo_of(hwloc_root: Callable[[str], HostRoot]) -> Callable[[str], bytes]:
    """``cpuinfo_of("64amd64-4s2n4ca2co")`` -> that capture's real proc/cpuinfo."""
    return lambda name: Path(hwloc_root(name).join("proc/cpuinfo")).read_bytes()


@pytest.fixture(scope="session")
def hwloc_checks(hwloc_root: Callable[[str], HostRoot]) -> Callable[[str], dict[str, Check]]:
    """Checks on an hwloc capture (unpacked once, shared with the other tests)."""
    cache: dict[str, dict[str, Check]] = {}

    def get(name: str) -> dict[str, Check]:
        if name not in cache:
            cache[name] = checks_of(hwloc_root(name))
        return cache[name]

    return get
