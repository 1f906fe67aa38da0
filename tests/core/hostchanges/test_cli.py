"""The host-change commands as DESIGN.md states them: plan --json's shape, exit codes, history."""

from __future__ import annotations

import json

import pytest

from tests.core.hostchanges.conftest import ARCH, CONFIG, DEBIAN, snapshot
from vfiodeck.core.cli import main

GPU = "2b:00.0"


@pytest.fixture
def root(make_root):  # type: ignore[no-untyped-def]
    built = (
        make_root()
        .put("/etc/default/grub", CONFIG / "grub/debian12-default.grub")
        .put("/etc/os-release", DEBIAN)
    )
    built.put(
        "/etc/initramfs-tools/modules", CONFIG / "initramfs/initramfs-tools/debian12-etc-modules.modules"
    )
    built.put(
        "/etc/initramfs-tools/initramfs.conf", CONFIG / "initramfs/initramfs-tools/debian12-initramfs.conf"
    )
    return built


def test_plan_json_shape_and_writes_nothing(root, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(root.path)
    assert main(["plan", "--root", str(root.path), "--json", "--iommu", "--bind", GPU]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {
        "schema",
        "root",
        "bootloader",
        "initramfs",
        "changes",
        "commands",
        "reboot",
        "refused",
    }
    assert data["schema"] == 1
    assert data["bootloader"] == {"kind": "grub", "evidence": ["/etc/default/grub"]}
    assert data["initramfs"]["kind"] == "initramfs-tools"
    change = data["changes"][0]
    assert set(change) == {"path", "action", "before", "after", "diff"}
    assert {c["action"] for c in data["changes"]} == {"create", "edit"}
    assert ["update-grub"] in data["commands"]
    assert ["update-initramfs", "-u", "-k", "all"] in data["commands"]
    assert data["reboot"] is True
    assert data["refused"] == []
    assert snapshot(root.path) == before


def test_apply_undo_history(root, capsys: pytest.CaptureFixture[str]) -> None:
    original = snapshot(root.path)
    args = ["--root", str(root.path), "--iommu", "--bind", GPU]
    assert main(["apply", *args]) == 2  # no --yes
    assert snapshot(root.path) == original
    assert main(["apply", *args, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Not run (not the live host): update-grub" in out
    assert main(["plan", *args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == []
    assert main(["apply", *args, "--yes"]) == 0
    assert "Nothing written." in capsys.readouterr().out
    assert main(["history", "--root", str(root.path), "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)["entries"]
    assert [e["state"] for e in entries] == ["applied"]
    assert main(["undo", "--root", str(root.path), entries[0]["id"], "--yes"]) == 0
    assert snapshot(root.path) == original
    assert main(["undo", "--root", str(root.path), "--yes"]) == 1  # nothing left to undo


def test_refusals_exit_1(make_root, capsys: pytest.CaptureFixture[str]) -> None:
    ambiguous = make_root().put("/etc/default/grub", CONFIG / "grub/debian12-default.grub")
    ambiguous.put(
        "/boot/refind_linux.conf", CONFIG / "refind/user-refind-install-generated-patricol.refind_linux.conf"
    )
    assert main(["plan", "--root", str(ambiguous.path), "--iommu"]) == 1
    assert "more than one boot loader" in capsys.readouterr().out
    plain = (
        make_root()
        .put("/etc/default/grub", CONFIG / "grub/debian12-default.grub")
        .put("/etc/os-release", ARCH)
    )
    assert main(["plan", "--root", str(plain.path), "--bind", GPU, "--at", "now"]) == 1
    assert "only with --root /" in capsys.readouterr().out
    assert main(["apply", "--root", str(plain.path), "--bind", "99:00.0", "--yes"]) == 1
    assert "not a passthrough candidate" in capsys.readouterr().out


def test_bad_root_exit_2(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--root", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
