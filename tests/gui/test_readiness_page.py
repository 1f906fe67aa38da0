"""The Readiness page: what `vfio-deck check` says, grouped the same, copyable, re-runnable, escaped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.hostbuilder import LISTINGS_DIR, build_root_from_listing
from vfiodeck.core import cli
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.checks.readiness import Readiness
from vfiodeck.gui.loading import load_host
from vfiodeck.gui.main_window import MainWindow
from vfiodeck.gui.readiness_page import ReadinessPage
from vfiodeck.gui.readiness_tree import CHECK_ID_ROLE
from vfiodeck.resources import demo_host_path

HWLOC = Path(__file__).resolve().parents[1] / "fixtures" / "hwloc"
WAIT_MS = 60000


def cli_json(capsys: pytest.CaptureFixture[str], spec: str) -> dict[str, Any]:
    status = cli.main(["check", "--root", spec, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == (1 if any(c["status"] == "fail" for c in out["checks"]) else 0)
    return out  # type: ignore[no-any-return]


def every_capture(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    specs = [str(demo_host_path())]
    specs += [str(p) for p in sorted(HWLOC.glob("*/*.tar.bz2"))]
    for listing in sorted(LISTINGS_DIR.glob("*.txt")):
        specs.append(str(build_root_from_listing(listing, tmp_path_factory.mktemp(listing.stem[:20]))))
    return specs


@pytest.fixture
def page(qtbot: QtBot) -> ReadinessPage:
    widget = ReadinessPage()
    qtbot.addWidget(widget)
    widget.resize(1024, 700)
    widget.show()
    return widget


def test_page_and_check_agree_on_every_capture(
    qtbot: QtBot,
    page: ReadinessPage,
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    specs = every_capture(tmp_path_factory)
    assert len(specs) == 1 + 10 + 13
    for spec in specs:
        out = cli_json(capsys, spec)
        loaded = load_host(spec)
        page.set_readiness(loaded.readiness)
        assert not [c["id"] for c in out["checks"] if c["evidence"].startswith("internal error")], spec
        expected = [(c["group"], c["id"], c["status"], c["title"]) for c in out["checks"]]
        assert page.tree.shown_checks() == expected, spec
        assert page.summary.text() == out["summary"], spec
        assert page.tree.shown_devices() == [(d["address"], d["status"]) for d in out["devices"]], spec


def _check(**changes: Any) -> Check:
    base = {"id": "libvirt_access", "status": Status.FAIL, "title": "libvirt", "evidence": "e", "fix": "f"}
    return Check(**{**base, **changes})


def test_summary_counts_what_to_fix(page: ReadinessPage) -> None:
    checks = tuple(_check(id=cid) for cid in ("kvm_device", "ovmf", "libvirt_access"))
    page.set_readiness(Readiness(checks, ()))
    assert page.summary.text() == "3 things to fix before passthrough works"


def _select(page: ReadinessPage, check_id: str) -> None:
    item = next(i for i in page.tree.all_items() if i.data(0, CHECK_ID_ROLE) == check_id)
    page.tree.setCurrentItem(item)


def test_copy_command_with_one_click_and_with_ctrl_c(qtbot: QtBot, page: ReadinessPage) -> None:
    command = "sudo systemctl enable --now libvirtd.socket"
    page.set_readiness(Readiness((_check(command=command), _check(id="ovmf", command="")), ()))
    _select(page, "ovmf")
    assert not page.copy_button.isEnabled()
    _select(page, "libvirt_access")
    assert page.copy_button.isEnabled()
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(page.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == command
    QGuiApplication.clipboard().clear()
    page.tree.setFocus()
    qtbot.keyClick(page.tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == command
    assert "Command (Ctrl+C copies it): sudo systemctl" in page.details.toPlainText()


def test_rerun_by_button_and_shortcut(qtbot: QtBot, page: ReadinessPage) -> None:
    with qtbot.waitSignal(page.rerun_requested, timeout=1000):
        qtbot.mouseClick(page.rerun, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(page.rerun_requested, timeout=1000):
        qtbot.keyClick(page, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)


def test_text_from_the_host_is_never_markup(page: ReadinessPage) -> None:
    hostile = "<b>bold</b><img src=x>\x1b[2J"
    page.set_readiness(Readiness((_check(title=hostile, evidence=hostile),), ()))
    item = next(i for i in page.tree.all_items() if i.data(0, CHECK_ID_ROLE) == "libvirt_access")
    assert item.text(0) == "<b>bold</b><img src=x>\\x1b[2J"
    page.tree.setCurrentItem(item)
    assert "\x1b" not in page.details.toPlainText()
    assert page.summary.textFormat() is Qt.TextFormat.PlainText


def test_expansion_survives_a_rerun(page: ReadinessPage) -> None:
    first = Readiness((_check(status=Status.PASS), _check(id="ovmf", status=Status.PASS)), ())
    page.set_readiness(first)
    item = next(i for i in page.tree.all_items() if i.data(0, CHECK_ID_ROLE) == "ovmf")
    item.setExpanded(True)
    page.tree.setCurrentItem(item)
    page.set_readiness(first)
    again = next(i for i in page.tree.all_items() if i.data(0, CHECK_ID_ROLE) == "ovmf")
    assert again.isExpanded()
    assert page.tree.currentItem() is again


def test_keyboard_reaches_every_control(page: ReadinessPage) -> None:
    page.set_readiness(Readiness((_check(command="x"),), ()))
    chain = []
    widget = page.rerun
    for _ in range(4):
        chain.append(widget.objectName())
        widget = widget.nextInFocusChain()
        while not widget.focusPolicy() & Qt.FocusPolicy.TabFocus or not widget.isVisible():
            widget = widget.nextInFocusChain()
    assert chain[:4] == ["rerunChecksButton", "readinessTree", "readinessDetails", "copyCommandButton"]


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1024, 700)
    win.show()
    yield win
    win.jobs.wait()


def test_window_shows_the_demo_readiness_and_reruns_on_reload(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.host_loaded, timeout=WAIT_MS):
        window.open_demo()
    window.show_page(2)
    page = window.readiness_page
    assert window.stack.currentWidget() is page
    assert page.summary.text().startswith("Nothing blocks passthrough")
    first = page.readiness
    # A udev event makes the window reload the host; the reload re-runs the checks.
    with qtbot.waitSignal(window.host_loaded, timeout=WAIT_MS):
        page.rerun.click()
    assert page.readiness is not first
    assert page.readiness is not None
    assert [c.id for c in page.readiness.checks] == [c.id for c in first.checks]  # type: ignore[union-attr]
    QApplication.processEvents()


def test_root_note_says_why_capabilities_are_missing(page: ReadinessPage) -> None:
    from vfiodeck.core.checks.readiness import ROOT_NOTE

    page.set_readiness(Readiness((_check(),), (), root_note=ROOT_NOTE))
    assert page.root_note.isVisible()
    assert "needs root" in page.root_note.text()
    assert "64 bytes" in page.root_note.text()
    page.set_readiness(Readiness((_check(),), ()))
    assert not page.root_note.isVisible()


@pytest.mark.host
def test_page_and_check_agree_on_this_computer(
    page: ReadinessPage, capsys: pytest.CaptureFixture[str]
) -> None:
    out = cli_json(capsys, "/")
    page.set_readiness(load_host(None).readiness)
    assert page.tree.shown_checks() == [(c["group"], c["id"], c["status"], c["title"]) for c in out["checks"]]
    assert page.tree.shown_devices() == [(d["address"], d["status"]) for d in out["devices"]]
