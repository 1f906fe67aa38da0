"""Build resources/demo-hosts/demo-host.tar.gz from real captures (run again to regenerate).

    .venv/bin/python tests/make_demo_host.py

The demo host is a composite of two real machines, because no single published capture holds both
IOMMU groups and a multi-node topology (see resources/demo-hosts/README.md):
- PCI devices and IOMMU groups: the X399 Threadripper listing (two GeForce GPUs, a shared chipset group);
- CPUs, NUMA nodes, caches, memory, /proc/cpuinfo and /proc/cmdline: hwloc's 2x Xeon Silver 4108 capture.
Each PCI device's numa_node follows the Threadripper's die layout: buses below 0x40 hang off die 0
(node 0), the others off die 1 (node 1).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.snapshot import write_snapshot

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from hostbuilder import build_root_from_listing  # noqa: E402

LISTING = HERE / "fixtures/listings/x399-asrock-taichi-threadripper-1900x-tree.txt"
TOPOLOGY = HERE / "fixtures/hwloc/32intel64-2p8co2t+8ve/32intel64-2p8co2t+8ve.tar.bz2"
OUT = HERE.parent / "resources/demo-hosts/demo-host.tar.gz"


def build(dest: Path) -> Path:
    root_dir = build_root_from_listing(LISTING, dest)
    topo = HostRoot.open(TOPOLOGY)
    shutil.copytree(topo.path / "sys/devices/system", root_dir / "sys/devices/system", symlinks=True)
    (root_dir / "proc").mkdir(exist_ok=True)
    for name in ("cpuinfo", "meminfo", "cmdline"):
        shutil.copy(topo.path / "proc" / name, root_dir / "proc" / name)
    for link in sorted((root_dir / "sys/bus/pci/devices").iterdir()):
        bus = int(link.name.split(":")[1], 16)
        (link.resolve() / "numa_node").write_text("0\n" if bus < 0x40 else "1\n")
    return root_dir


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root_dir = build(Path(tmp) / "demo")
        OUT.parent.mkdir(parents=True, exist_ok=True)
        summary = write_snapshot(HostRoot(root_dir, label="demo"), OUT)
    print(f"wrote {OUT.relative_to(HERE.parent)}: {summary.files} files, {summary.bytes_written} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
