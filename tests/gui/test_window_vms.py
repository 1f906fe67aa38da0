"""The VMs page inside the window: the demo's VMs, dragging across pages, "Assign to VM…"."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QDragEnterEvent
from pytestqt.qtbot import QtBot

from tests.gui.conftest import WAIT_MS, host_load
from vfiodeck.gui import errors as gui_errors
from vfiodeck.gui import main_window as main_window_module
from vfiodeck.gui.main_window import MainWindow, demo_uri
from vfiodeck.gui.mime import PCI_MIME
from vfiodeck.gui.vms import dialogs, vm_dialogs


@pytest.fixture
def demo_window(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    shown: list[str] = []
    monkeypatch.setattr(gui_errors, "show_error", lambda _p, summary, details="": shown.append(summary))
    monkeypatch.setattr(
        main_window_module, "show_error", lambda _p, summary, details="": shown.append(summary)
    )
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    with host_load(qtbot, win):
        win.open_demo()
    yield win
    win.close()
    win.jobs.wait()
    win.vms_page.runner.wait()
    assert shown == []


def test_demo_host_connects_the_demo_vms(qtbot: QtBot, demo_window: MainWindow) -> None:
    page = demo_window.vms_page
    qtbot.waitUntil(lambda: list(page.controllers) == [demo_uri()], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: page.model.rowCount() >= 3, timeout=WAIT_MS)
    names = {row.info.name for row in page.model.rows()}
    assert "win11-gaming" in names


def test_dragging_a_device_over_the_vms_entry_opens_the_vms_page(demo_window: MainWindow) -> None:
    nav = demo_window.nav
    demo_window.show_page(0)
    mime = QMimeData()
    mime.setData(PCI_MIME, json.dumps(["0000:08:00.0", "0000:08:00.1"]).encode())
    rect = nav.visualItemRect(nav.item(1))
    event = QDragEnterEvent(
        rect.center(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    nav.dragEnterEvent(event)
    assert event.isAccepted()
    assert nav.currentRow() == 1
    assert demo_window.stack.currentWidget() is demo_window.vms_page

    other = QMimeData()
    other.setText("not a device")
    ignored = QDragEnterEvent(
        rect.center(),
        Qt.DropAction.CopyAction,
        other,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    nav.dragEnterEvent(ignored)
    assert not ignored.isAccepted()


def test_assign_to_vm_from_the_host_view(
    qtbot: QtBot, demo_window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = demo_window.vms_page
    qtbot.waitUntil(lambda: page.model.rowCount() >= 3, timeout=WAIT_MS)
    diffs: list[str] = []
    monkeypatch.setattr(dialogs, "confirm_diff", lambda _p, _t, intro, diff: diffs.append(diff) or True)
    names = [row.info.name for row in page.model.rows()]
    target = names.index("win11-gaming")
    monkeypatch.setattr(dialogs, "ask_choice", lambda *_a: target)
    monkeypatch.setattr(vm_dialogs, "ask_when", lambda *_a, **_k: vm_dialogs.When.NEXT_START)

    demo_window.show_page(0)
    assert demo_window.host_page.select_address("0000:08:00.0")
    demo_window.assign_selected()

    assert demo_window.nav.currentRow() == 1
    qtbot.waitUntil(lambda: len(diffs) == 1, timeout=WAIT_MS)
    assert "+" in diffs[0]
    assert "bus='0x08'" in diffs[0] or 'bus="0x08"' in diffs[0]

    def assigned() -> bool:
        row = next(r for r in page.model.rows() if r.info.name == "win11-gaming")
        return "0000:08:00.0" in row.devices and "0000:08:00.1" in row.devices

    qtbot.waitUntil(assigned, timeout=WAIT_MS)


def test_assign_without_a_selection_says_what_to_do(demo_window: MainWindow) -> None:
    demo_window.host_page.tree.clearSelection()
    demo_window.host_page.tree.setCurrentIndex(demo_window.host_page.proxy.index(-1, -1))
    demo_window.assign_selected()
    assert demo_window.status.text() == "Select a device or a group first."
