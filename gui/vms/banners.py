"""Yellow notes above the VM list: one per connection that is down, and one when the host shown is
not the machine the VMs run on."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

_STYLE = (
    "QLabel { background: #fff3cd; color: #5c4400; border: 1px solid #e0c36a;"
    " border-radius: 4px; padding: 6px; }"
)


class Banners(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._labels: dict[str, QLabel] = {}

    def show_text(self, key: str, text: str) -> None:
        """Show ``text`` under ``key``; an empty text hides it."""
        label = self._labels.get(key)
        if not text:
            if label is not None:
                label.hide()
            return
        if label is None:
            label = QLabel()
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setStyleSheet(_STYLE)
            self._layout.addWidget(label)
            self._labels[key] = label
        label.setText(text)
        label.show()

    def text(self, key: str) -> str:
        label = self._labels.get(key)
        return label.text() if label is not None and not label.isHidden() else ""
