"""The checks added for issue 10, each on real captured text (kernel logs, config files, listings)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.core.checks.roots import CHECK_FIXTURES, LISTINGS_DIR, checks_of, grub_default_cmdline, real_text
from tests.hostbuilder import build_root_from_listing
from vfiodeck.core.checks import Status
from vfiodeck.core.checks.groups import GROUP_IDS, Group, group_of
from vfiodeck.core.checks.kmodules import stale_lines
from vfiodeck.core.checks.lockdown import active_mode
from vfiodeck.core.checks.rebar import window_mib
from vfiodeck.core.checks.run import CHECK_IDS
from vfiodeck.core.checks.variant import modalias_of, parse_vfio_aliases, variant_for
from vfiodeck.core.host.iomem import parse_iomem
from vfiodeck.core.host.kmsg import message_of, parse_log
from vfiodeck.core.host.root import HostRoot

MakeRoot = Callable[..., HostRoot]

X2APIC = "dmesg/fujitsu-primergy-tx1320m3-xeon-e3-dmar-iommu-enabled-x2apic-ir-grep.txt"
XAPIC = "dmesg/hp-dl388p-gen8-console-dmar-x2apic-optout-xapic-ir-iommu-groups.txt"
AMD_VI = "dmesg/amd-4-iommu-threadripper-epyc-class-amd-vi-found-ir-enabled-grep.txt"
RYZEN = "dmesg/amd-ryzen9-3900x-full-boot-amd-vi-ir-x2apic-iommu-groups-kasan.txt"
DELL = "dmesg/dell-poweredge-t440-full-dmesg-initcall-debug-after-kexec-dmar-firmware-bug-rmrr.txt"
LENOVO = "dmesg/lenovo-t470s-kernel-log-priority-prefix-dmar-iommu-enabled-gfx-mapping-off-then-oops.txt"
DMESG_H = "dmesg/ice-sriov-vf-iavf-to-vfio-pci-relative-timestamps-dmesg-H.txt"
ARC = "dmesg/intel-arc-a380-rebar-resize-enospc-cant-assign-no-space-then-success.txt"
AKISSU = "host-config/user-vfio-akissu-mkinitcpio.conf"
ARCH_DEFAULT = "host-config/arch-upstream-v39.2-mkinitcpio.conf"
BOOSTER = "host-config/user-vfio-madhavpcm-booster.yaml"
DRACUT = "host-config/user-vfio-madhavpcm-10-vfio.conf"
RELM = "host-config/user-vfio-dashes-relm.modules"


def _log(rel: str) -> str:
    return real_text(rel)


# -- the catalogue ------------------------------------------------------------------------------
def test_every_check_has_a_group_and_there_are_at_least_20() -> None:
    assert len(CHECK_IDS) >= 20
    grouped = [cid for ids in GROUP_IDS.values() for cid in ids]
    assert sorted(grouped) == sorted(CHECK_IDS)
    assert group_of("iommu_firmware") is Group.FIRMWARE
    assert group_of("acs_path") is Group.DEVICES
    assert group_of("kvm_device") is Group.VIRTUALIZATION


# -- the kernel log -----------------------------------------------------------------------------
def test_log_prefixes_are_stripped() -> None:
    assert message_of("6,339,5140900,-;DMAR: IOMMU enabled") == "DMAR: IOMMU enabled"
    lenovo = parse_log(_log(LENOVO))
    assert "DMAR: IOMMU enabled" in lenovo
    relative = parse_log(_log(DMESG_H))
    assert any(line.startswith("VFIO - User Level meta-driver version: 0.3") for line in relative)


@pytest.mark.parametrize(
    ("rel", "line"),
    [
        (X2APIC, "DMAR-IR: Enabled IRQ remapping in x2apic mode"),
        (XAPIC, "DMAR-IR: Enabled IRQ remapping in xapic mode"),
        (AMD_VI, "AMD-Vi: Interrupt remapping enabled"),
    ],
)
def test_interrupt_remapping_from_the_kernel_log(make_root: MakeRoot, rel: str, line: str) -> None:
    check = checks_of(make_root({"dev/kmsg": _log(rel)}))["interrupt_remapping"]
    assert check.status is Status.PASS
    assert check.evidence == f"kernel log: {line}"


def test_snapshot_without_log_says_why(make_root: MakeRoot) -> None:
    check = checks_of(make_root({}))["interrupt_remapping"]
    assert check.status is Status.UNKNOWN
    assert "not in a snapshot (dmesg is not a file)" in check.evidence


# -- iommu_firmware ------------------------------------------------------------------------------
def test_acpi_table_named_in_the_log_passes(make_root: MakeRoot) -> None:
    check = checks_of(make_root({"dev/kmsg": _log(DELL)}))["iommu_firmware"]
    assert check.status is Status.PASS
    assert check.evidence.startswith("kernel log: ACPI: DMAR 0x000000006FFFD000")
    ryzen = checks_of(make_root({"dev/kmsg": _log(RYZEN)}))["iommu_firmware"]
    assert ryzen.evidence.startswith("kernel log: ACPI: IVRS 0x00000000B871D000")


def test_acpi_tables_folder(make_root: MakeRoot) -> None:
    tables = "sys/firmware/acpi/tables"
    with_ivrs = checks_of(make_root({f"{tables}/IVRS": "", f"{tables}/DSDT": ""}))["iommu_firmware"]
    assert (with_ivrs.status, with_ivrs.evidence) == (Status.PASS, f"{tables}: IVRS present")


def test_no_iommu_table_fails_with_vendor_menus(make_root: MakeRoot, tmp_path: Path) -> None:
    tables = "sys/firmware/acpi/tables"
    files = {f"{tables}/{name}": "" for name in ("APIC", "DSDT", "FACP", "MCFG")}
    files["sys/class/dmi/id/board_vendor"] = "ASUSTeK COMPUTER INC.\n"
    files["proc/cpuinfo"] = "vendor_id\t: AuthenticAMD\nflags\t\t: fpu tsc msr svm\n"
    check = checks_of(make_root(files))["iommu_firmware"]
    assert check.status is Status.FAIL
    assert check.evidence == f"{tables}: 4 tables, neither DMAR nor IVRS"
    assert 'BIOS (ASUS): Advanced > AMD CBS > NBIO Common Options > "IOMMU"' in check.fix


# -- boot_framebuffer ----------------------------------------------------------------------------
def _ryzen_apu_root(make_root: MakeRoot) -> HostRoot:
    """The Ryzen boot log with its one GPU, 0c:00.0 [1002:1636] class 0x030000, as that log lists it."""
    dev = "sys/bus/pci/devices/0000:0c:00.0"
    files = {
        "dev/kmsg": _log(RYZEN),
        f"{dev}/vendor": "0x1002\n",
        f"{dev}/device": "0x1636\n",
        f"{dev}/class": "0x030000\n",
    }
    return make_root(files)


def test_efifb_in_the_only_gpu_warns(make_root: MakeRoot) -> None:
    check = checks_of(_ryzen_apu_root(make_root))["boot_framebuffer"]
    assert check.status is Status.WARN
    assert check.evidence.startswith("kernel log: pci 0000:0c:00.0: BAR 0: assigned to efifb")
    assert (
        check.command == "echo efi-framebuffer.0 | sudo tee /sys/bus/platform/drivers/efi-framebuffer/unbind"
    )
    assert "initcall_blacklist=sysfb_init" in check.fix


def test_iomem_nesting_is_read_from_indentation() -> None:
    regions = parse_iomem(_log(ARC))
    gpu = next(r for r in regions if r.name == "0000:60:00.0")
    assert gpu.parents == ("PCI Bus 0000:5d", "PCI Bus 0000:5e", "PCI Bus 0000:5f", "PCI Bus 0000:60")
    assert gpu.start == 0xBFE0000000


# -- reset_bug on real listings ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("listing", "gpu", "family"),
    [
        ("b550-gigabyte-aorus-pro-rx6950xt-rx550.txt", "1002:699f", "Polaris 12"),
        ("b450m-msi-mortar-ravenridge-rx580.txt", "1002:67df", "Polaris 10"),
    ],
)
def test_reset_bug_gpus_warn(tmp_path: Path, listing: str, gpu: str, family: str) -> None:
    root = HostRoot.open(build_root_from_listing(LISTINGS_DIR / listing, tmp_path / "root"))
    check = checks_of(root)["reset_bug"]
    assert check.status is Status.WARN
    assert f"[{gpu}] {family}" in check.evidence
    assert check.command.startswith("echo device_specific | sudo tee /sys/bus/pci/devices/")


def test_nvidia_gpus_have_no_reset_bug(tmp_path: Path) -> None:
    listing = "b550m-msi-mortar-rtx2070super-turing-gt710.txt"
    root = HostRoot.open(build_root_from_listing(LISTINGS_DIR / listing, tmp_path / "root"))
    assert checks_of(root)["reset_bug"].status is Status.PASS


# -- rebar_fit ------------------------------------------------------------------------------------
def test_window_is_twice_the_next_power_of_two() -> None:
    assert window_mib(16 * 1024 + 256) == 65536  # RX 6700 XT: BAR 0 16 GiB + BAR 2 256 MiB
    assert window_mib(8 * 1024) == 65536  # never below twice OVMF's default
    assert window_mib(33 * 1024) == 131072


# -- unsafe_interrupts ---------------------------------------------------------------------------
def test_unsafe_interrupts_on_the_command_line_warn(make_root: MakeRoot) -> None:
    cmdline = grub_default_cmdline("cmdline/user-vfio-garuda-acs-override-ozzyhelix.grub")
    check = checks_of(make_root({"proc/cmdline": cmdline}))["unsafe_interrupts"]
    assert check.status is Status.WARN
    assert check.evidence == "proc/cmdline: vfio_iommu_type1.allow_unsafe_interrupts=1"
    assert "security cost" in check.fix


def test_loaded_module_parameter_decides(make_root: MakeRoot) -> None:
    param = "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
    assert checks_of(make_root({param: "N\n"}))["unsafe_interrupts"].status is Status.PASS
    assert checks_of(make_root({param: "Y\n"}))["unsafe_interrupts"].status is Status.WARN


# -- lockdown -------------------------------------------------------------------------------------
def test_lockdown_mode(make_root: MakeRoot) -> None:
    # The file's format (Documentation/ABI/testing/sysfs-kernel-security-lockdown): every mode,
    # the active one in brackets. No capture of it was found, so the test writes that format.
    assert active_mode("none [integrity] confidentiality") == "integrity"
    rel = "sys/kernel/security/lockdown"
    locked = checks_of(make_root({rel: "none [integrity] confidentiality\n"}))["lockdown"]
    assert locked.status is Status.WARN
    assert "vendor-reset" in locked.fix
    assert "kvmfr" in locked.fix
    assert checks_of(make_root({rel: "[none] integrity confidentiality\n"}))["lockdown"].status is Status.PASS


# -- kernel_vfio_modules --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rel", "target"),
    [
        (AKISSU, "etc/mkinitcpio.conf"),
        (BOOSTER, "etc/booster.yaml"),
        (DRACUT, "etc/dracut.conf.d/10-vfio.conf"),
        (RELM, "etc/initramfs-tools/modules"),
    ],
)
def test_vfio_virqfd_on_a_new_kernel_warns(make_root: MakeRoot, rel: str, target: str) -> None:
    text = (CHECK_FIXTURES / rel).read_text()
    root = make_root({target: text, "proc/sys/kernel/osrelease": "6.6.8-arch1-1\n"})
    check = checks_of(root)["kernel_vfio_modules"]
    assert check.status is Status.WARN
    assert check.evidence.startswith(f"{target}: ")
    assert check.evidence.endswith("(kernel 6.6.8-arch1-1)")


def test_vfio_virqfd_on_an_old_kernel_passes(make_root: MakeRoot) -> None:
    root = make_root(
        {
            "etc/mkinitcpio.conf": (CHECK_FIXTURES / AKISSU).read_text(),
            "proc/version": "Linux version 5.15.0-91-generic (x) #1\n",
        }
    )
    assert checks_of(root)["kernel_vfio_modules"].status is Status.PASS


def test_default_mkinitcpio_passes(make_root: MakeRoot) -> None:
    root = make_root({"etc/mkinitcpio.conf": (CHECK_FIXTURES / ARCH_DEFAULT).read_text()})
    assert checks_of(root)["kernel_vfio_modules"].status is Status.PASS


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize("rel", [AKISSU, BOOSTER, DRACUT, RELM])
def test_the_fix_command_removes_only_vfio_virqfd(tmp_path: Path, rel: str) -> None:
    """Run the fix's sed (without sudo) on a copy; every other module name stays."""
    copy = tmp_path / "conf"
    original = (CHECK_FIXTURES / rel).read_text()
    copy.write_text(original)
    command = "sed -i -E 's/,?[[:space:]]*vfio[-_]virqfd//' " + str(copy)
    subprocess.run(["bash", "-c", command], check=True)
    edited = copy.read_text()
    assert not stale_lines(edited)
    for word in ("vfio_pci", "vfio-pci", "vfio_iommu_type1", "vfio-iommu-type1"):
        assert (word in original) == (word in edited)
    if rel == BOOSTER:
        assert edited.strip() == "modules_force_load: vfio,vfio_pci,vfio_iommu_type1"


