"""Fixtures shared by the core tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from vfiodeck.core.vm.connection import Hypervisor

DEMO_VMS_XML = Path(__file__).resolve().parents[1] / "gui" / "vms" / "host-vms.xml"


@pytest.fixture
def hv(tmp_path: Path) -> Iterator[Hypervisor]:
    """libvirt's test driver on a private copy of the demo VMs (test:///default would keep state
    across tests). A test module may define its own ``hv``; that one wins."""
    path = tmp_path / "host.xml"
    shutil.copy(DEMO_VMS_XML, path)
    hyp = Hypervisor("test://" + str(path), events=False)
    hyp.connect()
    yield hyp
    hyp.close()
