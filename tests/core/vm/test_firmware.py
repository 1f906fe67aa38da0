"""OVMF from QEMU's firmware descriptors, on Debian 12's real ovmf package files."""

from __future__ import annotations

import shutil
from pathlib import Path

from vfiodeck.core.vm.firmware import find_firmware, pick_ovmf

DEBIAN = Path(__file__).parents[2] / "fixtures" / "qemu-firmware" / "debian12-ovmf"


def test_debian_ovmf_descriptors_in_priority_order() -> None:
    entries, problems = find_firmware(DEBIAN)
    assert problems == []
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
    entries, _ = find_firmware(DEBIAN)
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
    entries, problems = find_firmware(tmp_path)
    assert [Path(e.descriptor).name for e in entries] == ["50-edk2-x86_64-secure.json", "60-edk2-x86_64.json"]
    assert len(problems) == 1
    assert problems[0].descriptor == "etc/qemu/firmware/10-broken.json"
    assert problems[0].detail.startswith("not JSON: ")


def test_a_root_without_descriptors_has_none(tmp_path: Path) -> None:
    assert find_firmware(tmp_path) == ([], [])
