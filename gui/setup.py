"""The guided setup for one candidate: what blocks it, the plan as per-file diffs and commands,
applying it (through pkexec on this computer) with progress, and the reboot that finishes it.

The dialog only shows values and forwards intents: the plan, the apply and the persisted
"reboot to finish" state are core/hostchanges; every one of them runs on a worker."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from vfiodeck.core.host.candidates import candidate_for
from vfiodeck.core.hostchanges import pending
from vfiodeck.core.hostchanges.apply import Applied, apply
from vfiodeck.core.hostchanges.files import RootFiles
from vfiodeck.core.hostchanges.model import Plan
from vfiodeck.core.hostchanges.planner import Request, iommu_params, make_plan
from vfiodeck.core.text import device_name, short_address
from vfiodeck.gui.jobs import Jobs
from vfiodeck.gui.loading import LoadedHost


class _Progress(QObject):
    message = Signal(str)  # emitted from the worker, delivered on the GUI thread


def blockers_html(loaded: LoadedHost, address: str) -> str:
    """Step 1: the readiness blockers for this candidate, in words."""
    host = loaded.host
    candidate = candidate_for(host, address)
    if candidate is None:
        return f"<p>{escape(short_address(address))} is not a passthrough candidate.</p>"
    items = []
    if not host.iommu.enabled:
        items.append("The IOMMU is off: the plan below adds the kernel parameters; a reboot turns it on.")
    for blocker in candidate.blockers:
        dev = host.device(blocker)
        name = device_name(dev) if dev is not None else "unknown device"
        items.append(f"{short_address(blocker)} {name} shares its IOMMU group: it must be passed too.")
    for use in candidate.host_uses:
        items.append(f"The running host uses {short_address(use.address)} ({use.what.value}: {use.detail}).")
    items += _readiness_items(loaded, candidate.device)
    verdict = f"<p>{escape(candidate.verdict)}</p>"
    if not items:
        return verdict + "<p><b>Nothing blocks it.</b></p>"
    return verdict + "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def _readiness_items(loaded: LoadedHost, device: str) -> list[str]:
    """The failing host checks, and this device's failing or doubtful readiness items."""
    from vfiodeck.core.checks.model import Status

    readiness = loaded.readiness
    if readiness is None:
        return []
    items = [f"{c.title}: {c.fix or c.evidence}" for c in readiness.checks if c.status is Status.FAIL]
    for row in readiness.devices:
        if row.address == device:
            items += [f"{i.aspect}: {i.text}" for i in row.items if i.status in (Status.FAIL, Status.WARN)]
    return items


