"""`vfio-deck check` as a user runs it: grouped checklist, JSON, exit status, escaping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.core.checks.roots import real_text, write_files
from vfiodeck.core import cli
from vfiodeck.core.checks.run import CHECK_IDS
from vfiodeck.resources import demo_host_path

NO_IR = "interrupts/vortex86dx3-x86-no-iommu-pci-msi-without-ir.txt"


def _root(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    base = tmp_path / "root"
    (base / "proc").mkdir(parents=True, exist_ok=True)
    write_files(base, files)
    return base


def check_json(capsys: pytest.CaptureFixture[str], root: Path, status: int) -> dict[str, Any]:
    assert cli.main(["check", "--root", str(root), "--json"]) == status
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_demo_host_passes_with_schema_1(capsys: pytest.CaptureFixture[str]) -> None:
    out = check_json(capsys, demo_host_path(), 0)
    assert out["schema"] == 1
    assert [c["id"] for c in out["checks"]] == list(CHECK_IDS)
    assert {c["status"] for c in out["checks"]} <= {"pass", "warn", "unknown"}
    assert {c["group"] for c in out["checks"]} == {"Firmware", "Kernel", "Devices", "Virtualization"}
    assert all(c["evidence"] for c in out["checks"])  # an unknown always says why
    gtx = next(d for d in out["devices"] if d["address"] == "0000:08:00.0")
    assert gtx["items"][0] == {"aspect": "isolation", "status": "pass", "text": "alone in IOMMU group 14"}


def test_a_failing_check_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _root(tmp_path, {"proc/interrupts": real_text(NO_IR)})
    out = check_json(capsys, root, 1)
    by_id = {c["id"]: c for c in out["checks"]}
    assert by_id["interrupt_remapping"]["status"] == "fail"
    assert out["summary"].startswith("1 thing to fix before passthrough works")


def test_text_is_grouped_and_names_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _root(tmp_path, {"proc/interrupts": real_text(NO_IR)})
    assert cli.main(["check", "--root", str(root)]) == 1
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[1] == "1 thing to fix before passthrough works; 24 could not be read"
    assert lines[3].startswith("This is a capture, not a running computer")
    assert [ln for ln in lines if ln and not ln.startswith(" ")][3:] == [
        "Firmware",
        "Kernel",
        "Devices",
        "Virtualization",
    ]
    assert "  [FAIL] Interrupt remapping" in lines
    assert any(ln.strip().startswith("fix: Interrupt remapping comes with the IOMMU") for ln in lines)


def test_control_characters_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile = "none [integrity]\x1b[2J\x07 confidentiality"
    root = _root(tmp_path, {"sys/kernel/security/lockdown": hostile})
    cli.main(["check", "--root", str(root)])
    text = capsys.readouterr().out
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "[integrity]\\x1b[2J\\x07 confidentiality" in text


def test_bad_root_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "--root", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("vfio-deck: ")


@pytest.mark.host
def test_live_host_every_check_says_what_it_read(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(["check", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == (1 if any(c["status"] == "fail" for c in out["checks"]) else 0)
    assert all(c["evidence"] for c in out["checks"])
    by_id = {c["id"]: c for c in out["checks"]}
    assert by_id["kvm_device"]["status"] in ("pass", "fail")  # the live host can answer this one
