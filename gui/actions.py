"""The window's one action registry: every QAction with a shortcut is made here, and a second
action asking for a shortcut already taken is refused at once (two actions on one key means
neither fires: Qt reports the key as ambiguous and does nothing).

The window owns a registry and hands it to its pages; a page shown on its own makes its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

Shortcut = QKeySequence | QKeySequence.StandardKey | str


class DuplicateShortcutError(ValueError):
    """A shortcut asked for twice; the message names both actions."""


def _keys(shortcut: Shortcut) -> list[QKeySequence]:
    if isinstance(shortcut, QKeySequence.StandardKey):
        return list(QKeySequence.keyBindings(shortcut))
    return [QKeySequence(shortcut)]


def _text(action: QAction) -> str:
    return action.text().replace("&", "")


class ActionRegistry:
    def __init__(self) -> None:
        self._by_key: dict[str, QAction] = {}
        self.actions: list[QAction] = []

    def add(
        self,
        owner: QWidget,
        text: str,
        slot: Callable[[], object],
        shortcut: Shortcut | None = None,
        *,
        tip: str = "",
        local: bool = False,
    ) -> QAction:
        """A QAction added to ``owner``. ``local``: its shortcut works only while focus is inside
        ``owner`` (a page's actions), otherwise anywhere in the window."""
        action = QAction(text, owner)
        action.triggered.connect(lambda _checked=False: slot())
        if shortcut is not None:
            keys = [k for k in _keys(shortcut) if not k.isEmpty()]
            for key in keys:
                taken = self._by_key.get(key.toString())
                if taken is not None:
                    raise DuplicateShortcutError(
                        f"{key.toString()} is bound to both “{_text(taken)}” and “{text.replace('&', '')}”"
                    )
            for key in keys:
                self._by_key[key.toString()] = action
            action.setShortcuts(keys)
            if local:
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        if tip:
            action.setToolTip(tip)
        owner.addAction(action)
        self.actions.append(action)
        return action


def shortcut_clashes(root: QObject) -> dict[str, list[str]]:
    """Every key sequence bound to more than one action under ``root``: {key: [action texts]}.
    The test runs it on the whole window, menus and pages included."""
    seen: dict[str, list[str]] = {}
    actions: Iterable[QAction] = root.findChildren(QAction)
    for action in actions:
        for key in action.shortcuts():
            if not key.isEmpty():
                seen.setdefault(key.toString(), []).append(_text(action))
    return {key: texts for key, texts in seen.items() if len(texts) > 1}
