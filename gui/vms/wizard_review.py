"""The wizard's last page: what the VM will be, in sentences (``NewVmPlan.summary``: devices, the
blockers taken, pinning, memory per node, disk) and what to check (its notes), with libvirt's XML
one click away."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QPlainTextEdit, QPushButton, QTextBrowser, QVBoxLayout, QWizardPage

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.plan.assign import Note, NoteKind
from vfiodeck.core.plan.newvm import NewVmPlan
from vfiodeck.core.text import mib_text
from vfiodeck.gui.plain import plain_label

_QUIET = {NoteKind.ALREADY_PASSED}


def _memory_on_node(plan: NewVmPlan, host: HostModel | None) -> str | None:
    """ "16 GiB of node 0's 47 GiB": where the pinned VM's memory lives."""
    node_id = plan.pinning.node if plan.pinning is not None else None
    nodes = {n.id: n for n in host.topology.numa_nodes} if host is not None else {}
    node = nodes.get(node_id) if node_id is not None else None
    if node is None or not node.memory_mib:
        return None
    return f"{mib_text(plan.spec.memory_mib)} of node {node.id}'s {mib_text(node.memory_mib)}"


def _note_text(note: Note) -> str:
    if note.kind is NoteKind.HIDE_HYPERVISOR:
        done = "The hypervisor is hidden from the guest" if note.applied else "The hypervisor is not hidden"
        return f"{done}: {note.text}"
    return note.text


def summary_html(plan: NewVmPlan, connection: str, pool: str | None, host: HostModel | None = None) -> str:
    rows: list[tuple[str, str]] = []
    for key, value in plan.summary:
        rows.append((key, value))
        if key == "Name":
            rows.append(("Connection", connection))
        elif key == "Memory" and (on_node := _memory_on_node(plan, host)):
            rows.append(("Memory per node", on_node))
        elif key == "Disk" and pool:
            rows.append(("Storage pool", f"“{pool}” is created first, for the image's folder"))
    cell = "<tr><td style='padding:3px 16px 3px 0'><b>{}</b></td><td style='padding:3px 0'>{}</td></tr>"
    cells = "".join(cell.format(escape(k), escape(v)) for k, v in rows)
    items = "".join(f"<li>{escape(_note_text(n))}</li>" for n in plan.notes if n.kind not in _QUIET)
    head = "<p style='color:#8a5300'><b>Good to know before you finish:</b></p>"
    warn = f"{head}<ul>{items}</ul>" if items else ""
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
        self.error = plain_label()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b71c1c")
        layout.addWidget(self.error)

    def _toggle_xml(self, on: bool) -> None:
        self.xml.setVisible(on)
        self.show_xml.setText("Hide the XML" if on else "Show the XML")

    def set_plan(self, plan: NewVmPlan, connection: str, pool: str | None, host: HostModel | None) -> None:
        self.summary.setHtml(summary_html(plan, connection, pool, host))
        self.xml.setPlainText(plan.xml)
        self.error.setText(" ".join(plan.problems))
