"""Hostile folder roots: the demo host's capture, unpacked to a folder, plus one malicious change.

Each case runs the real command (``vfio-deck inspect``) in a child with a timeout, so a hang is a
failure, not a stuck suite. Every case must end with exit 0 (the change recorded as a problem) or
exit 2 with one line, and must never show what lies outside the root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.text import parse_cpulist

DEMO = Path(__file__).resolve().parents[3] / "resources" / "demo-hosts" / "demo-host.tar.gz"
SECRET = "root:$y$j9T$not-a-real-hash:19000:0:99999:7:::"


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vfiodeck.core.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        errors="replace",
    )


def inspect_json(root: Path) -> dict[str, object]:
    done = run_cli("inspect", "--json", "--root", str(root))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    return report


def problem_paths(report: dict[str, object]) -> dict[str, str]:
    problems = report["problems"]
    assert isinstance(problems, list)
    return {p["path"]: p["detail"] for p in problems}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo capture as a folder (unpacked once per module)."""
    dest = tmp_path_factory.mktemp("demo") / "host"
    shutil.copytree(HostRoot.open(DEMO).path, dest, symlinks=True)
    return dest


@pytest.fixture
def host(demo_dir: Path, tmp_path: Path) -> Path:
    """A private copy to damage, with a secret beside it that no read may reach."""
    dest = tmp_path / "host"
    shutil.copytree(demo_dir, dest, symlinks=True)
    (tmp_path / "shadow").write_text(SECRET + "\n")
    return dest


def first_device(root: Path) -> tuple[str, str]:
    """The real folder of the first PCI device, and its sys/bus/pci/devices path (the one that
    problems name), both relative to the root."""
    devices = root / "sys/bus/pci/devices"
    for name in sorted(os.listdir(devices)):
        real = Path(os.path.realpath(devices / name))
        if (real / "vendor").is_file():
            return str(real.relative_to(os.path.realpath(root))), f"sys/bus/pci/devices/{name}"
    raise AssertionError("the demo host has PCI devices")


def _replace(path: Path, make: Callable[[Path], None]) -> None:
    if path.is_symlink() or path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    make(path)


@pytest.mark.parametrize(
    "rel",
    [
        "DEV/resource",
        "DEV/config",
        "DEV/vendor",
        "proc/cpuinfo",
        "sys/devices/system/cpu/online",
        "proc/interrupts",
        "proc/cmdline",
        "usr/share/hwdata/pci.ids",
    ],
)
def test_fifo_is_refused_not_waited_on(host: Path, rel: str) -> None:
    real, shown = first_device(host)
    _replace(host / rel.replace("DEV", real), lambda p: os.mkfifo(p))
    report = inspect_json(host)
    if not rel.endswith(("pci.ids", "interrupts")):  # read only when needed / missing is no problem
        assert "a FIFO" in problem_paths(report)[rel.replace("DEV", shown)]


@pytest.mark.parametrize("rel", ["proc/cpuinfo", "DEV/vendor", "sys/devices/system/cpu/online"])
def test_link_to_dev_zero_is_a_problem_not_a_read(host: Path, rel: str) -> None:
    real, shown = first_device(host)
    _replace(host / rel.replace("DEV", real), lambda p: os.symlink("/dev/zero", p))
    assert rel.replace("DEV", shown) in problem_paths(inspect_json(host))


def test_link_out_of_the_root_is_not_followed(host: Path) -> None:
    _replace(host / "proc/cmdline", lambda p: os.symlink(host.parent / "shadow", p))
    done = run_cli("inspect", "--root", str(host))
    assert done.returncode == 0
    assert "$y$" not in done.stdout + done.stderr
    assert "link out of the host root" in problem_paths(inspect_json(host))["proc/cmdline"]


def test_folder_link_out_of_the_root_is_not_listed(host: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    shutil.copytree(host / "sys/kernel/iommu_groups", outside, symlinks=True)
    shutil.rmtree(host / "sys/kernel/iommu_groups")
    os.symlink(outside, host / "sys/kernel/iommu_groups")
    report = inspect_json(host)
    assert "sys/kernel/iommu_groups" in problem_paths(report)


def test_huge_attribute_is_not_read(host: Path) -> None:
    real, shown = first_device(host)
    with open(host / real / "vendor", "r+b") as fh:
        fh.truncate(100 << 20)  # sparse: costs no disk
    assert "larger than" in problem_paths(inspect_json(host))[f"{shown}/vendor"]


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        ("sys/devices/system/cpu/online", "0-999999999\n"),
        ("sys/devices/system/node/node0/cpulist", "0-999999999\n"),
        ("sys/devices/system/cpu/cpu0/topology/core_cpus_list", "0-65535\n"),
        ("sys/devices/system/cpu/online", "0-²\n"),
        ("sys/devices/system/node/node0/cpulist", "²\n"),
        ("sys/devices/system/node/node0/distance", "10 ²1\n"),
        ("proc/meminfo", "MemTotal: ²² kB\n"),
    ],
)
def test_absurd_numbers_are_garbage(host: Path, rel: str, text: str) -> None:
    (host / rel).write_text(text)
    report = inspect_json(host)
    if rel != "proc/meminfo":
        assert rel in problem_paths(report)