# -- vfio_variant_driver ---------------------------------------------------------------------------
# The example modules.alias lines and modalias of kernel commit cc6711b0bf36 ("PCI / VFIO: Add
# 'override_only' support for VFIO PCI sub system").
ALIAS_LINES = (
    "alias pci:v000015B3d00001021sv*sd*bc*sc*i* mlx5_core\n"
    "alias vfio_pci:v000015B3d00001021sv*sd*bc*sc*i* mlx5_vfio_pci\n"
    "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
)
MODALIAS = "pci:v000015B3d00001021sv000015B3sd00000001bc02sc00i00"


def test_variant_aliases_match_the_modalias() -> None:
    aliases = parse_vfio_aliases(ALIAS_LINES)
    assert [a.module for a in aliases] == ["mlx5_vfio_pci"]  # the generic vfio_pci line is not a variant
    assert variant_for(aliases, MODALIAS[4:]) == "mlx5_vfio_pci"
    assert variant_for(aliases, "v000010DEd00001B80sv*sd*bc03sc00i00") is None


def test_variant_driver_found_for_a_candidate(make_root: MakeRoot) -> None:
    dev = "sys/bus/pci/devices/0000:03:00.0"
    files = {
        "proc/sys/kernel/osrelease": "6.8.0\n",
        "lib/modules/6.8.0/modules.alias": ALIAS_LINES,
        f"{dev}/vendor": "0x15b3\n",
        f"{dev}/device": "0x1021\n",
        f"{dev}/class": "0x020000\n",
        f"{dev}/modalias": MODALIAS + "\n",
    }
    check = checks_of(make_root(files))["vfio_variant_driver"]
    assert check.status is Status.WARN
    assert check.evidence == "lib/modules/6.8.0/modules.alias: 03:00.0 -> mlx5_vfio_pci"
    assert "<driver model='vfio-pci'/>" in check.fix


