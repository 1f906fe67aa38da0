"""How fast is a full host scan? Ratios against baselines measured in the same run.

    .venv/bin/python bench/scan.py [--repeat N] [CAPTURE.tar.bz2]

(a) the floor: only open, read, list and readlink exactly the paths the scan touched (recorded in a
    first pass), with no parsing at all. Target: scan <= 2x the floor.
(b) hwloc: ``lstopo-no-graphics --of xml`` with HWLOC_FSROOT on the same unpacked tree, as a process;
    compared with ``vfio-deck inspect --json --root`` as a process, and with the in-process scan.
    Target: faster than lstopo.
The machine is shared and noisy, so every figure is a median of interleaved repetitions.
"""

from __future__ import annotations

import argparse
import builtins
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vfiodeck.core.host import pciids
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.scan import scan_host

REPO = Path(__file__).resolve().parents[1]
DEFAULT = (
    REPO / "tests/fixtures/hwloc/32em64t-2n8c+dax+nvme+mic+dimms/32em64t-2n8c+dax+nvme+mic+dimms.tar.bz2"
)


def record_touched(root: HostRoot) -> list[tuple[str, str]]:
    """Run one scan with open/listdir/readlink wrapped, and return (operation, path) in order."""
    touched: list[tuple[str, str]] = []
    real_open, real_listdir, real_readlink, real_scandir = builtins.open, os.listdir, os.readlink, os.scandir
    real_os_open = os.open

    def rec(op: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(path: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(path, str | os.PathLike):
                touched.append((op, os.fspath(path)))
            return fn(path, *args, **kwargs)

        return wrapper

    builtins.open = rec("read", real_open)
    os.listdir = rec("listdir", real_listdir)
    os.readlink = rec("readlink", real_readlink)
    os.scandir = rec("listdir", real_scandir)
    os.open = rec("read", real_os_open)
    try:
        scan_host(root)
    finally:
        builtins.open, os.listdir, os.readlink, os.scandir = (
            real_open,
            real_listdir,
            real_readlink,
            real_scandir,
        )
        os.open = real_os_open
    return touched


def floor(touched: list[tuple[str, str]]) -> None:
    """The cheapest way Python has to do the same I/O: raw os.open/os.read, no decoding, no parsing."""
    for op, path in touched:
        try:
            if op == "read":
                fd = os.open(path, os.O_RDONLY)
                try:
                    while os.read(fd, 65536):
                        pass
                finally:
                    os.close(fd)
            elif op == "listdir":
                os.listdir(path)
            else:
                os.readlink(path)
        except OSError:
            pass


def row(label: str, seconds: float, baseline: float, against: str) -> None:
    print(f"  {label:<44}{seconds * 1e3:8.2f} ms   ratio {seconds / baseline:5.2f}x {against}")


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("capture", nargs="?", default=str(DEFAULT))
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    root = HostRoot.open(args.capture)
    touched = record_touched(root)
    host = scan_host(root)
    print(f"capture: {Path(args.capture).name}")
    print(
        f"  {len(host.pci_devices)} PCI devices, {len(host.topology.cpus)} CPUs, "
        f"{len(host.topology.numa_nodes)} NUMA nodes; the scan touched {len(touched)} paths"
    )

    def cold_scan() -> None:
        pciids._CACHE.clear()  # what a fresh process pays: pci.ids is parsed again
        scan_host(root)

    warm, cold, flo = [], [], []
    for _ in range(args.repeat):  # interleaved, so drift in machine load hits all three alike
        flo.append(timed(lambda: floor(touched)))
        warm.append(timed(lambda: scan_host(root)))
        cold.append(timed(cold_scan))
    m_floor, m_warm, m_cold = (statistics.median(x) for x in (flo, warm, cold))
    print(f"  floor (os.open+read the same paths): {m_floor * 1e3:8.2f} ms")
    row("scan, pci.ids cached:", m_warm, m_floor, "of the floor (target <= 2x)")
    row("scan, pci.ids parsed again:", m_cold, m_floor, "of the floor")

    lstopo = shutil.which("lstopo-no-graphics")
    vfio_deck = Path(sys.executable).with_name("vfio-deck")
    if not lstopo:
        print("  lstopo-no-graphics not installed (apt install hwloc): skipping (b)")
        return 0
    env = dict(os.environ, HWLOC_FSROOT=str(root.path))
    lst, ins = [], []
    for _ in range(max(3, args.repeat // 3)):
        lst.append(
            timed(
                lambda: subprocess.run([lstopo, "--of", "xml", "-"], env=env, capture_output=True, check=True)
            )
        )
        ins.append(
            timed(
                lambda: subprocess.run(
                    [str(vfio_deck), "inspect", "--json", "--root", str(root.path)],
                    capture_output=True,
                    check=True,
                )
            )
        )
    m_lst, m_ins = statistics.median(lst), statistics.median(ins)
    print(f"  lstopo-no-graphics --of xml (process):      {m_lst * 1e3:8.2f} ms")
    row("vfio-deck inspect --json --root (process):", m_ins, m_lst, "of lstopo")
    row("in-process scan (pci.ids parsed again):", m_cold, m_lst, "of lstopo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
