"""The History page: the host changes VFIO Deck made on this root, newest first, with Undo."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.hostchanges import journal
from vfiodeck.core.hostchanges.apply import undo
from vfiodeck.gui.jobs import Jobs


class HistoryPage(QWidget):
    undone = Signal(str)

    def __init__(self, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyPage")
        self.jobs = jobs
        self.root: HostRoot | None = None
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["When", "State", "Change"])
        self.tree.setAccessibleName("Host changes")
        self.tree.setColumnWidth(0, 170)
        self.tree.setColumnWidth(1, 90)
        self.tree.currentItemChanged.connect(lambda *_: self._update_button())
        self.undo_button = QPushButton("Undo…")
        self.undo_button.setEnabled(False)
        self.undo_button.clicked.connect(self.undo_selected)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Host changes</b> (kernel parameters, vfio-pci binding, initramfs)"))
        layout.addWidget(self.tree, 1)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.undo_button)
        layout.addLayout(row)

    def set_root(self, root: HostRoot) -> None:
        self.root = root
        self.refresh()

    def refresh(self) -> None:
        if self.root is None:
            return
        path = self.root.path
        self.jobs.start(lambda: journal.entries(path), self._show, lambda e: self.status.setText(str(e)))

    def _show(self, entries: list[journal.Entry]) -> None:
        self.tree.clear()
        for entry in reversed(entries):
            item = QTreeWidgetItem([entry.created.replace("T", " "), entry.state, entry.summary])
            item.setData(0, 256, entry.id)
            item.setData(1, 256, entry.state)
            for record in entry.files:
                action = (
                    "created" if record.before is None else "deleted" if record.after is None else "edited"
                )
                item.addChild(QTreeWidgetItem(["", action, record.path]))
            self.tree.addTopLevelItem(item)
        self.status.setText("" if entries else "No host changes recorded on this root.")
        newest = self.tree.topLevelItem(0)
        if newest is not None:
            self.tree.setCurrentItem(newest)
        self._update_button()

    def _selected(self) -> QTreeWidgetItem | None:
        item = self.tree.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        return item

    def _update_button(self) -> None:
        item = self._selected()
        self.undo_button.setEnabled(item is not None and item.data(1, 256) == "applied")

    def undo_selected(self) -> None:
        item = self._selected()
        if item is None or self.root is None:
            return
        entry_id, root = str(item.data(0, 256)), self.root
        self.undo_button.setEnabled(False)
        self.status.setText(f"Undoing {entry_id}…")
        self.jobs.start(lambda: undo(root, entry_id), self._undone, self._failed)

    def _undone(self, entry_id: str) -> None:
        self.status.setText(
            f"Undone {escape(entry_id)}: every file is back as it was. Reboot to use the old setup."
        )
        self.undone.emit(entry_id)
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"<span style='color:#c62828'>{escape(str(exc))}</span>")
        self._update_button()
