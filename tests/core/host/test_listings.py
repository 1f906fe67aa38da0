"""The 13 published IOMMU group listings: what each machine really shows, read back through
hostbuilder -> scan_pci/scan_iommu -> find_candidates.

Each expected value below was read off the listing file itself (tests/fixtures/listings/).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hostbuilder import LISTINGS_DIR, build_root_from_listing, parse_listing
from vfiodeck.core.host.candidates import find_candidates
from vfiodeck.core.host.model import BindingMethod, Candidate, HostModel, PciDevice

ListingHost = Callable[[str], HostModel]

IDS = BindingMethod.IDS
OVERRIDE = BindingMethod.DRIVER_OVERRIDE


@dataclass(frozen=True)
class Expect:
    kind: str
    isolated: bool
    method: BindingMethod = IDS
    blockers: tuple[str, ...] = ()
    groups: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Machine:
    prefix: str
    devices: int
    groups: int
    candidates: dict[str, Expect]
    has_cmdline: bool = False


# Where a truth changed with the revised rules (DESIGN.md, 2026-11-29), the comment says which rule:
#   [storage]  a unit with a storage function binds by address: a model id can match a boot disk;
#   [split]    a slot split over several groups gives one unit per group (ACS splits NIC ports, GPU audio);
#   [alone]    a candidate-class function behind a non-candidate first function (LPC bridge, dummy
#              function, iLO) is a candidate on its own: it used to be hidden;
#   [audio]    audio (0401/0403) is a candidate kind;
#   [bridge]   a bridge function of the slot is no longer one of the functions (nor its id bound).
MACHINES = [
    Machine(
        "atom-c3558",
        devices=24,
        groups=20,
        has_cmdline=True,
        candidates={
            "00:13.0": Expect("storage", True, OVERRIDE),  # [storage] was ids
            "00:14.0": Expect("storage", True, OVERRIDE),  # [storage] was ids
            "00:15.0": Expect("usb", True),
            "04:00.0": Expect("gpu", True, groups=(15,)),  # the BMC's ASPEED, behind its own bridge
            # [split] X553 8086:15e4: each port in its own group is its own candidate (was one, groups
            # 16+17, ids); the twin port shares the id, so by address.
            "05:00.0": Expect("nic", True, OVERRIDE, groups=(16,)),
            "05:00.1": Expect("nic", True, OVERRIDE, groups=(17,)),
            "06:00.0": Expect("nic", True, OVERRIDE, groups=(18,)),  # [split] X553 8086:15e5, as above
            "06:00.1": Expect("nic", True, OVERRIDE, groups=(19,)),
        },
    ),
    Machine(
        "b450m-msi",
        devices=33,
        groups=13,
        candidates={
            "10:00.0": Expect("gpu", True, groups=(8,)),
            # [storage][bridge] functions 15:00.0 + .1 SATA (the .2 bridge no longer): by address (was ids)
            "15:00.0": Expect("usb", False, OVERRIDE, blockers=("18:00.0",), groups=(9,)),
            "18:00.0": Expect("nic", False, blockers=("15:00.0", "15:00.1"), groups=(9,)),
            "2e:00.0": Expect("storage", True, OVERRIDE),  # [storage] was ids
            # [split] the Raven Ridge APU: the GPU alone in group 11 (was groups 11+12 with its siblings);
            # its HDMI audio leads the unit of group 12 (audio, PSP, 2 USB, HD audio) [audio].
            "38:00.0": Expect("gpu", True, groups=(11,)),
            "38:00.1": Expect("audio", True, groups=(12,)),
            "39:00.0": Expect("storage", True, OVERRIDE, groups=(4,)),  # [storage]; with 2 bridges in group 4
        },
    ),
    Machine(
        "b550-asrock",
        devices=28,
        groups=20,
        candidates={
            # [split] ACS override put the chipset's USB, SATA and bridge in groups 7, 8, 9: the USB alone
            # (was groups 7-9), the SATA its own candidate [storage].
            "01:00.0": Expect("usb", True, groups=(7,)),
            "01:00.1": Expect("storage", True, OVERRIDE, groups=(8,)),
            "03:00.0": Expect("nic", True, groups=(12,)),
            "04:00.0": Expect("nic", True, groups=(13,)),
            # [split] the Cezanne APU: every function in a group of its own (was one candidate, groups
            # 14-19); the GPU offers its HDMI audio 05:00.1 as a companion.
            "05:00.0": Expect("gpu", True, groups=(14,)),
            "05:00.1": Expect("audio", True, groups=(15,)),  # [audio]
            "05:00.3": Expect("usb", True, OVERRIDE, groups=(17,)),  # twin 1022:1639 at 05:00.4
            "05:00.4": Expect("usb", True, OVERRIDE, groups=(18,)),
            "05:00.6": Expect("audio", True, groups=(19,)),  # [audio]
        },
    ),
    Machine(
        "b550-gigabyte-aorus-pro-rx6950xt",
        devices=40,
        groups=25,
        candidates={
            "01:00.0": Expect("storage", True, OVERRIDE, groups=(14,)),  # [storage] was ids
            # [storage] the chipset's USB unit holds its SATA 02:00.1: by address (was ids)
            "02:00.0": Expect(
                "usb", False, OVERRIDE, blockers=("04:00.0", "04:00.1", "05:00.0"), groups=(15,)
            ),
            "04:00.0": Expect("gpu", False, blockers=("02:00.0", "02:00.1", "05:00.0"), groups=(15,)),
            "05:00.0": Expect("nic", False, blockers=("02:00.0", "02:00.1", "04:00.0", "04:00.1")),
            # [split] the RX 6950 XT's audio has its own group: GPU alone (was groups 18+19), audio a
            # companion and a candidate of its own [audio].
            "08:00.0": Expect("gpu", True, groups=(18,)),
            "08:00.1": Expect("audio", True, groups=(19,)),
            # [alone] CPU USB and HD audio behind the dummy function 0a:00.0, each in its own group
            "0a:00.3": Expect("usb", True, groups=(23,)),
            "0a:00.4": Expect("audio", True, groups=(24,)),
        },
    ),
    Machine(
        "b550-gigabyte-aorus-pro-vega56",
        devices=40,
        groups=25,
        candidates={
            "01:00.0": Expect("storage", True, OVERRIDE),  # [storage] was ids
            "02:00.0": Expect(
                "usb", False, OVERRIDE, blockers=("04:00.0", "04:00.1", "05:00.0")
            ),  # [storage]
            "04:00.0": Expect("gpu", False, blockers=("02:00.0", "02:00.1", "05:00.0")),
            "05:00.0": Expect("nic", False, blockers=("02:00.0", "02:00.1", "04:00.0", "04:00.1")),
            "08:00.0": Expect("gpu", True, groups=(18,)),  # [split] Vega 56 audio in group 19 (was 18+19)
            "08:00.1": Expect("audio", True, groups=(19,)),
            "0a:00.3": Expect("usb", True, groups=(23,)),  # [alone] behind the dummy function 0a:00.0
            "0a:00.4": Expect("audio", True, groups=(24,)),  # [alone][audio]
        },
    ),
    Machine(
        "b550m-msi",
        devices=38,
        groups=20,
        candidates={
            # [storage] the chipset USB unit holds its SATA 02:00.1 (was ids)
            "02:00.0": Expect(
                "usb", False, OVERRIDE, blockers=("04:00.0", "04:00.1", "2a:00.0"), groups=(13,)
            ),
            "04:00.0": Expect("gpu", False, blockers=("02:00.0", "02:00.1", "2a:00.0"), groups=(13,)),
            "2a:00.0": Expect("nic", False, blockers=("02:00.0", "02:00.1", "04:00.0", "04:00.1")),
            "2b:00.0": Expect("gpu", True, groups=(14,)),
            "2d:00.3": Expect("usb", True, groups=(18,)),  # [alone] behind the dummy function 2d:00.0
            "2d:00.4": Expect("audio", True, groups=(19,)),  # [alone][audio]
        },
    ),
    Machine(
        "c236-fujitsu",
        devices=21,
        groups=15,
        has_cmdline=True,
        candidates={
            "00:14.0": Expect("usb", True, groups=(2,)),
            "00:17.0": Expect("storage", True, OVERRIDE),  # [storage] was ids
            "01:00.0": Expect("storage", True, OVERRIDE, groups=(1,)),  # [storage] was ids
            "02:00.0": Expect("gpu", True, groups=(10,)),  # Matrox + iRMC: one slot
            "03:00.0": Expect("nic", True, OVERRIDE, groups=(11,)),  # I210 8086:1533 twice
            "04:00.0": Expect("nic", True, OVERRIDE, groups=(12,)),
            # [split] I350 dual port, one group per port (was one candidate, groups 13+14, ids); the
            # ports share 8086:1521, so by address.
            "05:00.0": Expect("nic", True, OVERRIDE, groups=(13,)),
            "05:00.1": Expect("nic", True, OVERRIDE, groups=(14,)),
        },
    ),
    Machine(
        "c246-supermicro",
        devices=27,
        groups=19,
        has_cmdline=True,
        candidates={
            "00:14.0": Expect("usb", True, groups=(4,)),
            "00:17.0": Expect("storage", True, OVERRIDE),  # [storage] was ids
            "01:00.0": Expect("nic", True, groups=(1,)),  # I350 dual port behind the x16 root port
            "02:00.0": Expect("nic", True, OVERRIDE, groups=(15,)),  # I210 8086:1533 twice
            "03:00.0": Expect("nic", True, OVERRIDE, groups=(16,)),
            "06:00.0": Expect("gpu", True, groups=(17,)),
            "07:00.0": Expect("storage", True, OVERRIDE, groups=(18,)),  # [storage] was ids
        },
    ),
    Machine(
        "hp-dl380p",
        devices=84,
        groups=61,
        candidates={
            "00:1a.0": Expect("usb", True, groups=(23,)),
            "00:1d.0": Expect("usb", True, groups=(26,)),
            # [alone] the PCH SATA behind the LPC bridge 00:1f.0, which shares its group and blocks
            "00:1f.2": Expect("storage", False, OVERRIDE, blockers=("00:1f.0",), groups=(28,)),
            # [alone] iLO's Matrox VGA and USB behind its system peripheral 01:00.0: one group, blocked
            "01:00.1": Expect("gpu", False, blockers=("01:00.0", "01:00.2", "01:00.4"), groups=(29,)),
            "01:00.4": Expect("usb", False, blockers=("01:00.0", "01:00.1", "01:00.2"), groups=(29,)),
            "02:00.0": Expect("storage", True, OVERRIDE, groups=(30,)),  # [storage] was ids
            "03:00.0": Expect("nic", True, groups=(31,)),  # 4 ports, one id, one group: ids is safe
            "04:00.0": Expect("nic", True, groups=(32,)),
        },
    ),
    Machine(
        "x399-asrock",
        devices=67,
        groups=40,
        candidates={
            # [storage][bridge] chipset USB 01:00.0 + SATA .1, without the bridge .2: by address (was ids)
            "01:00.0": Expect(
                "usb", False, OVERRIDE, blockers=("04:00.0", "05:00.0", "06:00.0"), groups=(13,)
            ),
            "04:00.0": Expect("nic", False, OVERRIDE, blockers=("01:00.0", "01:00.1", "05:00.0", "06:00.0")),
            "05:00.0": Expect("nic", False, blockers=("01:00.0", "01:00.1", "04:00.0", "06:00.0")),
            "06:00.0": Expect("nic", False, OVERRIDE, blockers=("01:00.0", "01:00.1", "04:00.0", "05:00.0")),
            "08:00.0": Expect("gpu", True, groups=(14,)),  # GTX 1080 on die 0
            # [alone] die 0's CPU USB, SATA and HD audio behind dummy functions, each in its own group;
            # the USB and SATA ids repeat on die 1 (44:00.3, 45:00.2), so by address.
            "09:00.3": Expect("usb", True, OVERRIDE, groups=(17,)),
            "0a:00.2": Expect("storage", True, OVERRIDE, groups=(19,)),
            "0a:00.3": Expect("audio", True, groups=(20,)),
            "41:00.0": Expect("storage", True, OVERRIDE, groups=(32,)),  # [storage] was ids
            "42:00.0": Expect("usb", True, groups=(33,)),
            "43:00.0": Expect("gpu", True, groups=(34,)),  # GTX 1060 on die 1
            "44:00.3": Expect("usb", True, OVERRIDE, groups=(37,)),  # [alone] die 1's CPU USB
            "45:00.2": Expect("storage", True, OVERRIDE, groups=(39,)),  # [alone] die 1's SATA
        },
    ),
    Machine(
        "z170-asrock",
        devices=20,
        groups=14,
        candidates={
            "00:02.0": Expect("gpu", True, groups=(2,)),
            "00:14.0": Expect("usb", True, groups=(3,)),
            "00:17.0": Expect("storage", True, OVERRIDE),  # [storage] was ids
            # [alone][audio] PCH HD audio behind the LPC bridge: blocked by the LPC, PMC and SMBus
            "00:1f.3": Expect("audio", False, blockers=("00:1f.0", "00:1f.2", "00:1f.4"), groups=(10,)),
            "00:1f.6": Expect("nic", True, groups=(11,)),  # [alone] the I219-V, in its own group
            "01:00.0": Expect("gpu", True, groups=(1,)),
            "03:00.0": Expect("usb", True, groups=(12,)),
            "04:00.0": Expect("nic", True, groups=(13,)),
        },
    ),
    Machine(
        "z370-asrock",
        devices=21,
        groups=15,
        has_cmdline=True,
        candidates={
            "00:02.0": Expect("gpu", True, groups=(0,)),
            "00:14.0": Expect("usb", True, groups=(3,)),
            "00:17.0": Expect("storage", True, OVERRIDE),  # [storage] was ids
            "00:1f.3": Expect(
                "audio", False, blockers=("00:1f.0", "00:1f.2", "00:1f.4"), groups=(10,)
            ),  # [alone]
            "00:1f.6": Expect("nic", True, groups=(11,)),  # [alone] the I219-V
            "01:00.0": Expect("gpu", True, groups=(2,)),
            "03:00.0": Expect("nic", True, groups=(12,)),
            "04:00.0": Expect("nic", True, groups=(13,)),
            "05:00.0": Expect("storage", True, OVERRIDE, groups=(14,)),  # [storage] was ids
        },
    ),
    Machine(
        "z690-asus",
        devices=43,
        groups=36,
        candidates={
            "00:02.0": Expect("gpu", True, groups=(3,)),
            "00:0e.0": Expect("storage", True, OVERRIDE, groups=(6,)),  # VMD RAID (0104); [storage] was ids
            "00:14.0": Expect("usb", True, groups=(7,)),
            "00:17.0": Expect("storage", True, OVERRIDE, groups=(10,)),  # [storage] was ids
            "00:1f.3": Expect(
                "audio", False, blockers=("00:1f.0", "00:1f.4", "00:1f.5"), groups=(18,)
            ),  # [alone]
            "03:00.0": Expect("gpu", True, groups=(21,)),  # [split] RX 6700 XT audio in group 22 (was 21+22)
            "03:00.1": Expect("audio", True, groups=(22,)),
            "04:00.0": Expect("gpu", True, groups=(23,)),
            "05:00.0": Expect("storage", True, OVERRIDE, groups=(24,)),  # [storage] was ids
            "06:00.0": Expect("storage", True, OVERRIDE, groups=(25,)),  # [storage] was ids
            "08:00.0": Expect("nic", True, groups=(26,)),
            "09:00.0": Expect("nic", True, groups=(27,)),
            "0a:00.0": Expect("nic", True, groups=(28,)),
            "0d:00.0": Expect("usb", True, groups=(34,)),  # Thunderbolt 4 NHI shows as 0c03
            "41:00.0": Expect("usb", True, groups=(35,)),
        },
    ),
]


def _full(short: str) -> str:
    return f"0000:{short}"


def _members(host: HostModel, group_id: int) -> tuple[str, ...]:
    group = host.group(group_id)
    assert group is not None, group_id
    return group.devices


def _device(host: HostModel, address: str) -> PciDevice:
    dev = host.device(address)
    assert dev is not None, address
    return dev


def test_every_listing_is_covered() -> None:
    files = sorted(p.name for p in LISTINGS_DIR.glob("*.txt"))
    assert len(files) == 13
    for machine in MACHINES:
        assert len([f for f in files if f.startswith(machine.prefix)]) == 1, machine.prefix
    assert len(MACHINES) == 13


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.prefix)
def test_listing_devices_and_groups(listing_host: ListingHost, machine: Machine) -> None:
    host = listing_host(machine.prefix)
    assert len(host.pci_devices) == machine.devices
    assert host.iommu.enabled
    assert len(host.iommu.groups) == machine.groups
    assert host.problems == ()
    assert (host.cmdline is not None) == machine.has_cmdline
    for dev in host.pci_devices:  # the link and the group folder agree
        assert dev.iommu_group is not None
        assert dev.address in _members(host, dev.iommu_group)


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.prefix)
def test_listing_candidates(listing_host: ListingHost, machine: Machine) -> None:
    found = {c.device: c for c in find_candidates(listing_host(machine.prefix))}
    assert sorted(found) == sorted(_full(a) for a in machine.candidates)
    for short, expect in machine.candidates.items():
        cand: Candidate = found[_full(short)]
        assert cand.kind.value == expect.kind, short
        assert cand.isolated is expect.isolated, short
        assert cand.binding.method is expect.method, short
        assert cand.blockers == tuple(_full(b) for b in expect.blockers), short
        if expect.groups is not None:
            assert cand.group_ids == expect.groups, short
        verb = "can be passed alone" if expect.isolated else "needs its blockers"
        assert verb in cand.verdict, cand.verdict


# -- the facts the fixture README points at ---------------------------------------------------


def test_b550m_turing_gpu_takes_its_usb_c_functions(listing_host: ListingHost) -> None:
    host = listing_host("b550m-msi")
    (turing,) = [c for c in find_candidates(host) if c.device == "0000:2b:00.0"]
    assert turing.functions == ("0000:2b:00.0", "0000:2b:00.1", "0000:2b:00.2", "0000:2b:00.3")
    assert turing.binding.ids == ("10de:10f8", "10de:1ad8", "10de:1ad9", "10de:1e84")
    assert _members(host, 14) == turing.functions
    assert turing.verdict.endswith("at 2b:00.0 can be passed alone: 4 functions, group 14 holds only them")


def test_b550m_gt710_sits_in_the_chipset_group(listing_host: ListingHost) -> None:
    host = listing_host("b550m-msi")
    assert _members(host, 13) == (
        "0000:02:00.0",
        "0000:02:00.1",
        "0000:02:00.2",
        "0000:03:00.0",
        "0000:03:09.0",
        "0000:04:00.0",
        "0000:04:00.1",
        "0000:2a:00.0",
    )
    (gt710,) = [c for c in find_candidates(host) if c.device == "0000:04:00.0"]
    assert gt710.verdict.endswith(
        "at 04:00.0 needs its blockers: group 13 also holds 02:00.0 USB controller, "
        "02:00.1 SATA controller, 2a:00.0 Ethernet controller"
    )


def test_b550_asrock_acs_override_splits_every_pcie_function(listing_host: ListingHost) -> None:
    host = listing_host("b550-asrock")
    shared = [g for g in host.iommu.groups if len(g.devices) > 1]
    # Only the on-die functions (FCH SMBus/LPC, data fabric) share a group: ACS override cannot split those.
    assert [g.id for g in shared] == [5, 6]
    assert {d.rsplit(".", 1)[0] for g in shared for d in g.devices} == {"0000:00:14", "0000:00:18"}


def test_b550_gigabyte_rx550_in_the_chipset_group(listing_host: ListingHost) -> None:
    host = listing_host("b550-gigabyte-aorus-pro-rx6950xt")
    assert "0000:04:00.0" in _members(host, 15)
    assert len(_members(host, 15)) == 8
    big = next(c for c in find_candidates(host) if c.device == "0000:08:00.0")
    assert _device(host, "0000:08:00.0").device_id == "73a5"
    # [split] its HDMI audio sits in group 19 of its own: offered with it, not passed as one unit
    assert big.functions == ("0000:08:00.0",)
    assert big.companions == ("0000:08:00.1",)


def test_x399_two_dies_two_gpus(listing_host: ListingHost) -> None:
    host = listing_host("x399-asrock")
    gpus = [c for c in find_candidates(host) if c.kind.value == "gpu"]
    assert [(c.device, c.binding.ids) for c in gpus] == [
        ("0000:08:00.0", ("10de:10f0", "10de:1b80")),
        ("0000:43:00.0", ("10de:10f1", "10de:1c03")),
    ]
    assert all(c.isolated for c in gpus)
    buses = {int(d.address[5:7], 16) for d in host.pci_devices}
    assert min(b for b in buses if b >= 0x40) == 0x40  # the second die's root complex


def test_z690_drivers_and_subsystems_from_lspci_nnk(listing_host: ListingHost) -> None:
    host = listing_host("z690-asus")
    drivers = {d.address[5:]: d.driver for d in host.pci_devices}
    assert drivers["03:00.0"] == "amdgpu"
    assert drivers["04:00.0"] == "vfio-pci"  # the RX 560 is already bound for passthrough
    assert drivers["04:00.1"] == "vfio-pci"
    assert drivers["0d:00.0"] == "thunderbolt"
    assert drivers["00:1f.0"] is None  # lspci showed no driver in use
    assert sum(d is not None for d in drivers.values()) == 39
    rx560 = host.device("0000:04:00.0")
    assert rx560 is not None
    assert (rx560.subsystem_vendor_id, rx560.subsystem_device_id) == ("1462", "8a91")


def test_servers_twin_nics_bind_by_address(listing_host: ListingHost) -> None:
    for prefix, twins in (
        ("c246-supermicro", ("02:00.0", "03:00.0")),
        ("c236-fujitsu", ("03:00.0", "04:00.0")),
    ):
        found = {c.device: c for c in find_candidates(listing_host(prefix))}
        first, second = (found[_full(t)] for t in twins)
        assert first.binding.ids == second.binding.ids == ("8086:1533",)
        assert first.binding.reason.startswith(f"8086:1533 is also used by {twins[1]}")
        assert second.binding.reason.startswith(f"8086:1533 is also used by {twins[0]}")


def test_c246_i350_dual_port_binds_by_ids(listing_host: ListingHost) -> None:
    cand = next(c for c in find_candidates(listing_host("c246-supermicro")) if c.device == "0000:01:00.0")
    assert cand.functions == ("0000:01:00.0", "0000:01:00.1")
    assert cand.binding.ids == ("8086:1521",)
    assert cand.verdict.endswith("2 functions, group 1 holds only them and a bridge")


def test_hp_ilo_vga_is_not_a_candidate(listing_host: ListingHost) -> None:
    # Slot 01:00's first function is iLO's system peripheral (0880): its Matrox VGA (01:00.1) is no candidate.
    host = listing_host("hp-dl380p")
    assert _device(host, "0000:01:00.1").class_id == "0300"
    assert all(c.device != "0000:01:00.0" for c in find_candidates(host))


# -- the builder ------------------------------------------------------------------------------


def test_parse_reads_every_layout() -> None:
    layouts = {
        "atom": ("inline", 24),
        "b450m": ("header + indented", 33),
        "x399": ("tree", 67),
        "hp-dl380p": ("'#' prefixed", 84),
        "z690": ("header + lspci -nnk", 43),
    }
    for prefix, (_, count) in layouts.items():
        (path,) = LISTINGS_DIR.glob(f"{prefix}*.txt")
        listing = parse_listing(path)
        assert len(listing.devices) == count, prefix
        assert listing.source.startswith("source: https://github.com/"), prefix


def test_parse_keeps_revision_class_and_cmdline() -> None:
    (path,) = LISTINGS_DIR.glob("c236*.txt")
    listing = parse_listing(path)
    assert (
        listing.cmdline
        == "BOOT_IMAGE=/boot/vmlinuz-6.5.11-8-pve root=/dev/mapper/pve-root ro quiet intel_iommu=on"
    )
    nvme = next(d for d in listing.devices if d.address == "0000:01:00.0")
    assert (nvme.class_id, nvme.vendor_id, nvme.device_id, nvme.revision, nvme.group) == (
        "0108",
        "1987",
        "5012",
        "01",
        1,
    )
    irmc = next(d for d in listing.devices if d.address == "0000:02:00.1")
    assert irmc.revision is None


def test_built_root_uses_relative_links(tmp_path: Path) -> None:
    (path,) = LISTINGS_DIR.glob("z370*.txt")
    root = build_root_from_listing(path, tmp_path / "root")
    bus_link = root / "sys/bus/pci/devices/0000:01:00.0"
    assert os.readlink(bus_link) == "../../../devices/pci0000:01/0000:01:00.0"
    group_link = root / "sys/kernel/iommu_groups/2/devices/0000:01:00.0"
    assert os.readlink(group_link) == "../../../../devices/pci0000:01/0000:01:00.0"
    assert group_link.resolve() == bus_link.resolve()
    assert (bus_link / "class").read_text() == "0x030000\n"
    assert (bus_link / "iommu_group").resolve() == (root / "sys/kernel/iommu_groups/2").resolve()
    assert (root / "proc/cmdline").read_text().startswith("BOOT_IMAGE=/boot/vmlinuz-6.8.0-49-generic")