def test_unicode_digit_folder_names_are_ignored(host: Path) -> None:
    groups = host / "sys/kernel/iommu_groups"
    (groups / "²").mkdir()
    (host / "sys/devices/system/node/node²").mkdir()
    (host / "sys/devices/system/cpu/cpu٣").mkdir()
    inspect_json(host)


def test_cpulist_values_are_capped() -> None:
    assert parse_cpulist("0-999999999") is None
    assert parse_cpulist("0-3", max_cpu=3) == (0, 1, 2, 3)
    assert parse_cpulist("0-4", max_cpu=3) is None
    assert parse_cpulist("²") is None
    assert parse_cpulist("1-²") is None


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda tmp: os.mkfifo(tmp / "fifo") or tmp / "fifo", id="fifo"),
        pytest.param(lambda tmp: Path("/dev/zero"), id="dev-zero"),
        pytest.param(lambda tmp: Path("/proc"), id="proc"),
        pytest.param(lambda tmp: Path("/sys"), id="sys"),
        pytest.param(lambda tmp: Path("~nosuchuser-vfiodeck/x"), id="no-such-user"),
        pytest.param(lambda tmp: os.symlink("/proc", tmp / "p") or tmp / "p", id="link-to-proc"),
    ],
)
def test_bad_root_arguments_are_one_line(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    root = make(tmp_path)
    for command in ("inspect", "snapshot"):
        extra = ["-o", str(tmp_path / "out.tar.gz")] if command == "snapshot" else []
        done = run_cli(command, "--root", str(root), *extra, timeout=60)
        assert done.returncode == 2, (command, done.stderr)
        assert done.stdout == ""
        assert len(done.stderr.splitlines()) == 1, done.stderr
    assert not (tmp_path / "out.tar.gz").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
def test_unreadable_root_folder_is_one_line(host: Path) -> None:
    """As ``nobody``, a root folder that may not be entered: one line, exit 2."""
    os.chmod(host, 0o700)
    os.chmod(host.parent, 0o755)
    os.chmod(host.parent.parent, 0o755)
    code = (
        "import os, sys\n"
        "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
        "from vfiodeck.core.cli import main\n"
        "sys.exit(main(['inspect', '--root', sys.argv[1]]))\n"
    )
    # Import as root first (the interpreter's files may not be readable by nobody), then drop.
    # Every core module, since a user's checkout (under a 0700 home) may be closed to nobody too.
    preload = (
        "import importlib, pkgutil, vfiodeck.core\n"
        "for m in pkgutil.walk_packages(vfiodeck.core.__path__, 'vfiodeck.core.'):\n"
        "    importlib.import_module(m.name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", preload + code, str(host)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "cannot" in done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr


def test_vm_readers_refuse_fifos_and_links_out(host: Path) -> None:
    """The VM side reads the same roots (free memory, huge pages, firmware, interrupts)."""
    from vfiodeck.core.host.sysfs import Reader
    from vfiodeck.core.vm.firmware import find_firmware
    from vfiodeck.core.vm.preflight import DomainNeeds, read_resources
    from vfiodeck.core.vm.stats import sample_interrupts

    _replace(host / "proc/meminfo", lambda p: os.mkfifo(p))
    _replace(host / "proc/interrupts", lambda p: os.symlink("/dev/zero", p))
    pages = host / "sys/kernel/mm/hugepages/hugepages-2048kB"
    pages.mkdir(parents=True, exist_ok=True)
    _replace(pages / "free_hugepages", lambda p: p.write_text("²\n"))
    firmware = host / "usr/share/qemu/firmware"
    firmware.mkdir(parents=True)
    os.mkfifo(firmware / "50-fifo.json")
    os.symlink(host.parent / "shadow", firmware / "60-shadow.json")
    root = HostRoot(host)
    resources = read_resources(DomainNeeds("vm"), root)
    assert resources.mem_available_kib is None
    assert resources.free_hugepages is not None
    assert 2048 not in resources.free_hugepages
    assert sample_interrupts(root).irqs == ()
    reader = Reader(root)
    assert find_firmware(reader) == []
    assert sorted(p.path for p in reader.problems) == [
        "usr/share/qemu/firmware/50-fifo.json",
        "usr/share/qemu/firmware/60-shadow.json",
    ]
    assert not any("$y$" in p.detail for p in reader.problems)


def test_empty_root_says_unknown_not_off(tmp_path: Path) -> None:
    (tmp_path / "sys").mkdir()
    (tmp_path / "proc").mkdir()
    done = run_cli("inspect", "--root", str(tmp_path))
    assert done.returncode == 0
    assert "IOMMU: unknown" in done.stdout
    assert "IOMMU: off" not in done.stdout
    assert "[ ?? ] IOMMU enabled" in done.stdout
