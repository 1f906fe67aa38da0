"""run_checks: every id once, in the fixed order, JSON-ready, and never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.core.checks.roots import checks_of
from vfiodeck.core.checks import CHECK_IDS, Check, Status, check_to_dict, run_checks
from vfiodeck.core.checks import run as run_module
from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.scan import scan_host
from vfiodeck.core.host.sysfs import Reader

# The 13 first checks keep their ids; the order is the display order, group by group.
EXPECTED_IDS = (
    "cpu_virtualization",
    "iommu_firmware",
    "firmware_uefi",
    "secure_boot",
    "above_4g_decoding",
    "iommu_enabled",
    "iommu_kernel_param",
    "interrupt_remapping",
    "unsafe_interrupts",
    "acs_override",
    "lockdown",
    "vfio_modules",
    "kernel_vfio_modules",
    "boot_gpu",
    "boot_framebuffer",
    "reset_support",
    "reset_bug",
    "acs_path",
    "rebar_fit",
    "vfio_variant_driver",
    "kvm_device",
    "libvirt_access",
    "ovmf",
    "hugepages",
    "hugepages_per_node",
)


def test_ids_are_stable() -> None:
    assert CHECK_IDS == EXPECTED_IDS


@pytest.mark.host
def test_live_host_runs_every_check_in_order() -> None:
    root = HostRoot.open("/")
    host = scan_host(root)
    checks = run_checks(host, Reader(root), host.candidates)
    assert tuple(c.id for c in checks) == EXPECTED_IDS
    for check in checks:
        assert check.title
        assert check.evidence
        assert check.status is not Status.PASS or check.fix == "" or check.id == "boot_gpu"


def test_check_to_dict_is_the_json_contract(hwloc_root: Callable[[str], HostRoot]) -> None:
    root = hwloc_root("32intel64-2p8co2t+8ve")
    host = scan_host(root)
    checks = run_checks(host, Reader(root), host.candidates)
    dicts = [check_to_dict(c) for c in checks]
    # The contract's five keys first; group and command only grow it.
    assert all(list(d) == ["id", "status", "title", "evidence", "fix", "group", "command"] for d in dicts)
    decoded = json.loads(json.dumps(dicts))
    by_id = {d["id"]: d for d in decoded}
    assert by_id["cpu_virtualization"]["status"] == "pass"
    assert by_id["iommu_enabled"]["status"] == "unknown"
    assert {d["status"] for d in decoded} <= {"pass", "warn", "fail", "unknown"}


def test_absent_evidence_never_fails(make_root: Callable[..., HostRoot]) -> None:
    checks = checks_of(make_root({}))
    assert {c.status for c in checks.values()} == {Status.UNKNOWN}


def test_a_crashing_check_becomes_unknown(
    monkeypatch: pytest.MonkeyPatch, hwloc_root: Callable[[str], HostRoot]
) -> None:
    def broken(ctx: CheckContext) -> Check:
        raise ValueError("odd file")

    patched = tuple((cid, broken if cid == "ovmf" else fn) for cid, fn in run_module._CHECKS)
    monkeypatch.setattr(run_module, "_CHECKS", patched)
    root = hwloc_root("32intel64-2p8co2t+8ve")
    host = scan_host(root)
    by_id = {c.id: c for c in run_checks(host, Reader(root), host.candidates)}
    assert by_id["ovmf"].status is Status.UNKNOWN
    assert by_id["ovmf"].evidence == "internal error: ValueError: odd file"
    assert by_id["acs_override"].status is not Status.UNKNOWN
