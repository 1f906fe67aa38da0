"""The Readiness page: the checklist grouped as the command line prints it, each check expandable
to its evidence and fix, the fix's command one click (or Ctrl+C) from the clipboard.

The page shows values only: the checks are computed with the scan on a worker (gui/loading.py),
and "Re-run checks" asks the window to read the host again. Every text is set as plain text, with
control characters escaped, so a device or file can never inject markup or escape sequences.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vfiodeck.core.checks.devices import DeviceRow
from vfiodeck.core.checks.groups import Group
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.checks.readiness import Readiness
from vfiodeck.core.checks.text import escape_controls
from vfiodeck.core.host.pci import short_address

COMMAND_ROLE = Qt.ItemDataRole.UserRole + 1  # the text "Copy command" puts on the clipboard
CHECK_ID_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_WORDS = {Status.PASS: "OK", Status.WARN: "Look at", Status.FAIL: "Fix", Status.UNKNOWN: "Not read"}
STATUS_COLORS = {
    Status.PASS: "#2e7d32",
    Status.WARN: "#b26a00",
    Status.FAIL: "#c62828",
    Status.UNKNOWN: "#616161",
}
_ICONS = {
    Status.PASS: QStyle.StandardPixmap.SP_DialogApplyButton,
    Status.WARN: QStyle.StandardPixmap.SP_MessageBoxWarning,
    Status.FAIL: QStyle.StandardPixmap.SP_MessageBoxCritical,
    Status.UNKNOWN: QStyle.StandardPixmap.SP_MessageBoxQuestion,
}
_ORDER = (Status.FAIL, Status.WARN, Status.UNKNOWN, Status.PASS)


def plain(text: str) -> str:
    return escape_controls(text)


def plain_lines(lines: list[str]) -> str:
    """Lines joined by newlines, each escaped (the newlines are ours, not the data's)."""
    return "\n".join(plain(line) for line in lines)


class ReadinessPage(QWidget):
    rerun_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readinessPage")
        self.readiness: Readiness | None = None
        self._icons = {status: self.style().standardIcon(pixmap) for status, pixmap in _ICONS.items()}

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

        self.tree = QTreeWidget()
        self.tree.setObjectName("readinessTree")
        self.tree.setAccessibleName("Readiness checks")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Check", "Status"])
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
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
        expanded = self._expanded_keys()
        current = self.tree.currentItem()
        current_key = self._key(current) if current is not None else None
        self.readiness = readiness
        self.tree.clear()
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
        for group, checks in readiness.grouped():
            group_item = self._group_item(group, checks)
            for check in checks:
                group_item.addChild(self._check_item(check))
            if group is Group.DEVICES and readiness.devices:
                group_item.addChild(self._devices_item(readiness.devices))
        self._restore(expanded, current_key)

    def request_rerun(self) -> None:
        self.feedback.setText("Reading the host again…")
        self.rerun_requested.emit()

    # -- building rows ---------------------------------------------------------------------
    def _status_cells(self, item: QTreeWidgetItem, status: Status) -> None:
        item.setIcon(0, self._icons[status])
        item.setText(1, STATUS_WORDS[status])
        item.setForeground(1, QBrush(QColor(STATUS_COLORS[status])))
        item.setData(1, Qt.ItemDataRole.AccessibleTextRole, status.value)

    def _group_item(self, group: Group, checks: list[Check]) -> QTreeWidgetItem:
        counts = {s: sum(1 for c in checks if c.status is s) for s in _ORDER}
        worst = next(s for s in _ORDER if counts[s] or s is Status.PASS)
        parts = [
            f"{counts[s]} {STATUS_WORDS[s].lower()}" for s in _ORDER if counts[s] and s is not Status.PASS
        ]
        item = QTreeWidgetItem(self.tree, [f"{group.value}  ({', '.join(parts) or 'all OK'})", ""])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        self._status_cells(item, worst)
        item.setData(0, CHECK_ID_ROLE, f"group:{group.value}")
        item.setExpanded(True)
        return item

    def _detail(self, parent: QTreeWidgetItem, label: str, text: str, command: str = "") -> None:
        child = QTreeWidgetItem(parent, [f"{label}: {plain(text)}", ""])
        child.setToolTip(0, plain(text))
        child.setFlags(child.flags() | Qt.ItemFlag.ItemIsSelectable)
        if command:
            child.setData(0, COMMAND_ROLE, command)
            child.setText(1, "Ctrl+C copies")

    def _check_item(self, check: Check) -> QTreeWidgetItem:
        item = QTreeWidgetItem([plain(check.title), ""])
        item.setData(0, CHECK_ID_ROLE, check.id)
        item.setData(0, COMMAND_ROLE, check.command or None)
        self._status_cells(item, check.status)
        self._detail(item, "Evidence", check.evidence)
        if check.fix:
            self._detail(item, "Fix", check.fix, check.command)
        if check.command:
            self._detail(item, "Command", check.command, check.command)
        return item

    def _devices_item(self, rows: tuple[DeviceRow, ...]) -> QTreeWidgetItem:
        item = QTreeWidgetItem([f"Passthrough candidates ({len(rows)})", ""])
        item.setData(0, CHECK_ID_ROLE, "devices")
        worst = next((s for s in _ORDER if any(r.status is s for r in rows)), Status.PASS)
        self._status_cells(item, worst)
        for row in rows:
            child = QTreeWidgetItem(
                item, [f"{short_address(row.address)}  {plain(row.name)} ({row.kind})", ""]
            )
            child.setData(0, CHECK_ID_ROLE, f"device:{row.address}")
            self._status_cells(child, row.status)
            for entry in row.items:
                detail = QTreeWidgetItem(child, [f"{entry.aspect}: {plain(entry.text)}", ""])
                detail.setToolTip(0, plain(entry.text))
                self._status_cells(detail, entry.status)
        return item

    # -- expansion kept across re-runs --------------------------------------------------------
    @staticmethod
    def _key(item: QTreeWidgetItem) -> str:
        own = item.data(0, CHECK_ID_ROLE)
        return (
            str(own)
            if own
            else f"{ReadinessPage._key(item.parent()) if item.parent() else ''}/{item.text(0)}"
        )

    def _all_items(self) -> list[QTreeWidgetItem]:
        """Every item, depth first in display order."""
        found: list[QTreeWidgetItem] = []
        stack = [self.tree.topLevelItem(i) for i in reversed(range(self.tree.topLevelItemCount()))]
        while stack:
            item = stack.pop()
            if item is None:
                continue
            found.append(item)
            stack.extend(item.child(i) for i in reversed(range(item.childCount())))
        return found

    def _expanded_keys(self) -> set[str] | None:
        items = self._all_items()
        return {self._key(i) for i in items if i.isExpanded()} if items else None

    def _restore(self, expanded: set[str] | None, current_key: str | None) -> None:
        for item in self._all_items():
            key = self._key(item)
            if expanded is None:
                # First showing: groups open, and every row that needs attention open too.
                status = item.data(1, Qt.ItemDataRole.AccessibleTextRole)
                attention = status in ("fail", "warn") and item.childCount() > 0
                item.setExpanded(key.startswith("group:") or attention)
            else:
                item.setExpanded(key in expanded)
            if key == current_key:
                self.tree.setCurrentItem(item)

    # -- copying ------------------------------------------------------------------------------
    def current_command(self) -> str:
        item = self.tree.currentItem()
        while item is not None:
            command = item.data(0, COMMAND_ROLE)
            if command:
                return str(command)
            item = item.parent()
        return ""

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

    # -- for tests and the agreement with `vfio-deck check` ------------------------------------
    def shown_checks(self) -> list[tuple[str, str, str, str]]:
        """(group, check id, status, title) of every check row, in display order."""
        shown = []
        for item in self._all_items():
            cid = item.data(0, CHECK_ID_ROLE)
            parent = item.parent()
            if (
                parent is not None
                and str(parent.data(0, CHECK_ID_ROLE)).startswith("group:")
                and cid != "devices"
            ):
                group = str(parent.data(0, CHECK_ID_ROLE))[len("group:") :]
                status = str(item.data(1, Qt.ItemDataRole.AccessibleTextRole))
                shown.append((group, str(cid), status, item.text(0)))
        return shown

    def shown_devices(self) -> list[tuple[str, str]]:
        """(address, status) of every candidate row."""
        return [
            (
                str(item.data(0, CHECK_ID_ROLE))[len("device:") :],
                str(item.data(1, Qt.ItemDataRole.AccessibleTextRole)),
            )
            for item in self._all_items()
            if str(item.data(0, CHECK_ID_ROLE)).startswith("device:")
        ]

    def icon_for(self, status: Status) -> QIcon:
        return self._icons[status]
