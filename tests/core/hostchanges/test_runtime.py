"""Binding now, on a sysfs laid out in a temporary folder: the order of the writes, the revert."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vfiodeck.core.hostchanges import runtime

ADDR = "0000:2b:00.0"


def _sysfs(tmp_path: Path, driver: str | None) -> Path:
    sysfs = tmp_path / "sys"
    device = sysfs / "devices/pci0000:00/0000:00:03.1" / ADDR
    device.mkdir(parents=True)
    (device / "driver_override").write_text("(null)\n")
    (sysfs / "bus/pci/devices").mkdir(parents=True)
    (sysfs / "bus/pci/devices" / ADDR).symlink_to(os.path.relpath(device, sysfs / "bus/pci/devices"))
    (sysfs / "bus/pci/drivers_probe").write_text("")
    for name in ("nouveau", "vfio-pci"):
        (sysfs / "bus/pci/drivers" / name).mkdir(parents=True)
        (sysfs / "bus/pci/drivers" / name / "unbind").write_text("")
        (sysfs / "bus/pci/drivers" / name / "bind").write_text("")
    if driver:
        (device / "driver").symlink_to(sysfs / "bus/pci/drivers" / driver)
    return sysfs


def test_override_is_written_before_the_unbind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sysfs = _sysfs(tmp_path, "nouveau")
    device = sysfs / "bus/pci/devices" / ADDR
    writes: list[tuple[str, str]] = []

    def write(path: Path, text: str) -> None:
        writes.append((path.name, text))
        if path.name == "drivers_probe":  # the kernel binds it to vfio-pci
            (device / "driver").unlink()
            (device / "driver").symlink_to(sysfs / "bus/pci/drivers/vfio-pci")

    monkeypatch.setattr(runtime, "_write", write)
    runtime.bind_now(sysfs, ADDR)
    assert writes == [("driver_override", "vfio-pci"), ("unbind", ADDR), ("drivers_probe", ADDR)]


def test_failure_gives_the_device_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sysfs = _sysfs(tmp_path, "nouveau")
    writes: list[tuple[str, str]] = []

    def write(path: Path, text: str) -> None:
        writes.append((f"{path.parent.name}/{path.name}", text))
        if path.name == "drivers_probe" and len(writes) == 3:
            raise OSError(19, "No such device")

    monkeypatch.setattr(runtime, "_write", write)
    with pytest.raises(OSError, match="No such device"):
        runtime.bind_now(sysfs, ADDR, timeout=0)
    assert writes[3:] == [
        (f"{ADDR}/driver_override", "\n"),  # a lone newline clears the override
        ("driver/unbind", ADDR),
        ("nouveau/bind", ADDR),
    ]


def test_processes_holding_the_card_are_named(tmp_path: Path) -> None:
    sysfs = _sysfs(tmp_path, "nouveau")
    device = sysfs / "bus/pci/devices" / ADDR
    (device / "drm/card1").mkdir(parents=True)
    proc = tmp_path / "proc"
    for pid, comm, target in (
        ("42", "Xorg", "/dev/dri/card1"),
        ("43", "bash", "/dev/pts/0"),
        ("44", "nvtop", "/dev/nvidia0"),
    ):
        (proc / pid / "fd").mkdir(parents=True)
        (proc / pid / "comm").write_text(comm + "\n")
        (proc / pid / "fd/3").symlink_to(target)
    assert runtime.holders(device, proc) == ["Xorg (42)", "nvtop (44)"]