def test_modalias_built_from_ids_when_missing(make_root: MakeRoot) -> None:
    from vfiodeck.core.checks.context import CheckContext
    from vfiodeck.core.host.model import PciDevice
    from vfiodeck.core.host.scan import scan_host
    from vfiodeck.core.host.sysfs import Reader

    root = make_root({})
    ctx = CheckContext(scan_host(root), Reader(root), ())
    dev = PciDevice("0000:03:00.0", "15b3", "1021", "15b3", "0001", "020000")
    assert modalias_of(ctx, dev) == MODALIAS[4:]


# -- kvm_device, libvirt_access, hugepages_per_node -------------------------------------------------
def test_kvm_in_a_snapshot(make_root: MakeRoot) -> None:
    assert checks_of(make_root({"sys/class/misc/kvm/dev": "10:232\n"}))["kvm_device"].status is Status.PASS


def test_kvm_not_in_a_snapshot(make_root: MakeRoot) -> None:
    empty = checks_of(make_root({}))["kvm_device"]
    assert (empty.status, empty.evidence) == (Status.UNKNOWN, "dev/kvm: device nodes are not in a snapshot")


def test_libvirt_is_not_judged_from_a_snapshot(make_root: MakeRoot) -> None:
    check = checks_of(make_root({}))["libvirt_access"]
    assert check.status is Status.UNKNOWN
    assert "not in a snapshot" in check.evidence


