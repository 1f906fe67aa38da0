"""``vfio-deck inspect`` as a whole process, against baselines measured in the same run.

    .venv/bin/python bench/cli_speed.py [--runs N]

Rows (issue 12's table), each a median of alternating runs of fresh processes, stdout a pipe:
  (1) ``inspect --json`` on hwloc's 32em64t capture vs ``lstopo-no-graphics --of xml`` on the same
      unpacked tree (HWLOC_FSROOT). Target <= 3x.
  (2) the same ``inspect --json`` vs ``python -c pass`` (the interpreter's own start). Target <= 2x.
  (3) 1000 functions in one IOMMU group vs the same 1000 spread over their groups. Target <= 1.5x.
  (4) 5000 vs 1000 functions (copies of a real listing: many same-id devices). Target <= 5.5x.
  (5) for scale: 1000 functions with 1024 CPUs.
The package is byte-compiled first (what ``pip install`` does); nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.synthetic import build_synthetic_root  # noqa: E402

CAPTURE = (
    REPO / "tests/fixtures/hwloc/32em64t-2n8c+dax+nvme+mic+dimms/32em64t-2n8c+dax+nvme+mic+dimms.tar.bz2"
)


def compile_package() -> None:
    for part in ("core", "gui"):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / part)], check=True)


def unpack(capture: Path, dest: Path) -> Path:
    with tarfile.open(capture) as tar:
        tar.extractall(dest)  # noqa: S202 - a fixture of this repository
    (top,) = [p for p in dest.iterdir() if p.is_dir()]
    return top


def run_once(cmd: Sequence[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def medians(commands: dict[str, tuple[list[str], dict[str, str] | None]], runs: int) -> dict[str, float]:
    """Every command once per round, rounds repeated: machine drift hits all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd, env in commands.values():
        run_once(cmd, env)  # warm the page cache
    for _ in range(runs):
        for name, (cmd, env) in commands.items():
            times[name].append(run_once(cmd, env))
    return {name: statistics.median(values) for name, values in times.items()}


def line(label: str, value: float, base: float, base_label: str, target: str) -> None:
    print(
        f"  {label:<40}{value * 1e3:8.1f} ms  vs {base_label:<28}{base * 1e3:8.1f} ms  "
        f"ratio {value / base:5.2f}x  (target {target})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    opts = parser.parse_args()
    compile_package()
    vfio_deck = str(Path(sys.executable).with_name("vfio-deck"))
    lstopo = shutil.which("lstopo-no-graphics")
    scratch = Path(
        tempfile.mkdtemp(prefix="vfiodeck-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    )
    try:
        tree = unpack(CAPTURE, scratch / "capture")
        roots = {
            "d1000": build_synthetic_root(scratch / "d1000", 1000),
            "one1000": build_synthetic_root(scratch / "one1000", 1000, one_group=True),
            "d5000": build_synthetic_root(scratch / "d5000", 5000),
            "c1024": build_synthetic_root(scratch / "c1024", 1000, cpus=1024),
        }
        inspect = [vfio_deck, "inspect", "--json", "--root"]
        commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
            "pass": ([sys.executable, "-c", "pass"], None),
            "capture": ([*inspect, str(tree)], None),
        }
        if lstopo:
            env = dict(os.environ, HWLOC_FSROOT=str(tree))
            commands["lstopo"] = ([lstopo, "--of", "xml", "-"], env)
        m = medians(commands, opts.runs)
        big = medians(
            {name: ([*inspect, str(path)], None) for name, path in roots.items()}, max(3, opts.runs // 2)
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"runs: {opts.runs} (large roots: {max(3, opts.runs // 2)}), medians of whole processes")
    if lstopo:
        line(
            "(1) inspect --json, 32em64t capture",
            m["capture"],
            m["lstopo"],
            "lstopo --of xml, same tree",
            "<= 3x",
        )
    else:
        print("  (1) lstopo-no-graphics not installed (apt install hwloc)")
    line("(2) inspect --json, 32em64t capture", m["capture"], m["pass"], "python -c pass", "<= 2x")
    line(
        "(3) 1000 functions in one group", big["one1000"], big["d1000"], "1000 spread over groups", "<= 1.5x"
    )
    line("(4) 5000 functions", big["d5000"], big["d1000"], "1000 functions", "<= 5.5x")
    line("(5) 1000 functions + 1024 CPUs", big["c1024"], big["d1000"], "1000 functions", "for scale")
    return 0


if __name__ == "__main__":
    sys.exit(main())
