"""Edit a VM's definition as XML (virt-manager's XML tab): the text, the diff of what you changed
under it, and Apply as a compare-and-swap, so an edit made meanwhile with ``virsh edit`` is refused
with its diff rather than overwritten."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QLabel, QPlainTextEdit, QSplitter, QVBoxLayout, QWidget

from vfiodeck.core.vm.domainxml import DomainXml, DomainXmlError, diff
from vfiodeck.core.vm.inventory import DomainRow
from vfiodeck.gui.plain import plain_label
from vfiodeck.gui.vms import dialogs

if TYPE_CHECKING:
    from vfiodeck.gui.vms.page import VmsPage


class EditDialog(QDialog):
    def __init__(self, vm: str, xml: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Edit {vm}")
        self.vm = vm
        self.original = xml
        layout = QVBoxLayout(self)
        note = QLabel(
            "The inactive definition (what the next start uses). Apply checks it with libvirt's schema; "
            "if the VM was changed elsewhere since it was read here, nothing is applied."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        split = QSplitter(Qt.Orientation.Vertical)
        self.text = QPlainTextEdit(xml)
        self.text.setFont(dialogs._mono())
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        split.addWidget(self.text)
        changes = QWidget()
        changes_layout = QVBoxLayout(changes)
        changes_layout.setContentsMargins(0, 4, 0, 0)
        changes_layout.addWidget(QLabel("Your changes (Ctrl+Return applies them):"))
        self.diff = QPlainTextEdit()
        self.diff.setReadOnly(True)
        self.diff.setFont(dialogs._mono())
        self.diff.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.diff.setPlaceholderText("No changes yet.")
        self._highlighter = dialogs.DiffHighlighter(self.diff.document())
        changes_layout.addWidget(self.diff)
        split.addWidget(changes)
        split.setSizes([380, 260])
        layout.addWidget(split, 1)
        self.problem = plain_label()
        self.problem.setStyleSheet("color: #b71c1c")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        buttons, self.apply_button = dialogs.accept_buttons(self, "Apply")
        self.apply_button.setDefault(False)  # Enter writes a new line in the editor; Ctrl+Return applies
        self.apply_button.setAutoDefault(False)
        self.apply_button.setToolTip("Ctrl+Return")
        QShortcut(QKeySequence("Ctrl+Return"), self, self._apply_if_ok)
        layout.addWidget(buttons)
        self._timer = QTimer(self, singleShot=True, interval=250)
        self._timer.timeout.connect(self.update_diff)
        self.text.textChanged.connect(self._timer.start)
        self.update_diff()
        self.resize(860, 720)

    def new_xml(self) -> str:
        return self.text.toPlainText()

    def update_diff(self) -> None:
        text = self.new_xml()
        self.diff.setPlainText(diff(self.original, text, f"{self.vm}.xml") if text != self.original else "")
        try:
            DomainXml.parse(text)
            self.problem.setText("")
        except DomainXmlError as err:
            self.problem.setText(str(err))
        self.apply_button.setEnabled(text != self.original and not self.problem.text())

    def _apply_if_ok(self) -> None:
        self.update_diff()
        if self.apply_button.isEnabled():
            self.accept()


def ask_edit(parent: QWidget | None, vm: str, xml: str) -> str | None:
    """The edited XML, or None when cancelled or unchanged."""
    dialog = EditDialog(vm, xml, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.new_xml() if dialog.new_xml() != xml else None


class Editing:
    def __init__(self, page: VmsPage) -> None:
        self.page = page

    def edit_selected(self) -> None:
        row = self.page.selected_row()
        if row is not None:
            self.edit(row)

    def edit(self, row: DomainRow) -> None:
        name = row.info.name
        self.page.run(
            row.uri,
            lambda hv: hv.inactive_xml(name),
            lambda xml: self._edited(row, str(xml)),
            f"Could not read “{name}”",
        )

    def _edited(self, row: DomainRow, old: str) -> None:
        new = ask_edit(self.page, row.info.name, old)
        if new is not None:
            self.page.undo_stack.define(row.uri, row.info.name, old, new, f"Edit {row.info.name}")
