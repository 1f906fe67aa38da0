"""The VMs page's place in the navigation until the VMs work lands."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from vfiodeck.core.host.model import HostModel


class VmsPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("vmsPage")
        self.host: HostModel | None = None
        label = QLabel("Virtual machines come here: their devices, CPU pinning and live graphs.")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(label)

    def set_host(self, model: HostModel | None) -> None:
        self.host = model
