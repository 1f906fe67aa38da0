"""interrupt_remapping, firmware_uefi, secure_boot, vfio_modules, ovmf and hugepages."""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.core.checks.roots import CHECK_FIXTURES, checks_of, grub_default_cmdline, real_text
from vfiodeck.core.checks import Check, Status
from vfiodeck.core.checks.interrupts import count_msi
from vfiodeck.core.host.root import HostRoot

Checks = Callable[[str], dict[str, Check]]
MakeRoot = Callable[..., HostRoot]

IR_ON = "interrupts/intel-host-32cpu-vfio-msix-ir-pci-msix-posted-interrupts.txt"
IR_OLD_FORMAT = "interrupts/intel-laptop-8cpu-old-format-ir-pci-msi-hwirq-nvkm.txt"
NO_IR = "interrupts/vortex86dx3-x86-no-iommu-pci-msi-without-ir.txt"
NO_IR_QEMU = "interrupts/qemu-guest-noapic-xt-pic-and-pci-msix-without-ir.txt"
NO_MSI = "interrupts/vortex86dx3-x86-pci-nomsi-io-apic-only.txt"
SECURE_BOOT_VAR = "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"


def _efivar(value: int) -> bytes:
    # efivarfs layout (Documentation/filesystems/efivarfs.rst): a little-endian u32 of attributes,
    # then the data. SecureBoot is BOOTSERVICE_ACCESS|RUNTIME_ACCESS (0x6) and one byte.
    return struct.pack("<I", 0x6) + bytes([value])


# -- interrupt_remapping ------------------------------------------------------------------------
def test_ir_pci_msix_lines_pass(make_root: MakeRoot) -> None:
    check = checks_of(make_root({"proc/interrupts": real_text(IR_ON)}))["interrupt_remapping"]
    assert check.status is Status.PASS
    assert check.evidence == "proc/interrupts: 85 IR-PCI-MSI lines"


def test_old_ir_format_counts(make_root: MakeRoot) -> None:
    counts = count_msi(real_text(IR_OLD_FORMAT))
    assert counts.remapped == 17
    assert counts.plain == 0
    check = checks_of(make_root({"proc/interrupts": real_text(IR_OLD_FORMAT)}))["interrupt_remapping"]
    assert check.status is Status.PASS


@pytest.mark.parametrize(("rel", "plain"), [(NO_IR, 1), (NO_IR_QEMU, 34)])
def test_plain_pci_msi_fails(make_root: MakeRoot, rel: str, plain: int) -> None:
    check = checks_of(make_root({"proc/interrupts": real_text(rel)}))["interrupt_remapping"]
    assert check.status is Status.FAIL
    assert check.evidence == f"proc/interrupts: {plain} PCI-MSI lines, none IR-PCI-MSI (remapping off)"
    assert "allow_unsafe_interrupts" in check.fix


def test_plain_msi_with_unsafe_interrupts_allowed_warns(make_root: MakeRoot) -> None:
    cmdline = grub_default_cmdline("cmdline/user-vfio-garuda-acs-override-ozzyhelix.grub")
    root = make_root({"proc/interrupts": real_text(NO_IR), "proc/cmdline": cmdline})
    check = checks_of(root)["interrupt_remapping"]
    assert check.status is Status.WARN
    assert check.evidence.endswith("proc/cmdline: vfio_iommu_type1.allow_unsafe_interrupts=1")


def test_no_msi_lines_is_unknown(make_root: MakeRoot) -> None:
    check = checks_of(make_root({"proc/interrupts": real_text(NO_MSI)}))["interrupt_remapping"]
    assert check.status is Status.UNKNOWN
    assert (
        check.evidence
        == "proc/interrupts: no MSI interrupts listed; kernel log: not in a snapshot (dmesg is not a file)"
    )


