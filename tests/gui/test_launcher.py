"""Without a display, ``vfio-deck`` says what to do in one line and exits 2 (Qt would abort)."""

from __future__ import annotations

import os
import subprocess
import sys

from vfiodeck.gui.launcher import display_missing


def test_no_display_is_detected() -> None:
    assert display_missing({})
    assert display_missing({"DISPLAY": ":97531"})  # no such X server socket
    assert not display_missing({"QT_QPA_PLATFORM": "offscreen"})
    assert not display_missing({"WAYLAND_DISPLAY": "wayland-0"})
    assert not display_missing({"DISPLAY": "remote-host:10.0"})


def test_window_without_display_prints_one_line_and_exits_2() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run(
        [sys.executable, "-m", "vfiodeck.gui.launcher", "--demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("vfio-deck: no display:")
    assert "QT_QPA_PLATFORM=offscreen" in result.stderr
