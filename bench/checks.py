"""What do the readiness checks add to a host load? A ratio against the scan, in the same run.

    .venv/bin/python bench/checks.py [--repeat N] [ROOT ...]

The window computes the checks with the scan, on the same worker, so a user waits for both:
the checks should cost a fraction of the scan (target: at most 0.5x). Each root is unpacked once;
every figure is a median of interleaved repetitions (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from vfiodeck.core.checks.readiness import assess
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.scan import scan_host
from vfiodeck.core.host.sysfs import Reader
from vfiodeck.resources import demo_host_path

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = (
    str(demo_host_path()),
    str(
        REPO / "tests/fixtures/hwloc/32em64t-2n8c+dax+nvme+mic+dimms/32em64t-2n8c+dax+nvme+mic+dimms.tar.bz2"
    ),
    "/",
)


def measure(spec: str, repeat: int) -> tuple[float, float]:
    root = HostRoot.open(spec)
    scans: list[float] = []
    checks: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        host = scan_host(root)
        candidates = host.candidates
        middle = time.perf_counter()
        assess(host, Reader(root), candidates)
        end = time.perf_counter()
        scans.append(middle - start)
        checks.append(end - middle)
    return statistics.median(scans), statistics.median(checks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("roots", nargs="*", default=list(DEFAULTS))
    args = parser.parse_args()
    print(f"{'root':<48} {'scan ms':>9} {'checks ms':>10} {'checks/scan':>12}")
    for spec in args.roots:
        scan, checks = measure(spec, args.repeat)
        print(
            f"{Path(spec).name or spec:<48} {scan * 1000:9.1f} {checks * 1000:10.1f} {checks / scan:12.2f}x"
        )


if __name__ == "__main__":
    main()
