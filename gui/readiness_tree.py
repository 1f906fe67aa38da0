"""The Readiness checklist as a tree: groups, checks with their evidence and fix, candidate rows.

Every text is set as plain text with control characters escaped: a device name or a file's
content can never become markup or an escape sequence.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QTreeWidget, QTreeWidgetItem, QWidget

from vfiodeck.core.checks.devices import DeviceRow
from vfiodeck.core.checks.groups import Group
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.checks.readiness import Readiness
from vfiodeck.core.checks.text import escape_controls
from vfiodeck.core.text import short_address

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


class ReadinessTree(QTreeWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readinessTree")
        self.setAccessibleName("Readiness checks")
        self.setColumnCount(2)
        self.setHeaderLabels(["Check", "Status"])
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self._icons = {status: self.style().standardIcon(pixmap) for status, pixmap in _ICONS.items()}

    def fill(self, readiness: Readiness | None) -> None:
        """Show these rows, keeping what the user had expanded and selected."""
        expanded = self._expanded_keys()
        current = self.currentItem()
        current_key = self._key(current) if current is not None else None
        self.clear()
        if readiness is None:
            return
        for group, checks in readiness.grouped():
            group_item = self._group_item(group, checks)
            for check in checks:
                group_item.addChild(self._check_item(check))
            if group is Group.DEVICES and readiness.devices:
                group_item.addChild(self._devices_item(readiness.devices))
        self._restore(expanded, current_key)

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
        item = QTreeWidgetItem(self, [f"{group.value}  ({', '.join(parts) or 'all OK'})", ""])
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
            else f"{ReadinessTree._key(item.parent()) if item.parent() else ''}/{item.text(0)}"
        )

    def all_items(self) -> list[QTreeWidgetItem]:
        """Every item, depth first in display order."""
        found: list[QTreeWidgetItem] = []
        stack = [self.topLevelItem(i) for i in reversed(range(self.topLevelItemCount()))]
        while stack:
            item = stack.pop()
            if item is None:
                continue
            found.append(item)
            stack.extend(item.child(i) for i in reversed(range(item.childCount())))
        return found

    def _expanded_keys(self) -> set[str] | None:
        items = self.all_items()
        return {self._key(i) for i in items if i.isExpanded()} if items else None

    def _restore(self, expanded: set[str] | None, current_key: str | None) -> None:
        for item in self.all_items():
            key = self._key(item)
            if expanded is None:
                # First showing: groups open, and every row that needs attention open too.
                status = item.data(1, Qt.ItemDataRole.AccessibleTextRole)
                attention = status in ("fail", "warn") and item.childCount() > 0
                item.setExpanded(key.startswith("group:") or attention)
            else:
                item.setExpanded(key in expanded)
            if key == current_key:
                self.setCurrentItem(item)

    def current_command(self) -> str:
        item = self.currentItem()
        while item is not None:
            command = item.data(0, COMMAND_ROLE)
            if command:
                return str(command)
            item = item.parent()
        return ""

    def shown_checks(self) -> list[tuple[str, str, str, str]]:
        """(group, check id, status, title) of every check row, in display order."""
        shown = []
        for item in self.all_items():
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
            for item in self.all_items()
            if str(item.data(0, CHECK_ID_ROLE)).startswith("device:")
        ]
