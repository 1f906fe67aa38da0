"""The page list on the window's left."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent
from PySide6.QtWidgets import QListWidget

from vfiodeck.gui.mime import PCI_MIME


class NavigationList(QListWidget):
    """The page list. Dragging a device over a page's name opens that page, so a device dragged
    from the Host page can be dropped on a VM in the VMs page."""

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)

    def _hover(self, pos: QPoint) -> bool:
        item = self.itemAt(pos)
        if item is None:
            return False
        self.setCurrentItem(item)
        return True

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasFormat(PCI_MIME):
            self._hover(event.position().toPoint())
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if event.mimeData().hasFormat(PCI_MIME):
            self._hover(event.position().toPoint())
            # Accepted only to keep the switch going; dropping here does nothing.
            event.setDropAction(Qt.DropAction.IgnoreAction)
            event.accept()
        else:
            event.ignore()
