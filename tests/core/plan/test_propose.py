"""propose_assign / propose_remove: the XML change and typed notes, on the published B550M listing
(RTX 2070 SUPER isolated, GT 710 in the chipset group) and libvirt's own domain definitions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.plan.assign import NoteKind, propose_assign, propose_remove
from vfiodeck.core.vm.domainxml import DomainXml

FIXTURES = Path(__file__).parents[2] / "fixtures"
RTX = "0000:2b:00.0"
RTX_FUNCTIONS = ("0000:2b:00.0", "0000:2b:00.1", "0000:2b:00.2", "0000:2b:00.3")
GT710 = "0000:04:00.0"
GT710_BLOCKERS = ("0000:02:00.0", "0000:02:00.1", "0000:2a:00.0")


@pytest.fixture
def host(listing_host: Callable[[str], HostModel]) -> HostModel:
    return listing_host("b550m-msi")


@pytest.fixture
def definitions() -> dict[str, str]:
    valid = FIXTURES / "libvirt-xml/valid"
    return {
        "win11": (valid / "q35-virt-manager-basic.x86_64-latest.xml").read_text(),
        "linux": (valid / "hostdev-vfio.xml").read_text(),
    }


def test_a_geforce_comes_with_a_hide_the_hypervisor_note_the_user_can_untick(
    host: HostModel, definitions: dict[str, str]
) -> None:
    advised = propose_assign(host, definitions, "win11", [RTX])
    assert advised.ok
    assert advised.change is not None
    note = advised.note(NoteKind.HIDE_HYPERVISOR)
    assert note is not None
    assert note.applied is True
    assert note.devices == (RTX,)
    assert "<hidden state='on'/>" in advised.change.after
    unticked = propose_assign(host, definitions, "win11", [RTX], hide_hypervisor=False)
    note = unticked.note(NoteKind.HIDE_HYPERVISOR)
    assert note is not None
    assert note.applied is False
    assert unticked.change is not None
    assert "<hidden" not in unticked.change.after
    assert DomainXml.parse(unticked.change.after).pci_hostdevs() == RTX_FUNCTIONS
    assert unticked.change.before == definitions["win11"]


def test_blockers_are_refused_with_their_names_unless_taken_explicitly(
    host: HostModel, definitions: dict[str, str]
) -> None:
    refused = propose_assign(host, definitions, "win11", [GT710])
    assert not refused.ok
    assert refused.change is None
    needed = refused.note(NoteKind.BLOCKERS_NEEDED)
    assert needed is not None
    assert needed.devices == GT710_BLOCKERS
    assert "RTL8125 2.5GbE Controller (2a:00.0)" in needed.text
    taken = propose_assign(host, definitions, "win11", [GT710], take_blockers=True)
    assert taken.ok
    assert taken.change is not None
    note = taken.note(NoteKind.BLOCKERS_TAKEN)
    assert note is not None
    assert note.devices == GT710_BLOCKERS
    assert set(GT710_BLOCKERS) <= set(DomainXml.parse(taken.change.after).pci_hostdevs())


def test_devices_another_vm_passes_are_named_with_that_vm(
    host: HostModel, definitions: dict[str, str]
) -> None:
    other = DomainXml.parse(definitions["linux"])
    other.add_pci_hostdev("0000:2b:00.1")
    definitions["linux"] = other.to_string()
    held = propose_assign(host, definitions, "win11", [RTX]).note(NoteKind.HELD_ELSEWHERE)
    assert held is not None
    assert held.devices == ("0000:2b:00.1",)
    assert held.vms == ("linux",)


def test_nothing_to_add_says_so_and_changes_nothing(host: HostModel, definitions: dict[str, str]) -> None:
    first = propose_assign(host, definitions, "win11", [RTX], hide_hypervisor=False)
    assert first.change is not None
    definitions["win11"] = first.change.after
    again = propose_assign(host, definitions, "win11", [RTX])
    assert again.note(NoteKind.ALREADY_PASSED) is not None
    assert again.change is not None
    assert again.change.addresses == ()


def test_refusals(host: HostModel, definitions: dict[str, str]) -> None:
    assert propose_assign(host, definitions, "nope", [RTX]).refused == "There is no VM called “nope”."
    missing = propose_assign(host, definitions, "win11", ["0000:99:00.0"])
    assert missing.refused == "The host has no PCI device 0000:99:00.0."
    bridges = propose_assign(host, definitions, "win11", ["0000:03:00.0"])
    assert bridges.refused == "Bridges stay with the host: there is nothing to pass."
    definitions["broken"] = "<domain"
    assert (propose_assign(host, definitions, "broken", [RTX]).refused or "").startswith(
        "The definition of “broken” is not valid XML"
    )


def test_remove_takes_the_slot_and_its_recorded_ids_back(
    host: HostModel, definitions: dict[str, str]
) -> None:
    added = propose_assign(host, definitions, "win11", [RTX], hide_hypervisor=False)
    assert added.change is not None
    definitions["win11"] = added.change.after
    removed = propose_remove(host, definitions, "win11", ["0000:2b:00.3"])
    assert removed.change is not None
    assert removed.change.addresses == RTX_FUNCTIONS
    assert removed.change.after == added.change.before
    nothing = propose_remove(None, definitions, "linux", ["0000:2b:00.0"])
    assert nothing.note(NoteKind.NOT_PASSED) is not None
    assert nothing.change is not None
    assert not nothing.change.changes
