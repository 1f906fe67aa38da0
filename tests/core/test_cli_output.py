"""What ``vfio-deck`` prints is safe for a terminal, and output failures are exit codes, not tracebacks."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.text import safe, safe_text

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo-hosts" / "demo-host.tar.gz"
# Clear screen, set the title, write the clipboard (OSC 52), a C1 CSI, a bidi override.
NASTY = "\x1b[2J\x1b]0;owned\x07\x1b]52;c;ZWNobyBwd25lZA==\x07\x9b31m\u202e"
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\ud800-\udfff]")


def run_cli(*args: str, stdout: object = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "vfiodeck.core.cli", *args], stdout=stdout, stderr=subprocess.PIPE, timeout=120
    )


@pytest.fixture
def nasty_host(tmp_path: Path) -> Path:
    """The demo host with escape sequences in cpuinfo, pci.ids and a driver name, and a driver
    link whose name is not UTF-8."""
    root = tmp_path / "host"
    shutil.copytree(HostRoot.open(DEMO).path, root, symlinks=True)
    cpuinfo = (root / "proc/cpuinfo").read_text()
    (root / "proc/cpuinfo").write_text(cpuinfo.replace("model name\t: ", f"model name\t: {NASTY}", 1))
    cmdline = (root / "proc/cmdline").read_text().strip()
    (root / "proc/cmdline").write_text(f"{cmdline} intel_iommu=on{NASTY}\n")
    ids = root / "usr/share/hwdata/pci.ids"
    ids.parent.mkdir(parents=True)
    ids.write_text(f"10de  NVIDIA {NASTY}\n\t1b80  GP104 {NASTY}\n")
    devices = sorted((root / "sys/bus/pci/devices").iterdir())
    for index, link in enumerate(devices[:2]):
        real = Path(os.path.realpath(link))
        driver = real / "driver"
        if driver.is_symlink():
            driver.unlink()
        name = f"evil{NASTY}".encode() if index == 0 else b"bad-\xff\xfe-name"
        os.symlink(b"../../../bus/pci/drivers/" + name, os.fsencode(driver))
    return root


def test_text_report_has_no_terminal_controls(nasty_host: Path) -> None:
    done = run_cli("inspect", "--root", str(nasty_host))
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode("utf-8")  # valid UTF-8: no raw undecodable bytes either
    assert not _CONTROL.search(text.replace("\n", "").replace("\t", ""))
    assert "\\x1b[2J" in text  # shown, escaped: the reader sees what the file holds
    assert "\\xff" in text


def test_json_report_escapes_controls(nasty_host: Path) -> None:
    done = run_cli("inspect", "--json", "--root", str(nasty_host))
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in done.stdout
    assert b"\x07" not in done.stdout


def test_error_messages_are_escaped(tmp_path: Path) -> None:
    done = run_cli("inspect", "--root", str(tmp_path / f"no{NASTY}such"))
    assert done.returncode == 2
    assert b"\x1b" not in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_verbose_log_is_escaped(nasty_host: Path) -> None:
    os.unlink(nasty_host / "proc/cmdline")
    os.mkfifo(nasty_host / "proc/cmdline")
    (nasty_host / f"sys/kernel/iommu_groups/{NASTY}").mkdir()
    done = run_cli("-v", "inspect", "--root", str(nasty_host))
    assert done.returncode == 0
    assert b"\x1b" not in done.stderr


def test_closed_pipe_is_a_quiet_exit() -> None:
    """``vfio-deck inspect | head -1``: the reader went away."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = run_cli("inspect", "--root", str(DEMO), stdout=write_end)
    finally:
        os.close(write_end)
    assert done.returncode == 141
    assert done.stderr == b""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_full_disk_is_one_line(json_flag: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        done = run_cli("inspect", *json_flag, "--root", str(DEMO), stdout=full)
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        "vfio-deck: cannot write the output (No space left on device)"
    ]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain", "plain"),
        ("tab\there", "tab\\x09here"),
        ("\x1b[2J", "\\x1b[2J"),
        ("\x9b", "\\x9b"),
        ("\u202eevil", "\\u202eevil"),
        (os.fsdecode(b"\xff"), "\\xff"),
        ("Größe ²", "Größe ²"),
    ],
)
def test_safe(raw: str, shown: str) -> None:
    assert safe(raw) == shown
    assert safe_text("a\n" + raw) == "a\n" + shown.replace("\\x09", "\t")


def test_check_text_has_no_terminal_controls(nasty_host: Path) -> None:
    done = run_cli("check", "--root", str(nasty_host))
    assert done.returncode in (0, 1), done.stderr
    assert b"\x1b" not in done.stdout + done.stderr
