"""The synthetic-root builder the benchmarks use: sizes, groups and a topology the scanner reads."""

from __future__ import annotations

from pathlib import Path

from tests.hostbuilder import parse_listing
from tests.synthetic import DEFAULT_LISTING, build_synthetic_root, scale_listing
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.scan import scan_host


def test_scaled_listing_has_the_size_asked_and_unique_addresses() -> None:
    listing = parse_listing(DEFAULT_LISTING)
    scaled = scale_listing(listing, 250)
    addresses = [d.address for d in scaled.devices]
    assert len(addresses) == len(set(addresses)) == 250
    per_copy = len([d for d in listing.devices if d.group is not None])
    assert {a[:4] for a in addresses} == {f"{c:04x}" for c in range(-(-250 // per_copy))}
    assert sum(len(m) for m in scaled.groups.values()) == 250
    assert len(scaled.groups) > len(listing.groups)


def test_one_group_puts_every_function_together() -> None:
    scaled = scale_listing(parse_listing(DEFAULT_LISTING), 120, one_group=True)
    assert list(scaled.groups) == [0]
    assert len(scaled.groups[0]) == 120


def test_synthetic_root_scans_with_its_cpus(tmp_path: Path) -> None:
    host = scan_host(HostRoot.open(build_synthetic_root(tmp_path, 150, cpus=64)))
    assert len(host.pci_devices) == 150
    assert host.iommu.enabled
    assert (host.cpu.threads, host.cpu.cores, host.cpu.packages) == (64, 32, 2)
    assert [n.id for n in host.topology.numa_nodes] == [0, 1]
    assert len(host.topology.cache_domains) == 4  # one L3 per 8 cores
    assert host.problems == ()
