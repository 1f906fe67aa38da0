"""OVMF from QEMU's firmware descriptors, on Debian 12's real ovmf package files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from vfiodeck.core.host.model import ProblemKind
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.sysfs import Reader
from vfiodeck.core.vm.firmware import find_firmware, pick_ovmf

DEBIAN = Path(__file__).parents[2] / "fixtures" / "qemu-firmware" / "debian12-ovmf"


def test_debian_ovmf_descriptors_in_priority_order() -> None:
    reader = Reader(HostRoot(DEBIAN))
    entries = find_firmware(reader)
    assert reader.problems == []
    assert [Path(e.descriptor).name for e in entries] == [
        "40-edk2-x86_64-secure-enrolled.json",
        "50-edk2-x86_64-secure.json",
        "60-edk2-x86_64.json",
    ]
    enrolled, secure, _plain = entries
    flags = [(e.secure_boot, e.enrolled_keys) for e in entries]
    assert flags == [(True, True), (True, False), (False, False)]
    assert enrolled.executable == "/usr/share/OVMF/OVMF_CODE_4M.ms.fd"
    assert enrolled.nvram_template == "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"
    assert secure.executable == "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
    assert all(e.is_uefi and e.device == "flash" for e in entries)
    assert secure.supports("x86_64", "q35")
    assert secure.supports("x86_64", "pc-q35-7.2")
    assert not secure.supports("x86_64", "pc-i440fx-7.2")
    assert not secure.supports("aarch64", "virt")


def test_pick_for_windows_11_and_without_secure_boot() -> None:
    entries = find_firmware(Reader(HostRoot(DEBIAN)))
    win11 = pick_ovmf(entries, secure_boot=True, enrolled_keys=True)
    assert win11 is not None
    assert win11.executable == "/usr/share/OVMF/OVMF_CODE_4M.ms.fd"
    off = pick_ovmf(entries, secure_boot=False)
    assert off is not None
    assert Path(off.descriptor).name == "60-edk2-x86_64.json"
    assert pick_ovmf(entries, secure_boot=True, arch="aarch64", machine="virt") is None


def test_etc_masks_and_broken_files(tmp_path: Path) -> None:
    shutil.copytree(DEBIAN, tmp_path, dirs_exist_ok=True)
    etc = tmp_path / "etc/qemu/firmware"
    etc.mkdir(parents=True)
    (etc / "40-edk2-x86_64-secure-enrolled.json").write_text("")  # masked by the admin
    (etc / "10-broken.json").write_text("{ not json")
    reader = Reader(HostRoot(tmp_path))
    entries = find_firmware(reader)
    assert [Path(e.descriptor).name for e in entries] == ["50-edk2-x86_64-secure.json", "60-edk2-x86_64.json"]
    (problem,) = reader.problems
    assert problem.path == "etc/qemu/firmware/10-broken.json"
    assert problem.detail.startswith("not JSON: ")


def test_an_unreadable_descriptor_is_a_permission_problem_not_absent(tmp_path: Path) -> None:
    shutil.copytree(DEBIAN, tmp_path, dirs_exist_ok=True)
    secret = tmp_path / "usr/share/qemu/firmware/50-edk2-x86_64-secure.json"
    secret.chmod(0)
    reader = Reader(HostRoot(tmp_path))
    try:
        entries = find_firmware(reader)
    finally:
        secret.chmod(0o644)
    if os.geteuid() == 0:
        pytest.skip("root reads files of mode 000")
    assert len(entries) == 2
    assert [(p.path, p.kind) for p in reader.problems] == [
        ("usr/share/qemu/firmware/50-edk2-x86_64-secure.json", ProblemKind.PERMISSION)
    ]


def test_a_root_without_descriptors_has_none(tmp_path: Path) -> None:
    reader = Reader(HostRoot(tmp_path))
    assert find_firmware(reader) == []
    assert reader.problems == []