def test_ecap_alone_says_supported_but_unknown(make_root: MakeRoot) -> None:
    dmesg = CHECK_FIXTURES / "dmesg/fujitsu-primergy-tx1320m3-xeon-e3-dmar-iommu-enabled-x2apic-ir-grep.txt"
    match = re.search(r"dmar0: .* ecap (\w+)", dmesg.read_text())
    assert match is not None
    root = make_root({"sys/class/iommu/dmar0/intel-iommu/ecap": match.group(1) + "\n"})
    check = checks_of(root)["interrupt_remapping"]
    assert check.status is Status.UNKNOWN
    assert check.evidence.startswith(f"sys/class/iommu/dmar0/intel-iommu/ecap: {int(match.group(1), 16):#x}")
    assert "hardware supports remapping" in check.evidence


def test_hwloc_capture_without_interrupts_is_unknown(hwloc_checks: Checks) -> None:
    check = hwloc_checks("32intel64-2p8co2t+8ve")["interrupt_remapping"]
    assert check.status is Status.UNKNOWN
    assert (
        check.evidence == "proc/interrupts: not captured; kernel log: not in a snapshot (dmesg is not a file)"
    )


# -- firmware_uefi ------------------------------------------------------------------------------
@pytest.mark.host
def test_live_host_firmware_agrees_with_its_efi_folder() -> None:
    check = checks_of(HostRoot.open("/"))["firmware_uefi"]
    if Path("/sys/firmware/efi").exists():
        assert check.status is Status.PASS
    else:
        assert check.status is Status.WARN
        assert check.evidence == "sys/firmware/efi: missing (legacy BIOS or CSM boot)"
        assert '"CSM"' in check.fix


def test_efi_folder_passes(make_root: MakeRoot) -> None:
    check = checks_of(make_root({}, dirs=("sys/firmware/efi/efivars",)))["firmware_uefi"]
    assert check.status is Status.PASS


def test_capture_with_only_dmi_firmware_is_unknown(hwloc_checks: Checks) -> None:
    # hwloc captured sys/firmware/dmi only: a missing efi folder there proves nothing.
    check = hwloc_checks("32em64t-2n8c+dax+nvme+mic+dimms")["firmware_uefi"]
    assert check.status is Status.UNKNOWN


# -- secure_boot --------------------------------------------------------------------------------
def test_secure_boot_on_warns(make_root: MakeRoot) -> None:
    check = checks_of(make_root({SECURE_BOOT_VAR: _efivar(1)}))["secure_boot"]
    assert check.status is Status.WARN
    assert check.evidence.endswith(": 1 (Secure Boot on)")
    assert "mokutil" in check.fix


def test_secure_boot_off_passes(make_root: MakeRoot) -> None:
    check = checks_of(make_root({SECURE_BOOT_VAR: _efivar(0)}))["secure_boot"]
    assert check.status is Status.PASS


def test_old_sysfs_efivars_data_file(make_root: MakeRoot) -> None:
    rel = "sys/firmware/efi/vars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c/data"
    check = checks_of(make_root({rel: bytes([1])}))["secure_boot"]
    assert check.status is Status.WARN


def test_truncated_variable_is_unknown(make_root: MakeRoot) -> None:
    check = checks_of(make_root({SECURE_BOOT_VAR: _efivar(1)[:4]}))["secure_boot"]
    assert check.status is Status.UNKNOWN
    assert "too short" in check.evidence


def test_no_efivars_is_unknown(make_root: MakeRoot) -> None:
    check = checks_of(make_root({}))["secure_boot"]
    assert check.status is Status.UNKNOWN
    assert check.evidence == "sys/firmware/efi: no SecureBoot variable"


# -- vfio_modules -------------------------------------------------------------------------------
def test_loaded_modules_pass(make_root: MakeRoot) -> None:
    root = make_root({}, dirs=("sys/module/vfio", "sys/module/vfio_pci", "sys/module/vfio_iommu_type1"))
    check = checks_of(root)["vfio_modules"]
    assert check.status is Status.PASS
    assert check.evidence == "sys/module: vfio, vfio_pci, vfio_iommu_type1"