class SetupDialog(QDialog):
    """Set up passthrough for one candidate (its whole unit of functions)."""

    applied = Signal(object)  # pending.Pending

    def __init__(self, loaded: LoadedHost, address: str, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("setupDialog")
        self.loaded, self.address, self.jobs = loaded, address, jobs
        self.plan: Plan | None = None
        self._running = False
        dev = loaded.host.device(address)
        name = device_name(dev) if dev is not None else short_address(address)
        self.setWindowTitle(f"Set up passthrough: {name}")
        self.resize(1180, 640)

        self.blockers = QLabel(blockers_html(loaded, address))
        self.blockers.setWordWrap(True)
        self.iommu = QCheckBox("Add the IOMMU kernel parameters (intel_iommu=on where needed, iommu=pt)")
        self.iommu.setChecked(True)
        self.iommu.toggled.connect(self.replan)
        self.summary = QLabel("Planning…")
        self.summary.setWordWrap(True)
        self.files = QListWidget()
        self.files.setAccessibleName("Files the plan changes")
        self.files.currentRowChanged.connect(self._show_diff)
        self.diff = QPlainTextEdit()
        self.diff.setReadOnly(True)
        self.diff.setAccessibleName("Diff of the selected file")
        self.diff.setFont(QFont("monospace"))
        self.diff.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.files)
        split.addWidget(self.diff)
        split.setSizes([300, 880])
        self.commands = QLabel("")
        self.commands.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.start_apply)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>1. What stands in the way</b>"))
        layout.addWidget(self.blockers)
        layout.addWidget(QLabel("<b>2. The plan</b>"))
        layout.addWidget(self.iommu)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        layout.addWidget(self.commands)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.apply_button)
        layout.addLayout(buttons)
        self.replan()

    # -- the plan, made on a worker ------------------------------------------------------------
    def replan(self) -> None:
        self.apply_button.setEnabled(False)
        self.summary.setText("Planning…")
        root, host, request = (
            self.loaded.root,
            self.loaded.host,
            Request(iommu=self.iommu.isChecked(), bind=(self.address,)),
        )

        def work() -> Plan:
            return make_plan(root.label, RootFiles(root.path), host, request, live=root.live)

        self.jobs.start(work, self.show_plan, self._failed)

    def show_plan(self, plan: Plan) -> None:
        self.plan = plan
        boot = f"Boot loader: {plan.bootloader.kind}"
        if plan.bootloader.evidence:
            boot += f" ({', '.join(plan.bootloader.evidence)})"
        init = f" · initramfs: {plan.initramfs.kind}" if plan.initramfs else ""
        lines = [escape(boot + init)] + [escape(n) for n in plan.notes]
        lines += [f"<span style='color:#c62828'>Refused: {escape(r.reason)}</span>" for r in plan.refused]
        if plan.empty and not plan.refused:
            lines.append("<b>Nothing to change: this host is already set up for it.</b>")
        self.summary.setText("<br>".join(lines))
        self.files.clear()
        for change in plan.changes:
            self.files.addItem(f"{change.action.value}: {change.path}")
        self.diff.setPlainText("")
        if plan.changes:
            self.files.setCurrentRow(0)
        runs = [" ".join(c) for c in plan.commands]
        where = "" if self.loaded.root.live else " (shown only: this is not the running host)"
        text = f"Then runs{where}: " + "; ".join(runs) if runs else ""
        if plan.reboot and not plan.refused:
            text += ("<br>" if text else "") + "A reboot finishes the setup."
        self.commands.setText(text)
        self.apply_button.setEnabled(not plan.refused and not plan.empty)

    def _show_diff(self, row: int) -> None:
        if self.plan is not None and 0 <= row < len(self.plan.changes):
            self.diff.setPlainText(self.plan.changes[row].diff())

    # -- applying ------------------------------------------------------------------------------
    def start_apply(self) -> None:
        if self.plan is None or self._running:
            return
        self._running = True
        plan, root = self.plan, self.loaded.root
        self.apply_button.setEnabled(False)
        self.iommu.setEnabled(False)
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("The files are being written; History can undo the change afterwards.")
        self.progress.show()
        progress = _Progress(self)
        progress.message.connect(self.status.setText)
        summary = f"Set up passthrough for {self.address}"

        def work() -> Applied:
            return apply(root, plan, summary, progress.message.emit)

        self.jobs.start(work, self._applied, self._failed)

    def _applied(self, done: Applied) -> None:
        self._running = False
        self.progress.hide()
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Close")
        candidate = candidate_for(self.loaded.host, self.address)
        files = RootFiles(self.loaded.root.path)
        params = iommu_params(files, self.loaded.host) if self.iommu.isChecked() else []
        state = pending.Pending(
            root=self.loaded.root.label,
            address=self.address,
            functions=candidate.functions if candidate else (self.address,),
            params=tuple(params),
            boot_id=pending.boot_id(files),
            entry=done.entry,
        )
        self.status.setText(
            f"Written (journal entry {done.entry or '—'}). "
            "Reboot to finish; VFIO Deck checks the result then."
        )
        self.applied.emit(state)

    def _failed(self, exc: BaseException) -> None:
        self._running = False
        self.progress.hide()
        self.cancel_button.setEnabled(True)
        self.iommu.setEnabled(True)
        self.status.setText(f"<span style='color:#c62828'>{escape(str(exc))}</span>")
        self.apply_button.setEnabled(self.plan is not None and not self.plan.refused and not self.plan.empty)


def banner_text(state: pending.Pending, loaded: LoadedHost | None) -> tuple[str, bool]:
    """The banner's words, and whether the setup is complete (offer "Create a VM with it")."""
    where = short_address(state.address)
    if loaded is None or loaded.root.label != state.root:
        return f"Setting up {where} for passthrough: reboot {state.root} to finish.", False
    if not pending.rebooted(state, RootFiles(loaded.root.path)):
        return f"Reboot to finish setting up {where} for passthrough.", False
    problems = pending.verify(state, loaded.host)
    if problems:
        return f"After the reboot, {where} is not ready: " + "; ".join(problems) + ".", False
    return f"{where} is on vfio-pci and the IOMMU parameters are in use: ready to pass through.", True


class SetupBanner(QWidget):
    """ "Reboot to finish", shown until the check after the reboot passes or the user dismisses it."""

    create_vm = Signal(list)  # the functions' addresses

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("setupBanner")
        self.state: pending.Pending | None = None
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.vm_button = QPushButton("Create a VM with it…")
        self.vm_button.clicked.connect(
            lambda: self.create_vm.emit(list(self.state.functions) if self.state else [])
        )
        dismiss = QPushButton("Dismiss")
        dismiss.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.vm_button)
        layout.addWidget(dismiss)
        self.setStyleSheet("#setupBanner { background: #fff8e1; border: 1px solid #ffb300; }")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.hide()

    def show_state(self, state: pending.Pending | None, loaded: LoadedHost | None) -> None:
        self.state = state
        if state is None:
            self.hide()
            return
        text, ready = banner_text(state, loaded)
        self.label.setText(text)
        self.vm_button.setVisible(ready)
        self.show()

    def dismiss(self) -> None:
        pending.clear()
        self.show_state(None, None)
