"""Compare-and-swap defines and undo on libvirt's test driver; the history file in a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.plan.assign import propose_assign
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.domainxml import DomainXml
from vfiodeck.core.vm.history import DefinitionChangedError, History, apply_define, undo

HOST_XML = Path(__file__).resolve().parents[2] / "gui" / "vms" / "host-vms.xml"
HOST = "demo-host"


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "state" / "definitions.json")


def _with_vcpus(xml: str, count: int) -> str:
    doc = DomainXml.parse(xml)
    doc.set_vcpus(count)
    return str(doc.to_string())


def test_apply_then_undo_restores_the_definition_and_survives_a_restart(
    hv: Hypervisor, history: History
) -> None:
    before = hv.inactive_xml("gaming")
    entry = apply_define(
        hv, "gaming", before, _with_vcpus(before, 3), host=HOST, what="3 vCPUs", history=history
    )
    assert DomainXml.parse(hv.inactive_xml("gaming")).vcpus == 3
    reopened = History(history.path)  # a new process reads the same file
    assert reopened.last(hv.uri, HOST) == entry
    undo(hv, entry, history=reopened)
    assert hv.inactive_xml("gaming") == before
    assert History(history.path).entries(hv.uri, HOST) == []


def test_an_edit_made_through_libvirt_between_preview_and_apply_is_refused_with_a_diff(
    hv: Hypervisor, history: History
) -> None:
    preview = hv.inactive_xml("gaming")
    change = _with_vcpus(preview, 3)
    hv.conn.defineXML(_with_vcpus(preview, 6))  # `virsh edit` meanwhile
    edited = hv.inactive_xml("gaming")
    with pytest.raises(DefinitionChangedError, match="changed outside VFIO Deck") as caught:
        apply_define(hv, "gaming", preview, change, host=HOST, history=history)
    assert "+  <vcpu placement='static'>6</vcpu>" in caught.value.diff
    assert hv.inactive_xml("gaming") == edited  # nothing was defined
    assert history.entries(hv.uri, HOST) == []


def test_undo_refuses_when_the_vm_changed_after_the_apply(hv: Hypervisor, history: History) -> None:
    before = hv.inactive_xml("gaming")
    entry = apply_define(hv, "gaming", before, _with_vcpus(before, 3), host=HOST, history=history)
    hv.conn.defineXML(_with_vcpus(before, 5))
    with pytest.raises(DefinitionChangedError) as caught:
        undo(hv, entry, history=history)
    assert "<vcpu placement='static'>5</vcpu>" in caught.value.diff
    assert DomainXml.parse(hv.inactive_xml("gaming")).vcpus == 5
    assert history.last(hv.uri, HOST) == entry  # still there to try again


def test_entries_belong_to_one_connection_and_host(hv: Hypervisor, history: History) -> None:
    before = hv.inactive_xml("gaming")
    apply_define(hv, "gaming", before, _with_vcpus(before, 3), host=HOST, history=history)
    assert history.last(hv.uri, "another-host") is None
    assert history.last("qemu:///system", HOST) is None


def test_a_new_vm_is_defined_only_when_the_name_is_free_and_undo_removes_it(
    hv: Hypervisor, history: History
) -> None:
    xml = hv.inactive_xml("gaming").replace("<name>gaming</name>", "<name>fresh</name>")
    xml = "\n".join(line for line in xml.splitlines() if "<uuid>" not in line)
    entry = apply_define(hv, "fresh", None, xml, host=HOST, history=history)
    assert entry.before is None
    with pytest.raises(DefinitionChangedError):
        apply_define(hv, "fresh", None, xml, host=HOST, history=history)
    undo(hv, entry, history=history)
    assert "fresh" not in [d.name for d in hv.list_domains()]


def test_a_proposal_applies_through_the_same_check(
    hv: Hypervisor, history: History, listing_host: Callable[[str], HostModel]
) -> None:
    host = listing_host("x399")
    definitions = {"gaming": hv.inactive_xml("gaming")}
    proposal = propose_assign(host, definitions, "gaming", ["0000:08:00.0"], hide_hypervisor=False)
    assert proposal.change is not None
    change = proposal.change
    apply_define(hv, "gaming", change.before, change.after, host=HOST, history=history)
    assert "0000:08:00.0" in DomainXml.parse(hv.inactive_xml("gaming")).pci_hostdevs()
