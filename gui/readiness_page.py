"""The Readiness page: the checklist grouped as the command line prints it, each check expandable
to its evidence and fix, the fix's command one click (or Ctrl+C) from the clipboard.

The page shows values only: the checks are computed with the scan on a worker (gui/loading.py),
and "Re-run checks" asks the window to read the host again. Every text is set as plain text, with
control characters escaped, so a device or file can never inject markup or escape sequences.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vfiodeck.core.checks.readiness import Readiness
from vfiodeck.core.text import short_address
from vfiodeck.gui.readiness_tree import CHECK_ID_ROLE, COMMAND_ROLE, STATUS_WORDS, ReadinessTree, plain


def plain_lines(lines: list[str]) -> str:
    """Lines joined by newlines, each escaped (the newlines are ours, not the data's)."""
    return "\n".join(plain(line) for line in lines)


class ReadinessPage(QWidget):
    rerun_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readinessPage")
        self.readiness: Readiness | None = None

        self.summary = QLabel("Reading the host…")
        self.summary.setObjectName("readinessSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.summary.setFont(font)
        self.root_note = QLabel()
        self.root_note.setObjectName("readinessRootNote")
        self.root_note.setTextFormat(Qt.TextFormat.PlainText)
        self.root_note.setWordWrap(True)
        self.root_note.setStyleSheet(
            "QLabel { background: #fff8e1; border: 1px solid #ffb300; padding: 6px; }"
        )
        self.root_note.hide()
        self.snapshot_note = QLabel()
        self.snapshot_note.setObjectName("readinessSnapshotNote")
        self.snapshot_note.setTextFormat(Qt.TextFormat.PlainText)
        self.snapshot_note.setWordWrap(True)
        note_font = self.snapshot_note.font()
        note_font.setItalic(True)
        self.snapshot_note.setFont(note_font)
        self.snapshot_note.hide()

        self.rerun = QPushButton("&Re-run checks")
        self.rerun.setObjectName("rerunChecksButton")
        self.rerun.setToolTip("Read the host again and re-run every check (Ctrl+R)")
        self.rerun.setShortcut(QKeySequence("Ctrl+R"))
        self.rerun.clicked.connect(self.request_rerun)
        self.copy_button = QPushButton("&Copy command")
        self.copy_button.setObjectName("copyCommandButton")
        self.copy_button.setToolTip("Copy the selected fix's command to the clipboard (Ctrl+C)")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy_current)
        self.feedback = QLabel()
        self.feedback.setTextFormat(Qt.TextFormat.PlainText)

        self.tree = ReadinessTree()
        self.tree.currentItemChanged.connect(self._current_changed)
        self.tree.itemActivated.connect(self._activated)
        copy = QAction("Copy command", self.tree)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_current)
        self.tree.addAction(copy)

        # Tree rows are one line each; the selected row's full evidence and fix read here, wrapped.
        self.details = QPlainTextEdit()
        self.details.setObjectName("readinessDetails")
        self.details.setAccessibleName("Evidence and fix")
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Select a check to read its evidence and fix.")
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)

        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.rerun, 0, Qt.AlignmentFlag.AlignTop)
        bottom = QHBoxLayout()
        bottom.addWidget(self.copy_button)
        bottom.addWidget(self.feedback, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.snapshot_note)
        layout.addWidget(self.root_note)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)
        self.setTabOrder(self.rerun, self.tree)
        self.setTabOrder(self.tree, self.details)
        self.setTabOrder(self.details, self.copy_button)

    # -- values in ------------------------------------------------------------------------
    def set_readiness(self, readiness: Readiness | None) -> None:
        """Show a host's readiness (None: nothing loaded yet). Keeps what the user expanded."""
        self.readiness = readiness
        self.tree.fill(readiness)
        self.feedback.clear()
        if readiness is None:
            self.summary.setText("No host is open.")
            self.root_note.hide()
            self.snapshot_note.hide()
            return
        self.summary.setText(plain(readiness.summary))
        self.root_note.setText(plain(readiness.root_note))
        self.root_note.setVisible(bool(readiness.root_note))
        self.snapshot_note.setText(plain(readiness.snapshot_note))
        self.snapshot_note.setVisible(bool(readiness.snapshot_note))

    def request_rerun(self) -> None:
        self.feedback.setText("Reading the host again…")
        self.rerun_requested.emit()

    # -- copying ------------------------------------------------------------------------------
    def current_command(self) -> str:
        return self.tree.current_command()

    def _current_changed(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        self.copy_button.setEnabled(bool(self.current_command()))
        self.details.setPlainText(self.details_text(current))

    def details_text(self, item: QTreeWidgetItem | None) -> str:
        """The full text of the check or candidate the item belongs to."""
        if self.readiness is None:
            return ""
        while item is not None:
            key = str(item.data(0, CHECK_ID_ROLE) or "")
            check = next((c for c in self.readiness.checks if c.id == key), None)
            if check is not None:
                lines = [f"{check.title}: {STATUS_WORDS[check.status]}", "", f"Evidence: {check.evidence}"]
                if check.fix:
                    lines += ["", f"Fix: {check.fix}"]
                if check.command:
                    lines += ["", f"Command (Ctrl+C copies it): {check.command}"]
                return plain_lines(lines)
            row = next((r for r in self.readiness.devices if f"device:{r.address}" == key), None)
            if row is not None:
                lines = [
                    f"{short_address(row.address)} {row.name} ({row.kind}): {STATUS_WORDS[row.status]}",
                    "",
                ]
                lines += [
                    f"{entry.aspect}: {STATUS_WORDS[entry.status]}. {entry.text}" for entry in row.items
                ]
                return plain_lines(lines)
            item = item.parent()
        return ""

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.data(0, COMMAND_ROLE) and item.childCount() == 0:
            self.copy_current()

    def copy_current(self) -> None:
        command = self.current_command()
        if not command:
            self.feedback.setText("This row has no command to copy.")
            return
        QGuiApplication.clipboard().setText(command)
        self.feedback.setText(f"Copied: {plain(command)}")