# -- hugepages_per_node on a real capture with libvirt's own domain definitions -------------------
LIBVIRT_XML = Path(__file__).resolve().parents[2] / "fixtures" / "libvirt-xml" / "valid"


def _hwloc_copy(hwloc_root: Callable[[str], HostRoot], tmp_path: Path, domains: dict[str, str]) -> HostRoot:
    """The 2-node Xeon capture (2048 free 2 MiB pages per node), with VMs defined under etc/libvirt/qemu."""
    base = tmp_path / "root"
    shutil.copytree(hwloc_root("32intel64-2p8co2t+8ve").path, base, symlinks=True)
    for name, fixture in domains.items():
        (base / "etc/libvirt/qemu").mkdir(parents=True, exist_ok=True)
        shutil.copy(LIBVIRT_XML / fixture, base / "etc/libvirt/qemu" / name)
    return HostRoot.open(base)


def test_default_size_pages_fit(hwloc_root: Callable[[str], HostRoot], tmp_path: Path) -> None:
    root = _hwloc_copy(hwloc_root, tmp_path, {"guest.xml": "hugepages-default.xml"})
    check = checks_of(root)["hugepages_per_node"]
    assert check.status is Status.PASS
    assert check.evidence == "node0: 2048 x 2048 kB free; node1: 2048 x 2048 kB free; enough for QEMUGuest1"


