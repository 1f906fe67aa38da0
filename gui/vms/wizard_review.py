"""The wizard's last page: what the VM will be, in sentences (``NewVmPlan.summary``: devices, the
blockers taken, pinning, memory per node, disk) and what to check (its notes), with libvirt's XML
one click away."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QLabel, QPlainTextEdit, QPushButton, QTextBrowser, QVBoxLayout, QWizardPage

from vfiodeck.core.plan.assign import NoteKind
from vfiodeck.core.plan.newvm import NewVmPlan

_QUIET = {NoteKind.ALREADY_PASSED}


def summary_html(plan: NewVmPlan, connection: str, pool: str | None) -> str:
    rows = [*plan.summary[:1], ("Connection", connection), *plan.summary[1:]]
    if pool:
        rows.append(("Storage pool", f"“{pool}” is created first for the image's folder"))
    cells = "".join(
        f"<tr><td style='padding:3px 14px 3px 0'><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>"
        for k, v in rows
    )
    notes = [n for n in plan.notes if n.kind not in _QUIET]
    items = "".join(f"<li>{escape(n.text)}</li>" for n in notes)
    warn = (
        f"<p style='color:#8a5300'><b>Good to know before you finish:</b></p><ul>{items}</ul>"
        if items
        else ""
    )
    return f"<table cellspacing='0'>{cells}</table>{warn}"


class ReviewPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Review")
        self.setSubTitle(
            "Finish creates the disk, then defines the VM (libvirt checks the definition first)."
        )
        layout = QVBoxLayout(self)
        self.summary = QTextBrowser()
        self.summary.setOpenLinks(False)
        layout.addWidget(self.summary, 1)
        self.show_xml = QPushButton("Show the XML")
        self.show_xml.setCheckable(True)
        self.show_xml.setAutoDefault(False)
        layout.addWidget(self.show_xml)
        self.xml = QPlainTextEdit()
        self.xml.setReadOnly(True)
        self.xml.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.xml.hide()
        layout.addWidget(self.xml, 2)
        self.show_xml.toggled.connect(self._toggle_xml)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b71c1c")
        layout.addWidget(self.error)

    def _toggle_xml(self, on: bool) -> None:
        self.xml.setVisible(on)
        self.show_xml.setText("Hide the XML" if on else "Show the XML")

    def set_plan(self, plan: NewVmPlan, connection: str, pool: str | None) -> None:
        self.summary.setHtml(summary_html(plan, connection, pool))
        self.xml.setPlainText(plan.xml)
        self.error.setText(" ".join(plan.problems))
