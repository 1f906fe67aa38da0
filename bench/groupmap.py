"""The group map at 1000 and 5000 PCI functions: how long each GUI-thread step takes.

    .venv/bin/python bench/groupmap.py [--sizes 1000 5000]

Builds synthetic roots from a real listing (tests/synthetic.py), scans them and computes the
candidates (a worker's job in the window), then times on the GUI thread, each step including
the event processing and a repaint of the visible rows: showing the host, every keystroke of a
search typed letter by letter and erased again, and the kind filter. The issue's target is no
step over 50 ms at 5000 functions; the baseline is an empty QTreeView shown in the same run.
Offscreen unless DISPLAY is set. Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
if not os.environ.get("DISPLAY"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PySide6.QtWidgets import QApplication, QTreeView  # noqa: E402

from tests.synthetic import build_synthetic_root  # noqa: E402
from vfiodeck.core.host.candidates import find_candidates  # noqa: E402
from vfiodeck.core.host.root import HostRoot  # noqa: E402
from vfiodeck.core.host.scan import scan_host  # noqa: E402
from vfiodeck.gui.host_page import HostPage  # noqa: E402

SEARCH = "nvidia"


def step(app: QApplication, widget: object, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    app.processEvents()
    widget.repaint()  # type: ignore[attr-defined]
    return time.perf_counter() - start


def run_size(app: QApplication, devices: int, scratch: Path) -> dict[str, list[float]]:
    root = HostRoot.open(build_synthetic_root(scratch / f"d{devices}", devices))
    host = scan_host(root)
    candidates = tuple(find_candidates(host))
    page = HostPage()
    page.resize(1200, 760)
    page.show()
    app.processEvents()
    times: dict[str, list[float]] = {"show host": [], "keystroke": [], "kind filter": [], "reload": []}
    times["show host"].append(step(app, page, lambda: page.set_host(host, candidates)))
    for n in range(1, len(SEARCH) + 1):
        times["keystroke"].append(step(app, page, lambda n=n: page.search.setText(SEARCH[:n])))
    for n in range(len(SEARCH) - 1, -1, -1):
        times["keystroke"].append(step(app, page, lambda n=n: page.search.setText(SEARCH[:n])))
    for index in (1, 2, 0):
        times["kind filter"].append(step(app, page, lambda i=index: page.kind_box.setCurrentIndex(i)))
    times["reload"].append(step(app, page, lambda: page.set_host(host, candidates)))
    page.close()
    page.deleteLater()
    app.processEvents()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    opts = parser.parse_args()
    app = QApplication(sys.argv[:1])
    empty = QTreeView()
    empty.resize(1200, 760)
    empty.show()
    app.processEvents()
    floor = statistics.median(step(app, empty, lambda: None) for _ in range(20))
    print(f"platform: {app.platformName()}; empty tree view, one event pass + repaint: {floor * 1e3:.2f} ms")
    scratch = Path(tempfile.mkdtemp(prefix="vfiodeck-groupmap-"))
    try:
        for size in opts.sizes:
            times = run_size(app, size, scratch)
            worst = max(t for values in times.values() for t in values)
            print(f"{size} functions: worst GUI-thread step {worst * 1e3:7.1f} ms (target < 50 ms)")
            for name, values in times.items():
                worst_step, typical = max(values) * 1e3, statistics.median(values) * 1e3
                print(
                    f"  {name:<12} max {worst_step:8.1f} ms  median {typical:8.1f} ms  ({len(values)} steps)"
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