def test_missing_1g_pages_fail_with_the_node_command(
    hwloc_root: Callable[[str], HostRoot], tmp_path: Path
) -> None:
    # 4 guest cells of 1 GiB: cell 1 on 2 MiB pages, cells 0, 2 and 3 on 1 GiB pages the host lacks.
    root = _hwloc_copy(hwloc_root, tmp_path, {"guest.xml": "hugepages-numa-nodeset.xml"})
    check = checks_of(root)["hugepages_per_node"]
    assert check.status is Status.FAIL
    assert check.evidence.startswith("QEMUGuest1 needs 3 x 1048576 kB on nodes 0,1, 0 free")
    assert (
        check.command
        == "echo 3 | sudo tee /sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages"
    )
    assert "hugepagesz=1G hugepages=0:3" in check.fix


def test_capture_without_domains_is_unknown_but_shows_free_pages(hwloc_checks: Callable[[str], dict]) -> None:
    check = hwloc_checks("32intel64-2p8co2t+8ve")["hugepages_per_node"]
    assert check.status is Status.UNKNOWN
    assert (
        check.evidence
        == "node0: 2048 x 2048 kB free; node1: 2048 x 2048 kB free; VMs: etc/libvirt/qemu: not captured"
    )


# -- where a kernel parameter goes ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("files", "command"),
    [
        (
            {"etc/kernelstub/configuration": "cmdline/user-popos-vindex10.configuration"},
            'sudo kernelstub -a "p=1"',
        ),
        (
            {"etc/default/grub": "cmdline/fedora-cloud-bls-rhea.grub"},
            'sudo grubby --update-kernel=ALL --args="p=1"',
        ),
        ({"etc/default/grub": "cmdline/debian12-default.grub"}, "p=1"),
        ({"etc/kernel/cmdline": "cmdline/fedora-cloud-kernel-install-rhea.cmdline"}, "p=1"),
    ],
)
def test_kernel_parameter_fix_follows_the_bootloader(
    make_root: MakeRoot, files: dict[str, str], command: str
) -> None:
    from vfiodeck.core.checks.kparam import add_param
    from vfiodeck.core.host.sysfs import Reader

    root = make_root({rel: (CHECK_FIXTURES / src).read_text() for rel, src in files.items()})
    fix = add_param(Reader(root), "p=1")
    assert fix.command == command
    assert next(iter(files)) in fix.text


def test_missing_ovmf_names_this_distribution_s_package(make_root: MakeRoot) -> None:
    os_release = (CHECK_FIXTURES / "os-release/debian12.os-release").read_text()
    check = checks_of(make_root({"etc/os-release": os_release}, dirs=("usr/share/qemu",)))["ovmf"]
    assert check.status is Status.WARN
    assert check.command == "sudo apt install ovmf"
