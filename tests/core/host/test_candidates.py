"""The candidate rules of DESIGN.md, one at a time, on real listings and captures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from tests.hostbuilder import scan_root
from vfiodeck.core.host.candidates import device_kind, find_candidates
from vfiodeck.core.host.model import BindingMethod, Candidate, HostModel, IommuGroup, IommuInfo, PciDevice
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.text import device_name as display_name

ListingHost = Callable[[str], HostModel]
HwlocRoot = Callable[[str], HostRoot]


def candidate_for(host: HostModel, address: str) -> Candidate | None:
    return next((c for c in find_candidates(host) if address in c.functions), None)


def _candidate(host: HostModel, address: str) -> Candidate:
    found = candidate_for(host, address)
    assert found is not None, address
    return found


def _device(host: HostModel, address: str) -> PciDevice:
    dev = host.device(address)
    assert dev is not None, address
    return dev


def _iommu_off(host: HostModel) -> HostModel:
    devices = tuple(replace(d, iommu_group=None) for d in host.pci_devices)
    return replace(host, pci_devices=devices, iommu=IommuInfo(enabled=False))


def test_bridges_never_block(listing_host: ListingHost) -> None:
    host = listing_host("b450m-msi")
    sata = _candidate(host, "0000:39:00.0")
    # Group 4 also holds host bridge 00:08.0 (0600) and PCI bridge 00:08.2 (0604).
    assert _device(host, "0000:00:08.0").class_id == "0600"
    assert _device(host, "0000:00:08.2").class_id == "0604"
    assert sata.isolated
    assert sata.blockers == ()
    assert sata.verdict.endswith("1 function, group 4 holds only it and 2 bridges")


def test_a_non_bridge_in_the_group_blocks(listing_host: ListingHost) -> None:
    host = listing_host("b450m-msi")
    usb = _candidate(host, "0000:15:00.0")
    # 15:00.2 is a bridge function of the slot: bridges are never passed and never block.
    assert _device(host, "0000:15:00.2").class_id == "0604"
    assert usb.functions == ("0000:15:00.0", "0000:15:00.1")
    assert usb.blockers == ("0000:18:00.0",)
    assert not usb.isolated


def test_a_function_behind_a_dummy_function_is_a_candidate_alone(listing_host: ListingHost) -> None:
    host = listing_host("b550-gigabyte-aorus-pro-rx6950xt")
    # 0a:00.3 is the CPU's USB controller behind the dummy function 0a:00.0 (1300), in group 23 alone.
    assert _device(host, "0000:0a:00.0").class_id == "1300"
    usb = _candidate(host, "0000:0a:00.3")
    assert (usb.device, usb.functions, usb.isolated) == ("0000:0a:00.3", ("0000:0a:00.3",), True)
    assert candidate_for(host, "0000:0a:00.0") is None
    # The GPU's audio in a group of its own is a candidate of its own and the GPU's companion.
    assert _candidate(host, "0000:08:00.1").device == "0000:08:00.1"
    assert _candidate(host, "0000:08:00.0").companions == ("0000:08:00.1",)
    assert candidate_for(host, "0000:00:01.1") is None


def test_a_group_member_without_a_device_blocks(listing_host: ListingHost) -> None:
    host = listing_host("b450m-msi")
    # Without its device we cannot tell that 16:00.0 is a bridge, so it must count as a blocker.
    partial = replace(host, pci_devices=tuple(d for d in host.pci_devices if d.address != "0000:16:00.0"))
    usb = _candidate(partial, "0000:15:00.0")
    assert usb.blockers == ("0000:16:00.0", "0000:18:00.0")
    assert "16:00.0 unknown device" in usb.verdict


def test_a_function_outside_every_group_cannot_be_judged(listing_host: ListingHost) -> None:
    host = listing_host("b550m-msi")
    groups = tuple(
        IommuGroup(g.id, tuple(a for a in g.devices if a != "0000:2b:00.3")) for g in host.iommu.groups
    )
    devices = tuple(
        replace(d, iommu_group=None) if d.address == "0000:2b:00.3" else d for d in host.pci_devices
    )
    turing = _candidate(replace(host, pci_devices=devices, iommu=IommuInfo(True, groups)), "0000:2b:00.0")
    assert not turing.isolated
    assert turing.verdict.endswith("cannot be judged: 2b:00.3 is in no IOMMU group")


def test_iommu_off_nothing_is_isolated(listing_host: ListingHost) -> None:
    host = _iommu_off(listing_host("x399-asrock"))
    candidates = find_candidates(host)
    # Without groups each slot is one unit; the CPU USB/SATA/audio behind dummy functions stay
    # candidates alone (09:00.3, 0a:00.2, 0a:00.3, 44:00.3, 45:00.2): 8 + 5.
    assert len(candidates) == 13
    for cand in candidates:
        assert not cand.isolated
        assert cand.group_ids == ()
        assert cand.blockers == ()
        assert cand.verdict.endswith("cannot be judged: the IOMMU is off (no groups)")
    # Binding does not need groups: the twin I211s still go by address.
    assert _candidate(host, "0000:04:00.0").binding.method is BindingMethod.DRIVER_OVERRIDE


def test_real_capture_without_groups(hwloc_root: HwlocRoot) -> None:
    host = scan_root(hwloc_root("32em64t-2n8c+dax+nvme+mic+dimms").path)
    assert not host.iommu.enabled
    found = {c.device: c for c in find_candidates(host)}
    i350 = found["0000:02:00.0"]
    assert i350.functions == ("0000:02:00.0", "0000:02:00.3")  # the capture shows two of the four ports
    assert i350.binding.method is BindingMethod.IDS
    assert found["0000:82:00.0"].kind.value == "nic"  # ConnectX-3 (0280)
    assert "0000:83:00.0" not in found  # Xeon Phi is a co-processor (0b40)
    assert all("the IOMMU is off" in c.verdict for c in found.values())


def test_twin_ids_bind_by_address(listing_host: ListingHost) -> None:
    host = listing_host("x399-asrock")
    first, second = _candidate(host, "0000:04:00.0"), _candidate(host, "0000:06:00.0")
    assert first.binding.ids == second.binding.ids == ("8086:1539",)
    assert first.binding.method is second.binding.method is BindingMethod.DRIVER_OVERRIDE
    assert "06:00.0" in first.binding.reason
    wifi = _candidate(host, "0000:05:00.0")
    assert wifi.binding.method is BindingMethod.IDS
    assert wifi.binding.reason == "No other device uses 8086:24fb, so vfio-pci.ids can claim it at boot."


def test_shared_id_inside_the_unit_is_not_a_twin(listing_host: ListingHost) -> None:
    # The DL380p's 4-port NIC: one id, one group, one unit, so ids are safe.
    host = listing_host("hp-dl380p")
    nic = _candidate(host, "0000:03:00.0")
    assert [_device(host, a).ids for a in nic.functions] == ["14e4:1657"] * 4
    assert nic.binding.method is BindingMethod.IDS


def test_same_id_in_another_unit_of_the_slot_is_a_twin(listing_host: ListingHost) -> None:
    # ACS override split the Cezanne APU: its two USB functions (both 1022:1639) are two units now.
    host = listing_host("b550-asrock")
    first, second = _candidate(host, "0000:05:00.3"), _candidate(host, "0000:05:00.4")
    assert first.binding.method is second.binding.method is BindingMethod.DRIVER_OVERRIDE
    assert first.binding.reason.startswith("1022:1639 is also used by 05:00.4")


def test_device_kind(listing_host: ListingHost) -> None:
    host = listing_host("z690-asus")
    expected = {
        "03:00.0": "gpu",
        "03:00.1": "audio",
        "00:14.0": "usb",
        "0a:00.0": "nic",
        "09:00.0": "nic",
        "05:00.0": "storage",
        "00:0e.0": "storage",
        "00:01.0": "bridge",
        "00:1f.0": "bridge",
        "00:0a.0": "other",
    }
    assert {a: device_kind(_device(host, "0000:" + a)) for a in expected} == expected


def test_verdict_sentences_use_short_names(listing_host: ListingHost) -> None:
    host = listing_host("x399-asrock")
    assert _candidate(host, "0000:08:00.0").verdict == (
        "GeForce GTX 1080 at 08:00.0 can be passed alone: 2 functions, group 14 holds only them"
    )
    # Outside GPUs the brackets hold codenames, so the whole name stays.
    assert _candidate(host, "0000:05:00.0").verdict.startswith(
        "Dual Band Wireless-AC 3168NGW [Stone Peak] at"
    )
    z170 = listing_host("z170-asrock")
    assert _candidate(z170, "0000:01:00.0").verdict == (
        "GeForce GTX 960 at 01:00.0 can be passed alone: 2 functions, group 1 holds only them and a bridge"
    )


def test_display_name_without_pci_ids(listing_host: ListingHost) -> None:
    dev = replace(_device(listing_host("x399-asrock"), "0000:08:00.0"), device_name=None, class_name=None)
    assert display_name(dev) == "PCI device [10de:1b80]"


@pytest.mark.host
def test_live_host_candidates_do_not_crash() -> None:
    host = scan_root(Path("/"))
    for cand in find_candidates(host):
        assert cand.device in cand.functions
        if not host.iommu.enabled:
            assert not cand.isolated
            assert cand.verdict.endswith("cannot be judged: the IOMMU is off (no groups)")


def test_demo_host_threadripper_verdicts(listing_host: ListingHost) -> None:
    """The demo host's PCI side is the X399 listing: what a new user sees first."""
    host = listing_host("x399-asrock")
    # The CPU's USB controller sits behind a dummy function 0, alone in group 17: the one to give a VM.
    usb = _candidate(host, "0000:09:00.3")
    assert (usb.device, usb.functions, usb.group_ids, usb.isolated) == (
        "0000:09:00.3",
        ("0000:09:00.3",),
        (17,),
        True,
    )
    assert "can be passed alone" in usb.verdict
    sata, audio = _candidate(host, "0000:0a:00.2"), _candidate(host, "0000:0a:00.3")
    assert (sata.kind.value, sata.isolated, audio.kind.value, audio.isolated) == (
        "storage",
        True,
        "audio",
        True,
    )
    # The chipset's USB: its PCIe bridge function 01:00.2 is neither passed nor bound by id.
    chipset = _candidate(host, "0000:01:00.0")
    assert _device(host, "0000:01:00.2").ids == "1022:43b1"
    assert chipset.functions == ("0000:01:00.0", "0000:01:00.1")
    assert "1022:43b1" not in chipset.binding.ids
    assert chipset.binding.method is BindingMethod.DRIVER_OVERRIDE  # 01:00.1 is a SATA controller


def test_storage_binds_by_address_and_says_why(listing_host: ListingHost) -> None:
    nvme = _candidate(listing_host("z690-asus"), "0000:05:00.0")
    assert nvme.binding.method is BindingMethod.DRIVER_OVERRIDE
    assert "storage controller" in nvme.binding.reason


def test_a_port_split_from_its_twin_binds_by_address(listing_host: ListingHost) -> None:
    # The Atom's X553: two ports with one id, each in its own group, so two candidates.
    host = listing_host("atom-c3558")
    port = _candidate(host, "0000:05:00.0")
    assert port.binding.reason.startswith("8086:15e4 is also used by 05:00.1")


def test_candidates_are_computed_once_per_model(listing_host: ListingHost) -> None:
    host = listing_host("x399-asrock")
    assert host.candidates is host.candidates
    assert host.candidates == find_candidates(host)
