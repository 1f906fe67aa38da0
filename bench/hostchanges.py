"""What a host-change plan costs next to the scan the window already makes. Ratios, same run.

    .venv/bin/python bench/hostchanges.py [--repeat N]

For every GRUB file in tests/fixtures/host-config/grub (on the b550m listing's root with Debian's
initramfs-tools), median of N: (a) ``make_plan`` for --iommu --bind of the Turing GPU, (b) the same
plan when a 5000-line grub.d drop-in precedes ours, against the baseline ``scan_host`` of that root;
(c) bash sourcing that big drop-in once, as grub-mkconfig would, against the big plan (which evaluates
the files three times: the current line, our drop-in, the ids on the command line).
A plan should stay well under one scan (< 1x) so the setup dialog opens as fast as a refresh.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.core.hostchanges.conftest import CONFIG, DEBIAN, HostRootBuilder  # noqa: E402
from vfiodeck.core.host.root import HostRoot  # noqa: E402
from vfiodeck.core.host.scan import scan_host  # noqa: E402
from vfiodeck.core.hostchanges.planner import Request, make_plan  # noqa: E402

REQUEST = Request(iommu=True, bind=("0000:2b:00.0",))


def median_ms(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    repeat = parser.parse_args().repeat
    tmp = Path(tempfile.mkdtemp())
    print(f"{'grub file':58} {'scan ms':>8} {'plan':>6} {'big grub.d':>10} {'big/bash':>9}")
    for n, fixture in enumerate(sorted((CONFIG / "grub").iterdir())):
        root = HostRootBuilder(tmp / f"r{n}", "b550m")
        root.put("/etc/default/grub", fixture).put("/etc/os-release", DEBIAN)
        root.put(
            "/etc/initramfs-tools/modules", CONFIG / "initramfs/initramfs-tools/debian12-etc-modules.modules"
        )
        host_root = HostRoot.open(str(root.path))
        host = scan_host(host_root)
        scan = median_ms(lambda r=host_root: scan_host(r), repeat)
        plan = median_ms(lambda r=root, h=host: make_plan("r", r.files, h, REQUEST, live=False), repeat)
        big = "\n".join(
            f'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT p{i}=1"' for i in range(5000)
        )
        root.put("/etc/default/grub.d/50-big.cfg", big + "\n")
        plan_big = median_ms(lambda r=root, h=host: make_plan("r", r.files, h, REQUEST, live=False), repeat)
        script = f'. "{root.path}/etc/default/grub"; . "{root.path}/etc/default/grub.d/50-big.cfg"'
        bash = median_ms(
            lambda s=script: subprocess.run(["bash", "-c", s], check=True, stderr=subprocess.DEVNULL), repeat
        )
        print(
            f"{fixture.name:58} {scan:8.1f} {plan / scan:5.2f}x "
            f"{plan_big / scan:9.2f}x {plan_big / bash:8.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
