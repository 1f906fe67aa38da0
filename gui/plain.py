"""Values from a host are shown as written, never as HTML.

A QLabel, a QMessageBox and a tooltip guess whether a string is rich text; a device name like
``<img src=...>`` from a snapshot's pci.ids would be rendered. Labels that show host values are
set to plain text, and tooltips are converted from plain text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGui_Qt
from PySide6.QtWidgets import QLabel, QMessageBox


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` literally (line breaks kept)."""
    return str(QtGui_Qt.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpacePre))


def plain_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def plain_message_box(box: QMessageBox) -> QMessageBox:
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box
