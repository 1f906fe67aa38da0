"""Unpacked captures are removed however the process ends: normal exit, SIGTERM, SIGHUP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[3] / "resources" / "demo-hosts" / "demo-host.tar.gz"

_HOLD = """
import sys, time
from vfiodeck.core.host.root import HostRoot
print(HostRoot.open(sys.argv[1]).path, flush=True)
time.sleep(120)
"""


def _run_until_unpacked(run: Path) -> tuple[subprocess.Popen[str], Path]:
    env = {**os.environ, "XDG_RUNTIME_DIR": str(run)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(DEMO)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    unpacked = Path(proc.stdout.readline().strip())
    assert unpacked.is_dir()
    return proc, unpacked


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_signal_removes_the_unpacked_copy(tmp_path: Path, signum: int) -> None:
    proc, unpacked = _run_until_unpacked(tmp_path)
    proc.send_signal(signum)
    assert proc.wait(timeout=60) == -signum  # still dies of the signal, as callers expect
    assert not unpacked.exists()
    assert list(tmp_path.iterdir()) == []


def test_normal_exit_removes_the_unpacked_copy(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)}
    code = "import sys; from vfiodeck.core.host.root import HostRoot; HostRoot.open(sys.argv[1])"
    subprocess.run([sys.executable, "-c", code, str(DEMO)], check=True, env=env, timeout=60)
    assert list(tmp_path.iterdir()) == []
