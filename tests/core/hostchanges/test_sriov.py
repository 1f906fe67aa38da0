"""SR-IOV VFs at boot (our udev rule) and now (the helper's sriov verb), on c246's I350 port."""

from __future__ import annotations

import re

from tests.core.hostchanges.conftest import roundtrip

PF = "0000:01:00.0"  # c246: Intel I350 (8086:1521); igb offers 7 VFs per port


def _root(make_root):  # type: ignore[no-untyped-def]
    root = make_root("c246")
    device = (root.path / "sys/bus/pci/devices" / PF).resolve()
    (device / "sriov_totalvfs").write_text("7\n")
    return root


def test_vfs_at_boot_are_a_udev_rule(make_root) -> None:
    root = _root(make_root)
    plan, _ = roundtrip(root, vfs=("01:00.0=4",))
    assert [c.path for c in plan.changes] == ["/etc/udev/rules.d/70-vfio-deck-sriov.rules"]
    text = (root.path / "etc/udev/rules.d/70-vfio-deck-sriov.rules").read_text()
    assert re.search(
        rf'^ACTION=="add", SUBSYSTEM=="pci", KERNEL=="{PF}", ATTR{{sriov_numvfs}}="4"$', text, re.M
    )
    assert plan.reboot


def test_vfs_are_checked_against_the_device(make_root) -> None:
    root = _root(make_root)
    too_many = root.plan(vfs=("01:00.0=8",))
    assert "at most 7" in too_many.refused[0].reason
    no_sriov = root.plan(vfs=("06:00.0=1",))
    assert "no SR-IOV" in no_sriov.refused[0].reason
    garbage = root.plan(vfs=("01:00.0=-1",))
    assert garbage.refused
    assert not too_many.changes


def test_vfs_now_go_through_the_helper_on_the_live_host_only(make_root) -> None:
    root = _root(make_root)
    plan = root.plan(vfs=("01:00.0=2",), at="now")
    assert plan.commands == ()
    assert "only with --root /" in plan.refused[0].reason
