"""Startup time of the window: process start to the first painted main window, against a bare
PySide6 window in the same run, plus the time until the host is shown.

    .venv/bin/python bench/startup.py [--runs 5] [--largest]

Each sample is a fresh process. The parent reads CLOCK_MONOTONIC (system-wide on Linux) just
before it starts the child; the child prints the same clock at its first paint event and when
the host's views are filled. Medians are reported; the target is a ratio <= 1.5. Offscreen
unless DISPLAY is set. Nothing here asserts on time: it prints figures for the issue note.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LARGEST = REPO / "tests/fixtures/hwloc/128arm-2pa2n8cluster4co/128arm-2pa2n8cluster4co.tar.bz2"

# Shared by both children: report the first paint of a QMainWindow, and the host load if any.
_PROBE = r"""
import json, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv[:1])
marks = {}

def finish():
    marks["heavy_imports"] = sorted(m for m in ("pyqtgraph", "libvirt", "numpy") if m in sys.modules)
    print(json.dumps(marks), flush=True)
    app.quit()

class Probe(QObject):
    def eventFilter(self, obj, event):
        if "paint" not in marks and event.type() == QEvent.Type.Paint and isinstance(obj, QMainWindow):
            marks["paint"] = time.monotonic()
            marks["imports_at_paint"] = sorted(m for m in ("pyqtgraph", "libvirt") if m in sys.modules)
            loaded = getattr(obj, "host_loaded", None)
            if WAIT_HOST and loaded is not None:
                loaded.connect(lambda _r: (marks.__setitem__("host", time.monotonic()), finish()))
            else:
                QTimer.singleShot(0, finish)
        return False

probe = Probe()
app.installEventFilter(probe)
"""

_BARE = (
    _PROBE.replace("WAIT_HOST", "False")
    + r"""
window = QMainWindow()
window.resize(1200, 760)
window.show()
app.exec()
"""
)

_APP = (
    _PROBE.replace("WAIT_HOST", "True")
    + r"""
from vfiodeck.core.cli import build_parser
from vfiodeck.gui.app import run_app
run_app(build_parser().parse_args(sys.argv[1:]))
"""
)


def sample(code: str, args: list[str], env: dict[str, str]) -> dict[str, float]:
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=True, timeout=300
    )
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1]
    marks = json.loads(line)
    result = {"paint": marks["paint"] - start}
    if "host" in marks:
        result["host"] = marks["host"] - start
    result["imports_at_paint"] = marks.get("imports_at_paint", [])
    return result


def demo_as_folder() -> list[str]:
    """The window's arguments for the demo host. The tarball is unpacked here once, so the figure
    is the window's and not the unpacking's (and Pythons before 3.11.4 cannot unpack with a filter)."""
    from vfiodeck.gui.main_window import demo_uri
    from vfiodeck.resources import demo_host_path

    dest = Path(tempfile.mkdtemp(prefix="vfiodeck-bench-demo-"))
    with tarfile.open(demo_host_path()) as tar:
        tar.extractall(dest)  # noqa: S202 - the project's own bundled capture
    return ["--root", str(dest), "--connect", demo_uri()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--largest", action="store_true", help="also time the 128-CPU capture")
    opts = parser.parse_args()
    env = dict(os.environ, XDG_CONFIG_HOME=str(Path("/tmp") / "vfiodeck-bench-config"))
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "core"), str(REPO / "gui")], check=True
    )
    demo_args = demo_as_folder()
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    bare, demo, largest = [], [], []
    for _ in range(opts.runs):  # interleaved, so a busy moment hurts both sides alike
        bare.append(sample(_BARE, [], env))
        demo.append(sample(_APP, demo_args, env))
        if opts.largest:
            largest.append(sample(_APP, ["--root", str(LARGEST)], env))
    bare_paint = statistics.median(s["paint"] for s in bare)
    demo_paint = statistics.median(s["paint"] for s in demo)
    demo_host = statistics.median(s["host"] for s in demo)
    print(f"platform: {env.get('QT_QPA_PLATFORM', 'xcb')}, runs: {opts.runs}")
    print(f"bare PySide6 window, first paint:   {bare_paint * 1000:7.0f} ms")
    ratio = demo_paint / bare_paint
    print(f"vfio-deck --demo, first paint:      {demo_paint * 1000:7.0f} ms  ratio {ratio:.2f}x")
    print(
        f"vfio-deck --demo, host shown:       {demo_host * 1000:7.0f} ms  ratio {demo_host / bare_paint:.2f}x"
        " of the bare window (target <= 2x)"
    )
    print(f"modules loaded at first paint: {demo[0]['imports_at_paint'] or 'no pyqtgraph, no libvirt'}")
    if largest:
        shown = statistics.median(s["host"] for s in largest)
        print(f"128 CPUs (--root capture), shown:   {shown * 1000:7.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
