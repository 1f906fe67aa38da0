"""Do the candidate rules stay linear? Ratios against baselines measured in the same run.

    .venv/bin/python bench/candidates.py [--repeat N]

Hosts are built in memory from a real listing (the X399 Threadripper: 67 functions, two GPUs,
twin NICs, the same USB/SATA ids on both dies), copied into as many PCI domains as needed, so the
copies share vendor:device ids the way a big server's identical cards do.
(a) 1000 devices in ONE IOMMU group vs the same 1000 spread over their own groups. Target <= 1.5x.
(b) 5000 devices vs 1000 (spread). Linear is 5x; target <= 5.5x.
Every figure is the median of interleaved repetitions of ``find_candidates``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.hostbuilder import LISTINGS_DIR, parse_listing  # noqa: E402
from vfiodeck.core.host.candidates import find_candidates  # noqa: E402
from vfiodeck.core.host.model import (  # noqa: E402
    CpuInfo,
    HostModel,
    IommuGroup,
    IommuInfo,
    PciDevice,
    Topology,
)

LISTING = LISTINGS_DIR / "x399-asrock-taichi-threadripper-1900x-tree.txt"


def build(count: int, one_group: bool) -> HostModel:
    """``count`` functions: the listing's devices copied into PCI domains 0000, 0001, ..."""
    listing = parse_listing(LISTING)
    groups_per_copy = max(g for g in listing.groups) + 1
    devices: list[PciDevice] = []
    copy = 0
    while len(devices) < count:
        for dev in listing.devices:
            if len(devices) == count:
                break
            address = f"{copy:04x}{dev.address[4:]}"
            group = 0 if one_group else (dev.group or 0) + copy * groups_per_copy
            devices.append(
                PciDevice(
                    address=address,
                    vendor_id=dev.vendor_id,
                    device_id=dev.device_id,
                    class_code=f"{dev.class_id}00",
                    iommu_group=group,
                )
            )
        copy += 1
    members: dict[int, list[str]] = {}
    for dev in devices:
        assert dev.iommu_group is not None
        members.setdefault(dev.iommu_group, []).append(dev.address)
    groups = tuple(IommuGroup(g, tuple(addresses)) for g, addresses in sorted(members.items()))
    return HostModel("bench", CpuInfo(), Topology(), tuple(devices), IommuInfo(True, groups))


def timed(host: HostModel) -> float:
    fresh = replace(host)  # no cached candidates
    start = time.perf_counter()
    find_candidates(fresh)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    hosts = {
        "1000 spread": build(1000, one_group=False),
        "1000 one group": build(1000, one_group=True),
        "5000 spread": build(5000, one_group=False),
    }
    times: dict[str, list[float]] = {name: [] for name in hosts}
    for _ in range(args.repeat):
        for name, host in hosts.items():
            times[name].append(timed(host))
    median = {name: statistics.median(values) for name, values in times.items()}
    for name, value in median.items():
        count = len(find_candidates(hosts[name]))
        print(f"{name:>16}: {value * 1000:7.1f} ms  ({count} candidates)")
    one = median["1000 one group"] / median["1000 spread"]
    growth = median["5000 spread"] / median["1000 spread"]
    print(f"one group / spread at 1000: {one:.2f}x (target <= 1.5x)")
    print(f"5000 / 1000 spread:         {growth:.2f}x (linear is 5x; target <= 5.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
