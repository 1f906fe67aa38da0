"""Assigning devices to VMs, on the published B550M listing (RTX 2070 SUPER isolated, GT 710 in the
chipset group) and on libvirt's own domain definitions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.plan.assign import (
    HIDE_HYPERVISOR_WHY,
    apply_assign,
    assign_change,
    functions_and_blockers,
    plan_assign,
    plan_assign_many,
    remove_change,
    remove_device,
)
from vfiodeck.core.vm.domainxml import VFIODECK_NS, DomainXml
from vfiodeck.core.vm.preflight import HostResources, needs_from_xml, preflight

FIXTURES = Path(__file__).parents[2] / "fixtures"
RTX = "0000:2b:00.0"
RTX_FUNCTIONS = ("0000:2b:00.0", "0000:2b:00.1", "0000:2b:00.2", "0000:2b:00.3")
GT710 = "0000:04:00.0"
# IOMMU group 13 of the B550M as `ls /sys/kernel/iommu_groups/13/devices` lists it: the chipset's USB,
# SATA and switch (02:00.x), two downstream ports (03:xx.0), the GT 710 and the 2.5 GbE NIC.
GROUP_13 = (
    "0000:02:00.0", "0000:02:00.1", "0000:02:00.2", "0000:03:00.0", "0000:03:09.0",
    "0000:04:00.0", "0000:04:00.1", "0000:2a:00.0",
)  # fmt: skip
GROUP_13_PASSED = ("0000:02:00.0", "0000:02:00.1", "0000:04:00.0", "0000:04:00.1", "0000:2a:00.0")


@pytest.fixture
def host(listing_host: Callable[[str], HostModel]) -> HostModel:
    return listing_host("b550m-msi")


def _doc(name: str) -> DomainXml:
    return DomainXml.parse((FIXTURES / "libvirt-xml/valid" / name).read_text())


@pytest.fixture
def domains() -> dict[str, DomainXml]:
    return {
        "win11": _doc("q35-virt-manager-basic.x86_64-latest.xml"),
        "linux": _doc("hostdev-vfio.xml"),
    }


def test_isolated_gpu_adds_every_function_of_its_slot(host: HostModel, domains: dict[str, DomainXml]) -> None:
    plan = plan_assign(host, domains, "win11", RTX)
    assert plan.ok
    assert plan.functions == RTX_FUNCTIONS
    assert plan.blockers == ()
    assert plan.add == RTX_FUNCTIONS
    doc = domains["win11"]
    assert apply_assign(plan, doc) == RTX_FUNCTIONS
    assert doc.pci_hostdevs() == RTX_FUNCTIONS
    removed, added = _counts(doc.diff())
    # five lines per hostdev, and <metadata><vfiodeck:devices> with one line per function
    assert (removed, added) == (0, 4 * 5 + 4 + 4)


def test_geforce_gets_the_hide_the_hypervisor_offer(host: HostModel, domains: dict[str, DomainXml]) -> None:
    plan = plan_assign(host, domains, "win11", RTX)
    assert plan.hide_hypervisor_advised
    assert any("error 43" in w for w in plan.warnings)
    doc = domains["win11"]
    apply_assign(plan, doc, hide_hypervisor=True)
    assert doc.kvm_hidden()
    assert doc.hyperv_vendor_id() == "vfiodeck0000"
    assert not plan_assign(host, {"win11": doc}, "win11", RTX).hide_hypervisor_advised


def test_gpu_in_the_chipset_group_is_refused_with_its_blockers_named(
    host: HostModel, domains: dict[str, DomainXml]
) -> None:
    plan = plan_assign(host, domains, "win11", GT710)
    assert not plan.ok
    assert plan.blocked
    assert plan.functions == ("0000:04:00.0", "0000:04:00.1")
    # 02:00.2, 03:00.0 and 03:09.0 are PCI bridges: they never block
    assert plan.blockers == ("0000:02:00.0", "0000:02:00.1", "0000:2a:00.0")
    assert plan.refused is not None
    assert "500 Series Chipset USB 3.1 XHCI Controller (02:00.0)" in plan.refused
    assert plan.add == ()
    assert apply_assign(plan, domains["win11"]) == ()
    assert domains["win11"].to_string() == domains["win11"].original


def test_blockers_are_taken_when_the_user_says_so(host: HostModel, domains: dict[str, DomainXml]) -> None:
    plan = plan_assign(host, domains, "win11", GT710, take_blockers=True)
    assert plan.ok
    assert set(plan.add) == {"0000:04:00.0", "0000:04:00.1", *plan.blockers}
    assert not any(host.device(a).is_bridge for a in plan.add)  # type: ignore[union-attr]
    assert any("also takes" in w for w in plan.warnings)


def test_a_device_another_vm_has_is_flagged(host: HostModel, domains: dict[str, DomainXml]) -> None:
    domains["linux"].add_pci_hostdev("0000:2b:00.1")
    plan = plan_assign(host, domains, "win11", RTX)
    assert plan.ok
    flagged = "VM “linux” already has TU104 HD Audio Controller (2b:00.1): only one of the two"
    assert f"{flagged} VMs can run at a time." in plan.warnings


def test_functions_already_in_the_vm_are_not_added_twice(
    host: HostModel, domains: dict[str, DomainXml]
) -> None:
    doc = domains["win11"]
    doc.add_pci_hostdev("0000:2b:00.0")
    plan = plan_assign(host, domains, "win11", "0000:2b:00.2")
    assert plan.add == ("0000:2b:00.1", "0000:2b:00.2", "0000:2b:00.3")


def test_remove_takes_the_whole_slot_back(host: HostModel, domains: dict[str, DomainXml]) -> None:
    doc = domains["win11"]
    apply_assign(plan_assign(host, domains, "win11", RTX), doc)
    assert remove_device(host, doc, "0000:2b:00.3") == RTX_FUNCTIONS
    assert doc.to_string() == doc.original


def test_unknown_vm_or_device_is_refused(host: HostModel, domains: dict[str, DomainXml]) -> None:
    assert plan_assign(host, domains, "nope", RTX).refused == "There is no VM called “nope”."
    assert (
        plan_assign(host, domains, "win11", "0000:99:00.0").refused
        == "The host has no PCI device 0000:99:00.0."
    )


def test_assigning_records_the_ids_the_preflight_compares(
    host: HostModel, domains: dict[str, DomainXml]
) -> None:
    doc = domains["win11"]
    apply_assign(plan_assign(host, domains, "win11", RTX), doc)
    assert doc.recorded_device_ids() == {
        "0000:2b:00.0": "10de:1e84",
        "0000:2b:00.1": "10de:10f8",
        "0000:2b:00.2": "10de:1ad8",
        "0000:2b:00.3": "10de:1ad9",
    }
    xml = doc.to_string()
    assert f"<vfiodeck:devices xmlns:vfiodeck='{VFIODECK_NS}'>" in xml
    assert "<vfiodeck:device address='0000:2b:00.0' ids='10de:1e84'/>" in xml
    needs = needs_from_xml(xml)
    assert {(d.address, d.vendor_id, d.device_id) for d in needs.devices} >= {
        ("0000:2b:00.0", "10de", "1e84")
    }
    # The same definition on a host where another card sits at 2b:00.0 (the GT 710's ids there).
    swapped = xml.replace("ids='10de:1e84'", "ids='10de:128b'")
    plenty = HostResources(mem_available_kib=None)
    titles = [i.title for i in preflight(host, needs_from_xml(swapped), {}, plenty)]
    assert "0000:2b:00.0 is now a different device (10de:1e84, was 10de:128b)" in titles
    assert not [t for t in (i.title for i in preflight(host, needs, {}, plenty)) if "different" in t]


def test_a_whole_dragged_group_goes_without_its_bridges(
    host: HostModel, domains: dict[str, DomainXml]
) -> None:
    plan = plan_assign_many(host, domains, "win11", GROUP_13)
    assert plan.ok
    assert plan.functions == GROUP_13_PASSED
    assert plan.blockers == ()
    assert plan.add == GROUP_13_PASSED
    assert plan.hide_hypervisor_advised  # the GT 710 is a GeForce
    assert HIDE_HYPERVISOR_WHY in plan.warnings


def test_several_cards_with_blockers_take_the_whole_group(
    host: HostModel, domains: dict[str, DomainXml]
) -> None:
    refused = plan_assign_many(host, domains, "win11", [GT710, RTX])
    assert refused.blocked
    assert refused.blockers == ("0000:02:00.0", "0000:02:00.1", "0000:2a:00.0")
    plan = plan_assign_many(host, domains, "win11", [GT710, RTX], take_blockers=True)
    assert plan.ok
    assert not plan.blocked
    assert plan.add == tuple(sorted(GROUP_13_PASSED + RTX_FUNCTIONS))
    assert functions_and_blockers(host, [GT710], take_blockers=True) == (
        GROUP_13_PASSED,
        ("0000:02:00.0", "0000:02:00.1", "0000:2a:00.0"),
    )


def test_bridges_alone_are_refused(host: HostModel, domains: dict[str, DomainXml]) -> None:
    plan = plan_assign_many(host, domains, "win11", ["0000:03:00.0", "0000:03:09.0"])
    assert plan.refused == "Bridges stay with the host: there is nothing to pass."
    assert not plan.blocked


def test_change_carries_the_diff_to_confirm_and_the_text_to_undo(
    host: HostModel, domains: dict[str, DomainXml]
) -> None:
    xml = domains["win11"].original
    plan = plan_assign(host, domains, "win11", RTX)
    change = assign_change(plan, xml, hide_hypervisor=True)
    assert change.changes
    assert change.old_xml == xml
    assert change.addresses == RTX_FUNCTIONS
    text = change.diff
    assert text.startswith("--- a/win11.xml\n+++ b/win11.xml\n")
    assert "+      <hidden state='on'/>" in text
    assert "+        <address domain='0x0000' bus='0x2b' slot='0x00' function='0x3'/>" in text
    back = remove_change(host, change.new_xml, ["0000:2b:00.1"])
    assert back.addresses == RTX_FUNCTIONS
    assert DomainXml.parse(back.new_xml).pci_hostdevs() == ()
    assert DomainXml.parse(back.new_xml).recorded_device_ids() == {}
    assert not assign_change(plan_assign(host, domains, "win11", GT710), xml).changes


def test_removal_works_for_a_card_that_left_the_host(domains: dict[str, DomainXml]) -> None:
    doc = domains["win11"]
    doc.add_pci_hostdev("0000:99:00.0")
    doc.add_pci_hostdev("0000:99:00.1")
    assert remove_device(None, doc, "0000:99:00.0") == ("0000:99:00.0", "0000:99:00.1")
    assert doc.to_string() == doc.original


def _counts(diff: str) -> tuple[int, int]:
    lines = [ln for ln in diff.splitlines() if not ln.startswith(("---", "+++"))]
    return sum(ln.startswith("-") for ln in lines), sum(ln.startswith("+") for ln in lines)
