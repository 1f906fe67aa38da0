"""cpu_virtualization, iommu_enabled, iommu_kernel_param and acs_override on real captures and cmdlines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.core.checks.roots import (
    LISTINGS_DIR,
    checks_of,
    grub_default_cmdline,
    real_text,
)
from tests.hostbuilder import build_root_from_listing
from vfiodeck.core.checks import Check, Status
from vfiodeck.core.host.root import HostRoot

Checks = Callable[[str], dict[str, Check]]
MakeRoot = Callable[..., HostRoot]
CpuinfoOf = Callable[[str], bytes]

INTEL_CPUINFO = "32intel64-2p8co2t+8ve"  # 2x Xeon Silver 4108
AMD_CPUINFO = "64amd64-4s2n4ca2co"  # 4x Opteron 6276


def _live_flags() -> set[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


# -- cpu_virtualization -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("capture", "flag"),
    [
        ("20em64t-hybrid-1p6c2t+2ca4co1t", "vmx"),
        ("32intel64-2p8co2t+8ve", "vmx"),
        ("64amd64-4s2n4ca2co", "svm"),
        ("48amd64-4pa2n6c-sparse", "svm"),
    ],
)
def test_cpu_flags_in_hwloc_captures_pass(hwloc_checks: Checks, capture: str, flag: str) -> None:
    check = hwloc_checks(capture)["cpu_virtualization"]
    assert check.status is Status.PASS
    assert check.evidence == f"proc/cpuinfo: flags include {flag}" + (
        " (VT-x)" if flag == "vmx" else " (AMD-V)"
    )


def test_arm_capture_is_unknown_not_failed(hwloc_checks: Checks) -> None:
    check = hwloc_checks("nvidia-dgx-gb10")["cpu_virtualization"]
    assert check.status is Status.UNKNOWN
    assert check.evidence == "proc/cpuinfo: ARM CPU; vmx/svm are x86 flags"


@pytest.mark.host
def test_live_host_virtualization_agrees_with_cpuinfo() -> None:
    check = checks_of(HostRoot.open("/"))["cpu_virtualization"]
    if _live_flags() & {"vmx", "svm"}:
        assert check.status is Status.PASS
    else:
        assert check.status is Status.FAIL
        assert "neither vmx nor svm" in check.evidence
        assert "SVM Mode" in check.fix or "Intel Virtualization Technology" in check.fix


def test_no_cpuinfo_is_unknown(make_root: MakeRoot) -> None:
    check = checks_of(make_root({}))["cpu_virtualization"]
    assert check.status is Status.UNKNOWN
    assert check.evidence == "proc/cpuinfo: not captured"


# -- iommu_enabled ------------------------------------------------------------------------------
def test_listing_with_groups_passes(tmp_path: Path) -> None:
    root = build_root_from_listing(
        LISTINGS_DIR / "b550m-msi-mortar-rtx2070super-turing-gt710.txt", tmp_path / "b550m"
    )
    check = checks_of(HostRoot.open(root))["iommu_enabled"]
    assert check.status is Status.PASS
    assert check.evidence.startswith("sys/kernel/iommu_groups: ")
    assert int(check.evidence.split(": ")[1].split()[0]) > 10


def test_capture_without_groups_folder_is_unknown(hwloc_checks: Checks) -> None:
    check = hwloc_checks("32intel64-2p8co2t+8ve")["iommu_enabled"]
    assert check.status is Status.UNKNOWN
    assert check.evidence == "sys/kernel/iommu_groups: not captured"


@pytest.mark.host
def test_live_host_iommu_agrees_with_its_groups() -> None:
    check = checks_of(HostRoot.open("/"))["iommu_enabled"]
    has_groups = any(Path("/sys/kernel/iommu_groups").glob("*"))
    assert (check.status is Status.PASS) == has_groups
    if not has_groups:
        assert check.status is Status.FAIL


def test_empty_groups_on_intel_names_vtd_and_kernel_param(make_root: MakeRoot, cpuinfo_of: CpuinfoOf) -> None:
    root = make_root({"proc/cpuinfo": cpuinfo_of(INTEL_CPUINFO)}, dirs=("sys/kernel/iommu_groups",))
    check = checks_of(root)["iommu_enabled"]
    assert check.status is Status.FAIL
    assert check.evidence == "sys/kernel/iommu_groups: empty"
    assert '"VT-d"' in check.fix
    assert "intel_iommu=on" in check.fix


def test_empty_groups_on_amd_says_no_parameter_needed(make_root: MakeRoot, cpuinfo_of: CpuinfoOf) -> None:
    root = make_root({"proc/cpuinfo": cpuinfo_of(AMD_CPUINFO)}, dirs=("sys/kernel/iommu_groups",))
    check = checks_of(root)["iommu_enabled"]
    assert check.status is Status.FAIL
    assert '"IOMMU"' in check.fix
    assert "on by default" in check.fix
    assert "intel_iommu" not in check.fix


# -- iommu_kernel_param -------------------------------------------------------------------------
def test_intel_with_intel_iommu_on_passes(make_root: MakeRoot, cpuinfo_of: CpuinfoOf) -> None:
    cmdline = real_text("cmdline/user-arch-uki-intel-iommu-kimiblock.cmdline")
    root = make_root({"proc/cpuinfo": cpuinfo_of(INTEL_CPUINFO), "proc/cmdline": cmdline})
    check = checks_of(root)["iommu_kernel_param"]
    assert check.status is Status.PASS
    assert check.evidence == "proc/cmdline: ... intel_iommu=on ..."


def test_intel_proxmox_cmdline_quotes_both_params(make_root: MakeRoot, cpuinfo_of: CpuinfoOf) -> None:
    cmdline = real_text("cmdline/user-vfio-proxmox-zfs-adrianlsy.cmdline")
    root = make_root({"proc/cpuinfo": cpuinfo_of(INTEL_CPUINFO), "proc/cmdline": cmdline})
    check = checks_of(root)["iommu_kernel_param"]
    assert check.status is Status.PASS
    assert check.evidence == "proc/cmdline: ... intel_iommu=on iommu=pt ..."


def test_intel_debian_default_cmdline_warns(make_root: MakeRoot, cpuinfo_of: CpuinfoOf) -> None:
    cmdline = grub_default_cmdline("cmdline/debian12-default.grub")  # "quiet"
    root = make_root({"proc/cpuinfo": cpuinfo_of(INTEL_CPUINFO), "proc/cmdline": cmdline})
    check = checks_of(root)["iommu_kernel_param"]
    assert check.status is Status.WARN
    assert check.evidence == "proc/cmdline: none of intel_iommu, amd_iommu, iommu"
    assert "intel_iommu=on" in check.fix


def test_amd_needs_no_parameter(make_root: MakeRoot, cpuinfo_of: CpuinfoOf) -> None:
    cmdline = grub_default_cmdline("cmdline/user-vfio-ubuntu-x570-smartperson.grub")
    root = make_root({"proc/cpuinfo": cpuinfo_of(AMD_CPUINFO), "proc/cmdline": cmdline})
    check = checks_of(root)["iommu_kernel_param"]
    assert check.status is Status.PASS
    assert check.evidence == "proc/cmdline: ... amd_iommu=on iommu=pt ... (AMD: on by default)"


def test_iommu_off_in_cmdline_fails(make_root: MakeRoot, cpuinfo_of: CpuinfoOf) -> None:
    # The real Arch cmdline with "intel_iommu=on" swapped for "intel_iommu=off": the one edit
    # this test makes, to see the switch-off case.
    cmdline = real_text("cmdline/user-arch-uki-intel-iommu-kimiblock.cmdline").replace(
        "intel_iommu=on", "intel_iommu=off"
    )
    root = make_root({"proc/cpuinfo": cpuinfo_of(INTEL_CPUINFO), "proc/cmdline": cmdline})
    checks = checks_of(root)
    assert checks["iommu_kernel_param"].status is Status.FAIL
    assert "Remove intel_iommu=off" in checks["iommu_kernel_param"].fix


def test_no_cmdline_is_unknown(hwloc_checks: Checks) -> None:
    # This capture has no proc/cmdline.
    check = hwloc_checks("64amd64-4s2n4ca2co")["iommu_kernel_param"]
    assert check.status is Status.UNKNOWN


# -- acs_override -------------------------------------------------------------------------------
def test_acs_override_in_garuda_cmdline_warns(make_root: MakeRoot) -> None:
    cmdline = grub_default_cmdline("cmdline/user-vfio-garuda-acs-override-ozzyhelix.grub")
    check = checks_of(make_root({"proc/cmdline": cmdline}))["acs_override"]
    assert check.status is Status.WARN
    assert check.evidence == "proc/cmdline: ... pcie_acs_override=downstream,multifunction ..."
    assert "isolation" in check.fix


def test_cmdline_without_acs_override_passes(make_root: MakeRoot) -> None:
    cmdline = real_text("cmdline/fedora-cloud-kernel-install-rhea.cmdline")
    check = checks_of(make_root({"proc/cmdline": cmdline}))["acs_override"]
    assert check.status is Status.PASS


def test_acs_override_unknown_without_cmdline(make_root: MakeRoot) -> None:
    assert checks_of(make_root({}))["acs_override"].status is Status.UNKNOWN
