"""One shortcut, one action: the registry refuses a second, and the whole window has no clash."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from vfiodeck.gui.actions import ActionRegistry, DuplicateShortcutError, shortcut_clashes
from vfiodeck.gui.main_window import MainWindow

WAIT_MS = 60000


def test_registry_refuses_a_shortcut_taken_elsewhere(qtbot: QtBot) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    registry = ActionRegistry()
    registry.add(owner, "Open &demo host", lambda: None, "Ctrl+D")
    with pytest.raises(
        DuplicateShortcutError, match="Ctrl\\+D is bound to both “Open demo host” and “Assign"
    ):
        registry.add(owner, "Assign device…", lambda: None, "Ctrl+D", local=True)
    registry.add(owner, "No key", lambda: None)  # actions without a shortcut never clash


def test_every_shortcut_in_the_window_is_unique(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    from vfiodeck.gui import errors

    monkeypatch.setattr(errors, "show_error", lambda *_a, **_k: None)
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.host_loaded, timeout=WAIT_MS):
        win.open_demo()
    qtbot.waitUntil(lambda: win._vms is not None, timeout=WAIT_MS)  # built once the host is shown
    assert shortcut_clashes(win) == {}
    keys = {key.toString() for action in win.registry.actions for key in action.shortcuts()}
    assert {"Ctrl+D", "Ctrl+I", "Ctrl+Shift+P", "Ctrl+E", "Del", "Ctrl+Z"} <= keys
    win.close()
    win.jobs.wait()
