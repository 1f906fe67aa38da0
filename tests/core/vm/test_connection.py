"""Hypervisor against libvirt's test driver, opened per test on an XML file (never test:///default)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from vfiodeck.core.vm.connection import (
    Backoff,
    DomainInfo,
    DomainState,
    Hypervisor,
    is_remote,
    open_connection,
    talks_to_a_daemon,
)
from vfiodeck.core.vm.errors import (
    ConnectionFailedError,
    ConnectionLostError,
    DomainNotFoundError,
    InvalidStateError,
    VmError,
)

HOST_XML = Path(__file__).resolve().parents[2] / "fixtures" / "libvirt" / "host-two-vms.xml"
URI = "test://" + str(HOST_XML)
UUID_ALPHA = "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
UUID_BETA = "4dea22b3-1d52-d8f3-2516-782e98ab3fa1"

GAMMA_XML = """<domain type='test'>
  <name>gamma</name>
  <uuid>0d6a7b56-4c3e-4f3a-9a1e-3c1f9d7a1b22</uuid>
  <memory unit='KiB'>4194304</memory>
  <vcpu>4</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
</domain>"""


@pytest.fixture
def hv() -> Iterator[Hypervisor]:
    hyp = Hypervisor(URI, events=False)
    hyp.connect()
    yield hyp
    hyp.close()


def test_lists_the_domains_of_the_xml_file(hv: Hypervisor) -> None:
    assert hv.list_domains() == (
        DomainInfo("alpha", UUID_ALPHA, DomainState.RUNNING, 2, 2097152, False, True),
        DomainInfo("beta", UUID_BETA, DomainState.RUNNING, 1, 1048576, False, True),
    )


def test_each_test_gets_a_fresh_host(hv: Hypervisor) -> None:
    # Another test destroys and undefines domains: a per-file URI must not see that.
    assert [d.name for d in hv.list_domains()] == ["alpha", "beta"]
    hv.destroy("beta")


def test_define_start_stop_undefine(hv: Hypervisor) -> None:
    info = hv.define(GAMMA_XML)
    assert (info.name, info.state, info.vcpus, info.memory_kib, info.persistent) == (
        "gamma",
        DomainState.SHUTOFF,
        4,
        4194304,
        True,
    )
    hv.start("gamma")
    assert hv.domain_info("gamma").state is DomainState.RUNNING
    hv.reboot("gamma")
    assert hv.domain_info("gamma").state is DomainState.RUNNING
    hv.shutdown("gamma")
    assert hv.domain_info("gamma").state is DomainState.SHUTOFF
    hv.start("gamma")
    hv.destroy("gamma")
    assert hv.domain_info("gamma").state is DomainState.SHUTOFF
    hv.undefine("gamma")
    assert "gamma" not in [d.name for d in hv.list_domains()]


def test_inactive_xml_is_the_definition(hv: Hypervisor) -> None:
    hv.define(GAMMA_XML)
    xml = hv.inactive_xml("gamma")
    assert "<name>gamma</name>" in xml
    assert "0d6a7b56-4c3e-4f3a-9a1e-3c1f9d7a1b22" in xml


def test_invalid_definition_is_rejected_in_plain_words(hv: Hypervisor) -> None:
    with pytest.raises(VmError) as caught:
        hv.define("<domain type='test'><name>x</name><bogus/></domain>")
    assert str(caught.value).startswith("libvirt rejected the VM definition")


def test_starting_a_running_vm_says_so(hv: Hypervisor) -> None:
    with pytest.raises(InvalidStateError) as caught:
        hv.start("alpha")
    assert str(caught.value) == "The VM “alpha” is already running."


def test_stopping_a_stopped_vm_says_so(hv: Hypervisor) -> None:
    hv.destroy("beta")
    with pytest.raises(InvalidStateError) as caught:
        hv.destroy("beta")
    assert str(caught.value) == "The VM “beta” is not running."


def test_vanished_vm_gives_the_translated_message(hv: Hypervisor) -> None:
    # Someone else (virsh, another tool) removes the VM behind our back.
    # (A second test:///file connection would be a separate in-memory host, so use the same one.)
    hv.conn.lookupByName("beta").destroy()
    hv.conn.lookupByName("beta").undefine()
    with pytest.raises(DomainNotFoundError) as caught:
        hv.start("beta")
    assert str(caught.value) == (
        "The VM “beta” no longer exists: it was removed outside VFIO Deck. The list will refresh."
    )
    assert "Domain not found" in caught.value.detail


def test_dead_connection_is_detected_and_reported(hv: Hypervisor) -> None:
    assert hv.is_alive()
    hv.conn.close()  # the connection dies under the wrapper, as when the daemon restarts
    assert not hv.is_alive()
    with pytest.raises(ConnectionLostError) as caught:
        hv.list_domains()
    assert "connection to libvirt was lost" in str(caught.value)
    hv._conn = None  # already closed above: don't close it twice in the fixture


def test_a_link_closed_under_the_wrapper_is_reported_lost(tmp_path: Path) -> None:
    lost: list[str] = []
    hyp = Hypervisor(URI, events=False, on_lost=lost.append)
    hyp.connect()
    hyp.close()  # our own close is not a lost link
    assert lost == []
    assert hyp.link_lost is None
    hyp.connect()
    hyp._closed_by_libvirt(hyp.conn, libvirt.VIR_CONNECT_CLOSE_REASON_KEEPALIVE, None)
    assert lost == [f"The link to {URI} was lost (keepalive timeout)."]
    assert not hyp.is_alive()
    with pytest.raises(ConnectionLostError, match="keepalive timeout"):
        hyp.list_domains()
    hyp.connect()  # reconnecting clears it
    assert hyp.is_alive()
    hyp.close()


def test_remote_uris_are_told_apart() -> None:
    assert is_remote("qemu+ssh://root@host/system")
    assert is_remote("qemu://host/system")
    assert not is_remote("qemu:///system")
    assert not is_remote(URI)
    assert talks_to_a_daemon("qemu:///system")
    assert not talks_to_a_daemon(URI)


def test_an_open_that_hangs_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    closed: list[bool] = []

    class Late:
        def close(self) -> None:
            closed.append(True)

    def hang(_uri: str) -> object:
        release.wait()
        return Late()

    monkeypatch.setattr(libvirt, "open", hang)
    with pytest.raises(ConnectionFailedError, match="no answer within 0.05 s"):
        open_connection("qemu+ssh://unreachable/system", timeout=0.05)
    release.set()


def test_open_failure_names_the_uri(tmp_path: Path) -> None:
    uri = "test://" + str(tmp_path / "nope.xml")
    with pytest.raises(ConnectionFailedError) as caught:
        open_connection(uri)
    assert str(caught.value).startswith(f"Can't open the libvirt connection {uri}.")


def test_open_failure_of_a_missing_daemon_says_what_to_try() -> None:
    # No libvirtd runs here; on a machine where one does, this socket path still does not exist.
    uri = "qemu:///system?socket=/nonexistent/libvirt-sock"
    with pytest.raises(ConnectionFailedError) as caught:
        open_connection(uri)
    assert "Is the libvirt daemon running" in str(caught.value)


def test_not_connected_is_a_lost_connection() -> None:
    with pytest.raises(ConnectionLostError):
        Hypervisor(URI, events=False).list_domains()


@pytest.mark.parametrize(
    ("attempt", "delay"), [(0, 1.0), (1, 2.0), (2, 4.0), (5, 32.0), (6, 60.0), (10_000, 60.0)]
)
def test_backoff_doubles_up_to_the_cap(attempt: int, delay: float) -> None:
    assert Backoff().delay(attempt) == delay


def test_domain_state_maps_libvirt_numbers() -> None:
    assert DomainState.from_libvirt(libvirt.VIR_DOMAIN_RUNNING) is DomainState.RUNNING
    assert DomainState.from_libvirt(libvirt.VIR_DOMAIN_SHUTOFF) is DomainState.SHUTOFF
    assert DomainState.from_libvirt(libvirt.VIR_DOMAIN_PMSUSPENDED) is DomainState.PMSUSPENDED
    assert DomainState.from_libvirt(99) is DomainState.NOSTATE