def test_builtin_modules_pass(make_root: MakeRoot) -> None:
    # modules.builtin in its documented one-path-per-line form (no real one was captured).
    builtin = "kernel/drivers/vfio/vfio.ko\nkernel/drivers/vfio/vfio_iommu_type1.ko\n"
    builtin += "kernel/drivers/vfio/pci/vfio-pci.ko\n"
    files: dict[str, str | bytes] = {
        "proc/sys/kernel/osrelease": "6.1.0-13-amd64\n",
        "lib/modules/6.1.0-13-amd64/modules.builtin": builtin,
    }
    root = make_root(files, dirs=("sys/module/kvm",))
    check = checks_of(root)["vfio_modules"]
    assert check.status is Status.PASS
    assert "built in: lib/modules/6.1.0-13-amd64/modules.builtin" in check.evidence


def test_modules_not_loaded_warns(make_root: MakeRoot) -> None:
    check = checks_of(make_root({}, dirs=("sys/module/kvm", "sys/module/vfio")))["vfio_modules"]
    assert check.status is Status.WARN
    assert check.evidence == "sys/module: vfio_pci, vfio_iommu_type1 not loaded"
    assert "modprobe vfio-pci" in check.fix


@pytest.mark.host
def test_live_host_vfio_modules_agree_with_sys_module() -> None:
    check = checks_of(HostRoot.open("/"))["vfio_modules"]
    if Path("/sys/module/vfio_pci").exists() and Path("/sys/module/vfio_iommu_type1").exists():
        assert check.status is Status.PASS
    else:
        assert check.status in (Status.WARN, Status.FAIL)


def test_capture_without_sys_module_is_unknown(hwloc_checks: Checks) -> None:
    check = hwloc_checks("32intel64-2p8co2t+8ve")["vfio_modules"]
    assert check.status is Status.UNKNOWN


# -- ovmf ---------------------------------------------------------------------------------------
def test_debian_descriptors_pass(make_root: MakeRoot) -> None:
    files: dict[str, str | bytes] = {
        f"usr/share/qemu/firmware/{path.name}": path.read_text()
        for path in sorted((CHECK_FIXTURES / "qemu-firmware").glob("*.json"))
    }
    check = checks_of(make_root(files))["ovmf"]
    assert check.status is Status.PASS
    assert check.evidence == (
        "usr/share/qemu/firmware: 3 UEFI descriptors "
        "(40-edk2-x86_64-secure-enrolled.json: x86_64 -> /usr/share/OVMF/OVMF_CODE_4M.ms.fd)"
    )


def test_qemu_without_firmware_warns(make_root: MakeRoot) -> None:
    check = checks_of(make_root({}, dirs=("usr/share/qemu/keymaps",)))["ovmf"]
    assert check.status is Status.WARN
    assert "ovmf" in check.fix


def test_snapshot_without_usr_is_unknown(hwloc_checks: Checks) -> None:
    check = hwloc_checks("20em64t-hybrid-1p6c2t+2ca4co1t")["ovmf"]
    assert check.status is Status.UNKNOWN
    assert check.evidence == "usr/share/qemu: not captured"


# -- hugepages ----------------------------------------------------------------------------------
def test_reserved_hugepages_pass(hwloc_checks: Checks) -> None:
    check = hwloc_checks("32intel64-2p8co2t+8ve")["hugepages"]
    assert check.status is Status.PASS
    assert check.evidence == (
        "8 GiB reserved (node0: 2048 x 2048 kB; node1: 2048 x 2048 kB; "
        "proc/meminfo: HugePages_Total 4096 of 2048 kB)"
    )


def test_no_hugepages_warn(hwloc_checks: Checks) -> None:
    check = hwloc_checks("20em64t-hybrid-1p6c2t+2ca4co1t")["hugepages"]
    assert check.status is Status.WARN
    assert "HugePages_Total 0" in check.evidence


def test_no_meminfo_is_unknown(make_root: MakeRoot) -> None:
    assert checks_of(make_root({}))["hugepages"].status is Status.UNKNOWN
