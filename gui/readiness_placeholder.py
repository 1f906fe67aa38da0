"""The Readiness page's place in the navigation until the checks view lands."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from vfiodeck.core.host.model import HostModel


class ReadinessPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readinessPage")
        self.host: HostModel | None = None
        label = QLabel("Readiness checks come here: IOMMU, interrupt remapping, kernel parameters, firmware.")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(label)

    def set_host(self, model: HostModel | None) -> None:
        self.host = model
