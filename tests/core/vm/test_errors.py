"""libvirt errors in plain language: real errors from the test driver, and real message texts from
libvirt's and QEMU's sources and users' reports for the failures this machine can't produce."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from vfiodeck.core.errors import HostUnsupportedError, PermissionDeniedError, VfioDeckError
from vfiodeck.core.vm.connection import open_connection
from vfiodeck.core.vm.errors import (
    ConnectionFailedError,
    ConnectionLostError,
    DeviceBusyError,
    DeviceResetError,
    DomainNotFoundError,
    InvalidDomainXmlError,
    VfioUnsupportedError,
    VmError,
    VmPermissionError,
    translate,
)

URI = "test://" + str(Path(__file__).resolve().parents[2] / "fixtures" / "libvirt" / "host-two-vms.xml")


@pytest.fixture
def conn() -> Iterator[libvirt.virConnect]:
    c = open_connection(URI)
    yield c
    c.close()


def error(code: int, message: str) -> libvirt.libvirtError:
    """A libvirtError as the bindings raise it; err = (code, domain, message, level, str1..3, int1, int2)."""
    err = libvirt.libvirtError(message)
    err.err = (code, libvirt.VIR_FROM_QEMU, message, libvirt.VIR_ERR_ERROR, "", None, None, -1, -1)
    return err


def raised(call: object) -> libvirt.libvirtError:
    assert callable(call)
    with pytest.raises(libvirt.libvirtError) as caught:
        call()
    return caught.value


# -- errors produced by the real test driver --------------------------------------------------------


def test_vanished_domain(conn: libvirt.virConnect) -> None:
    dom = conn.lookupByName("beta")
    dom.destroy()
    dom.undefine()
    out = translate(raised(dom.create), domain="beta")
    assert isinstance(out, DomainNotFoundError)
    assert (
        str(out) == "The VM “beta” no longer exists: it was removed outside VFIO Deck. The list will refresh."
    )
    assert out.code == libvirt.VIR_ERR_NO_DOMAIN
    assert "no domain with matching uuid" in out.detail


def test_closed_connection(conn: libvirt.virConnect) -> None:
    dead = open_connection(URI)
    dead.close()
    out = translate(raised(dead.listAllDomains))
    assert isinstance(out, ConnectionLostError)
    assert out.detail == "invalid connection pointer in virConnectListAllDomains"


def test_schema_validation_failure(conn: libvirt.virConnect) -> None:
    bad = "<domain type='test'><name>x</name><memory>lots</memory></domain>"
    out = translate(raised(lambda: conn.defineXMLFlags(bad, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)))
    assert isinstance(out, InvalidDomainXmlError)
    assert out.code == libvirt.VIR_ERR_XML_INVALID_SCHEMA
    assert str(out).startswith("libvirt rejected the VM definition: ")


def test_no_daemon() -> None:
    err = raised(lambda: libvirt.open("qemu:///system?socket=/nonexistent/libvirt-sock"))
    out = translate(err)
    assert isinstance(out, ConnectionFailedError)
    assert str(out) == "Can't reach libvirt. Is the libvirt daemon running (systemctl start libvirtd)?"


# -- message texts from libvirt/QEMU sources and published reports ---------------------------------


def test_vfio_unsupported() -> None:
    # src/qemu/qemu_domain_address.c / qemu_hostdev.c, with the code libvirt reports it under.
    out = translate(
        error(
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED,
            "unsupported configuration: host doesn't support VFIO PCI passthrough",
        )
    )
    assert isinstance(out, VfioUnsupportedError)
    assert isinstance(out, HostUnsupportedError)
    assert str(out).startswith("This host doesn't support VFIO PCI passthrough right now")


def test_no_reset() -> None:
    # As a Qubes user reported it (libvirt's src/util/virpci.c wording).
    raw = "internal error: Unable to reset PCI device 0000:00:02.0: no FLR, PM reset or bus reset available"
    out = translate(error(libvirt.VIR_ERR_INTERNAL_ERROR, raw))
    assert isinstance(out, DeviceResetError)
    assert "can't be reset" in str(out)
    assert out.detail == raw


def test_group_not_viable() -> None:
    # QEMU's hw/vfio wording, relayed by libvirt as an internal error.
    raw = (
        "internal error: qemu unexpectedly closed the monitor: vfio 0000:01:00.0: group 1 is not viable\n"
        "Please ensure all devices within the iommu_group are bound to their vfio bus driver."
    )
    out = translate(error(libvirt.VIR_ERR_INTERNAL_ERROR, raw))
    assert isinstance(out, DeviceBusyError)
    assert "IOMMU group" in str(out)


def test_device_in_use_by_another_vm() -> None:
    # src/hypervisor/virhostdev.c: "PCI device %1$s is in use by driver %2$s, domain %3$s"
    raw = "Requested operation is not valid: PCI device 0000:0a:00.0 is in use by driver QEMU, domain win10"
    out = translate(error(libvirt.VIR_ERR_OPERATION_INVALID, raw), domain="win11")
    assert isinstance(out, DeviceBusyError)
    assert str(out) == "A passed-through device is already in use by another running VM."


@pytest.mark.parametrize(
    ("code", "raw"),
    [
        (libvirt.VIR_ERR_ACCESS_DENIED, "access denied: 'domain.start' denied"),
        (
            libvirt.VIR_ERR_SYSTEM_ERROR,
            "Failed to connect socket to '/var/run/libvirt/libvirt-sock': Permission denied",
        ),
        (
            libvirt.VIR_ERR_AUTH_FAILED,
            "authentication unavailable: no polkit agent available to authenticate",
        ),
    ],
)
def test_permission_denied(code: int, raw: str) -> None:
    out = translate(error(code, raw))
    assert isinstance(out, VmPermissionError)
    assert isinstance(out, PermissionDeniedError)
    assert "libvirt group" in str(out)


def test_connection_dropped_mid_call() -> None:
    out = translate(error(libvirt.VIR_ERR_SYSTEM_ERROR, "Cannot recv data: Connection reset by peer"))
    assert isinstance(out, ConnectionLostError)


def test_anything_else_keeps_libvirt_words_and_stays_a_vfiodeck_error() -> None:
    out = translate(error(libvirt.VIR_ERR_INTERNAL_ERROR, "internal error: something new"))
    assert type(out) is VmError
    assert isinstance(out, VfioDeckError)
    assert str(out) == "libvirt reported an error: internal error: something new"
