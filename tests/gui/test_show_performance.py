"""``--show-domain-performance NAME`` (virt-manager's flag): the window opens on that VM's graphs."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import WAIT_MS, host_load
from vfiodeck.core.cli import build_parser
from vfiodeck.gui import errors as gui_errors
from vfiodeck.gui import main_window as main_window_module
from vfiodeck.gui.main_window import MainWindow


def test_the_flag_is_parsed() -> None:
    args = build_parser().parse_args(["--demo", "--show-domain-performance", "win11-gaming"])
    assert args.show_domain_performance == "win11-gaming"


def test_the_window_opens_on_the_vms_graphs(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []

    def record(_parent: object, summary: str, details: str = "") -> None:
        shown.append(summary)

    monkeypatch.setattr(gui_errors, "show_error", record)
    monkeypatch.setattr(main_window_module, "show_error", record)
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    win.show_domain("win11-gaming", "performance")
    with host_load(qtbot, win):
        win.open_demo()
    page = win.vms_page
    qtbot.waitUntil(lambda: page.graphs is not None, timeout=WAIT_MS)
    assert win.nav.currentRow() == 1
    selected = page.selected_row()
    assert selected is not None
    assert selected.info.name == "win11-gaming"
    assert page.graphs is not None
    assert page.graphs.row is not None
    assert page.graphs.row.info.name == "win11-gaming"
    assert page.graphs.timer.isActive()
    win.close()
    win.jobs.wait()
    page.runner.wait()
    assert shown == []
