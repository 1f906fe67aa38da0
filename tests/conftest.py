"""Shared fixtures: host roots from the real-machine captures in tests/fixtures/."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostbuilder import LISTINGS_DIR, build_root_from_listing, scan_root
from vfiodeck.core.host.model import HostModel
from vfiodeck.core.host.root import HostRoot

FIXTURES = Path(__file__).parent / "fixtures"

# Device names come from a trimmed pci.ids in the repository (tests/make_pci_ids.py), never from
# whatever pciutils/hwdata this machine has: the same names everywhere, subprocesses included.
os.environ["VFIODECK_PCI_IDS"] = str(FIXTURES / "pci.ids")

# The real consumers the tests judge output with (modprobe, chattr) live in /usr/sbin, which is not
# on an ordinary Debian user's PATH: a sudo user must run the same tests as root does.
_path = os.environ.get("PATH", "").split(os.pathsep)
os.environ["PATH"] = os.pathsep.join(_path + [d for d in ("/usr/sbin", "/sbin") if d not in _path])
HWLOC_DIR = FIXTURES / "hwloc"


@pytest.fixture(scope="session")
def listing_host(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], HostModel]:
    """``listing_host("x399")`` -> the HostModel scanned from a root built from the listing whose
    file name starts with that prefix (built once per session)."""
    cache: dict[str, HostModel] = {}

    def get(prefix: str) -> HostModel:
        if prefix not in cache:
            (path,) = sorted(LISTINGS_DIR.glob(f"{prefix}*.txt"))
            root = build_root_from_listing(path, tmp_path_factory.mktemp(path.stem))
            cache[prefix] = scan_root(root)
        return cache[prefix]

    return get


@pytest.fixture(scope="session")
def hwloc_root() -> Callable[[str], HostRoot]:
    """``hwloc_root("2pa-pcidomain32bits")`` -> the unpacked hwloc capture (unpacked once)."""
    cache: dict[str, HostRoot] = {}

    def get(name: str) -> HostRoot:
        if name not in cache:
            cache[name] = HostRoot.open(HWLOC_DIR / name / f"{name}.tar.bz2")
        return cache[name]

    return get
