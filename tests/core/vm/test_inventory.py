"""inventory / read_definitions on libvirt's test driver, opened per test on a copied XML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.errors import (
    ConnectionFailedError,
    ConnectionLostError,
    DomainNotFoundError,
    is_link_error,
    unreachable_message,
)
from vfiodeck.core.vm.inventory import connection_label, inventory, read_definitions, running_devices

HOST_XML = Path(__file__).resolve().parents[2] / "gui" / "vms" / "host-vms.xml"


def test_inventory_lists_every_vm_with_its_passed_devices(hv: Hypervisor) -> None:
    rows = inventory(hv)
    assert [r.info.name for r in rows] == ["gaming", "workstation"]
    by_name = {r.info.name: r for r in rows}
    assert by_name["workstation"].devices == ("0000:43:00.0",)
    assert by_name["gaming"].key == (hv.uri, by_name["gaming"].info.uuid)
    running = running_devices(rows, hv.uri)
    assert running == {r.info.name: r.devices for r in rows if r.info.state.is_active}


def test_read_definitions_reads_every_inactive_xml(hv: Hypervisor) -> None:
    definitions = read_definitions(hv, "gaming")
    assert list(definitions) == ["gaming", "workstation"]
    assert definitions["workstation"] == hv.inactive_xml("workstation")
    with pytest.raises(DomainNotFoundError):
        read_definitions(hv, "nope")


def test_error_policy() -> None:
    assert is_link_error(ConnectionLostError("gone"))
    assert not is_link_error(DomainNotFoundError("gone"))
    assert "systemctl start libvirtd" in unreachable_message("qemu:///system", ConnectionFailedError("x"))
    assert "ssh" in unreachable_message("qemu+ssh://h/system", ConnectionFailedError("x"))
    assert connection_label("test:///tmp/a/demo.xml") == "demo.xml (test driver)"
    assert connection_label("qemu:///system") == "qemu:///system"
