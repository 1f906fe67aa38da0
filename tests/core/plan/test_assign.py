"""Assigning devices to VMs, on the published B550M listing (RTX 2070 SUPER isolated, GT 710 in the
chipset group) and on libvirt's own domain definitions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.plan.assign import apply_assign, plan_assign, remove_device
from vfiodeck.core.vm.domainxml import DomainXml

FIXTURES = Path(__file__).parents[2] / "fixtures"
RTX = "0000:2b:00.0"
RTX_FUNCTIONS = ("0000:2b:00.0", "0000:2b:00.1", "0000:2b:00.2", "0000:2b:00.3")
GT710 = "0000:04:00.0"


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
    assert (removed, added) == (0, 4 * 5)


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
    assert plan.functions == ("0000:04:00.0", "0000:04:00.1")
    # 02:00.2, 03:00.0 and 03:09.0 are PCI bridges: they never block
    assert plan.blockers == ("0000:02:00.0", "0000:02:00.1", "0000:2a:00.0")
    assert plan.refused is not None
    assert "0000:02:00.0 (500 Series Chipset USB 3.1 XHCI Controller)" in plan.refused
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
    assert any(w.startswith("VM “linux” already has 0000:2b:00.1") for w in plan.warnings)


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


def _counts(diff: str) -> tuple[int, int]:
    lines = [ln for ln in diff.splitlines() if not ln.startswith(("---", "+++"))]
    return sum(ln.startswith("-") for ln in lines), sum(ln.startswith("+") for ln in lines)
