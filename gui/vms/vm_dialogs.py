"""Questions asked before a VM changes for good: force off, delete (with or without its disks),
hot-plug now or at the next start, and how to get a console viewer.

As in ``dialogs.py``, each has a class and an ``ask_*``/``show_*`` function that tests replace.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from vfiodeck.gui.vms.dialogs import accept_buttons


def _label(html: str) -> QLabel:
    label = QLabel(html)
    label.setWordWrap(True)
    label.setMinimumWidth(460)  # wrapped text gets its height from a width it can count on
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ForceOffDialog(QDialog):
    def __init__(self, vm: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Force off {vm}")
        layout = QVBoxLayout(self)
        layout.addWidget(
            _label(
                f"<p>Pull the plug on “{escape(vm)}”?</p><p>The guest gets no chance to save its work, "
                "as when a PC loses power. “Shut down” asks the guest to power off cleanly.</p>"
            )
        )
        buttons, self.ok = accept_buttons(self, "Force off")
        layout.addWidget(buttons)


def confirm_force_off(parent: QWidget | None, vm: str) -> bool:
    return ForceOffDialog(vm, parent).exec() == QDialog.DialogCode.Accepted


class DeleteDialog(QDialog):
    """Delete a VM's definition; its disk images only when ticked, each named."""

    def __init__(self, vm: str, disks: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Delete {vm}")
        outer = QHBoxLayout(self)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(40, 40))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        outer.addWidget(icon)
        layout = QVBoxLayout()
        outer.addLayout(layout, 1)
        layout.addWidget(
            _label(
                f"<p><b>Delete the VM “{escape(vm)}”?</b></p><p>Its definition and its UEFI variables go. "
                "The host devices it passes are not touched.</p>"
            )
        )
        self.disk_boxes: list[QCheckBox] = []
        if disks:
            layout.addWidget(QLabel("Also delete these disk images (this cannot be undone):"))
            for path in disks:
                box = QCheckBox(path.replace("&", "&&"))  # a check box reads & as a shortcut mark
                box.setProperty("path", path)
                self.disk_boxes.append(box)
                layout.addWidget(box)
        else:
            layout.addWidget(QLabel("It has no disk images."))
        layout.addSpacing(8)
        buttons, self.ok = accept_buttons(self, "Delete")
        layout.addWidget(buttons)
        for box in self.disk_boxes:
            box.toggled.connect(self._update)

    def chosen_disks(self) -> list[str]:
        return [str(b.property("path")) for b in self.disk_boxes if b.isChecked()]

    def _update(self) -> None:
        n = len(self.chosen_disks())
        self.ok.setText(f"Delete VM and {n} disk{'s' if n > 1 else ''}" if n else "Delete")


def ask_delete(parent: QWidget | None, vm: str, disks: Sequence[str]) -> list[str] | None:
    """None when cancelled, else the disk images to delete with the VM (maybe none)."""
    dialog = DeleteDialog(vm, disks, parent)
    return dialog.chosen_disks() if dialog.exec() == QDialog.DialogCode.Accepted else None


class When(str, Enum):
    NOW = "now and at next start"
    NEXT_START = "at next start"


class HotplugDialog(QDialog):
    """A running VM: plug the device in now (and keep it in the definition) or at the next start."""

    def __init__(self, vm: str, what: str, removing: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        verb = "Take" if removing else "Pass"
        self.setWindowTitle(f"{verb} {what}")
        layout = QVBoxLayout(self)
        layout.addWidget(
            _label(
                f"<p>“{escape(vm)}” is running. {verb} {escape(what)} {'off' if removing else 'to'} it:</p>"
            )
        )
        self.now = QRadioButton("Now and at the next start (hot-plug; the guest must accept it)")
        self.later = QRadioButton("At the next start only")
        self.now.setChecked(True)
        layout.addWidget(self.now)
        layout.addWidget(self.later)
        buttons, self.ok = accept_buttons(self, "Continue")
        layout.addWidget(buttons)

    def when(self) -> When:
        return When.NOW if self.now.isChecked() else When.NEXT_START


def ask_when(parent: QWidget | None, vm: str, what: str, removing: bool = False) -> When | None:
    dialog = HotplugDialog(vm, what, removing, parent)
    return dialog.when() if dialog.exec() == QDialog.DialogCode.Accepted else None


def show_viewer_missing(parent: QWidget | None, command: str) -> None:
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setWindowTitle("No console viewer")
    box.setIcon(QMessageBox.Icon.Information)
    box.setText("Opening a VM's screen needs virt-viewer, which is not installed.")
    box.setInformativeText(f"Install it with:\n\n{command}")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.exec()
