"""The new-VM wizard: basics, storage, devices, pinning, then the XML to define.

Choices become a ``VmSpec``; ``core/vm/newvm.py`` checks it (``spec_problems``) and turns it into
XML, ``core/plan/assign.py`` says which devices go together and when to hide the hypervisor, and
``core/plan/pinning.py`` plans the pinning from the host topology. The define (with libvirt's
schema validation) runs on a worker; a refusal is shown in words and the wizard stays open.
"""

from __future__ import annotations

import dataclasses
import html
import os
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from vfiodeck.core.host.candidates import find_candidates
from vfiodeck.core.host.model import Candidate, HostModel
from vfiodeck.core.plan.assign import HIDE_HYPERVISOR_WHY, functions_and_blockers, is_nvidia_consumer_gpu
from vfiodeck.core.plan.pinning import PinningPlan, apply_pinning, plan_pinning
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.domainxml import DomainXml
from vfiodeck.core.vm.newvm import DiskSpec, VmSpec, build_domain_xml, spec_problems
from vfiodeck.core.vm.storage import create_volume
from vfiodeck.gui.plain import plain_label, plain_tooltip
from vfiodeck.gui.vms import errors
from vfiodeck.gui.vms.domain_model import device_label
from vfiodeck.gui.vms.workers import JobRunner


def _path_row(edit: QLineEdit, title: str, directory: bool = False) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    browse = QPushButton("Browse…")

    def pick() -> None:
        path, _ = QFileDialog.getOpenFileName(row, title, edit.text() or str(Path.home()))
        if path:
            edit.setText(path)

    browse.clicked.connect(pick)
    layout.addWidget(browse)
    return row


class BasicsPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("The VM")
        self.setSubTitle("A q35 machine. Windows 11 needs UEFI, secure boot and a TPM.")
        form = QFormLayout(self)
        self.name = QLineEdit("win11")
        self.memory = QSpinBox()
        self.memory.setRange(256, 1024 * 1024)
        self.memory.setSingleStep(1024)
        self.memory.setSuffix(" MiB")
        self.memory.setValue(8192)
        self.vcpus = QSpinBox()
        self.vcpus.setRange(1, 512)
        self.vcpus.setValue(4)
        self.uefi = QCheckBox("UEFI firmware (OVMF, found through QEMU's firmware descriptors)")
        self.uefi.setChecked(True)
        self.secure_boot = QCheckBox("Secure boot")
        self.uefi.toggled.connect(self.secure_boot.setEnabled)
        self.tpm = QCheckBox("Emulated TPM 2.0 (swtpm)")
        self.hyperv = QCheckBox("Hyper-V enlightenments (faster Windows guests)")
        self.hyperv.setChecked(True)
        form.addRow("Name:", self.name)
        form.addRow("Memory:", self.memory)
        form.addRow("vCPUs:", self.vcpus)
        form.addRow("Firmware:", self.uefi)
        form.addRow("", self.secure_boot)
        form.addRow("", self.tpm)
        form.addRow("", self.hyperv)
        self.problem = plain_label()
        self.problem.setStyleSheet("color: #b71c1c")
        form.addRow(self.problem)
        self.name.textChanged.connect(lambda _t: self.completeChanged.emit())
        self.uefi.toggled.connect(lambda _on: self.completeChanged.emit())

    def spec(self) -> VmSpec:
        """This page's part of the VM (the others add theirs in ``NewVmWizard.spec``)."""
        uefi = self.uefi.isChecked()
        return VmSpec(
            name=self.name.text().strip(),
            memory_mib=self.memory.value(),
            vcpus=self.vcpus.value(),
            firmware="efi" if uefi else "bios",
            secure_boot=uefi and self.secure_boot.isChecked(),
            tpm=self.tpm.isChecked(),
            hyperv=self.hyperv.isChecked(),
        )

    def isComplete(self) -> bool:  # noqa: N802
        problems = spec_problems(self.spec())
        self.problem.setText(problems[0] if problems else "")
        return not problems


class StoragePage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Storage")
        self.setSubTitle("A new qcow2 image in a libvirt storage pool, or an image or block device you have.")
        form = QFormLayout(self)
        self.kind = QButtonGroup(self)
        self.new = QRadioButton("New qcow2 image")
        self.existing = QRadioButton("Existing image or block device")
        self.none = QRadioButton("No disk for now")
        for i, button in enumerate((self.new, self.existing, self.none)):
            self.kind.addButton(button, i)
        self.new.setChecked(True)
        self.new_path = QLineEdit("/var/lib/libvirt/images/win11.qcow2")
        self.disk_size = QSpinBox()
        self.disk_size.setRange(1, 65536)
        self.disk_size.setValue(128)
        self.disk_size.setSuffix(" GiB")
        self.existing_path = QLineEdit()
        self.existing_path.setPlaceholderText("/dev/disk/by-id/nvme-… or /path/to/image.qcow2")
        self.iso = QLineEdit()
        self.iso.setPlaceholderText("/path/to/Win11.iso (optional)")
        form.addRow(self.new)
        form.addRow("Path:", self.new_path)
        form.addRow("Size:", self.disk_size)
        form.addRow(self.existing)
        form.addRow("Image:", _path_row(self.existing_path, "Disk image"))
        form.addRow(self.none)
        form.addRow("Installer ISO:", _path_row(self.iso, "Installer ISO"))

    def disk(self) -> tuple[str | None, int | None]:
        """(path, size in GiB to create, or None for an existing one)."""
        if self.new.isChecked():
            path = self.new_path.text().strip()
            if path and not path.endswith(".qcow2"):
                path += ".qcow2"  # the volume new_volume_xml makes is named so
            return path or None, self.disk_size.value()
        if self.existing.isChecked():
            return self.existing_path.text().strip() or None, None
        return None, None


class DevicesPage(QWizardPage):
    def __init__(self, host: HostModel | None) -> None:
        super().__init__()
        self.setTitle("Devices to pass")
        self.setSubTitle(
            "Every function of a card goes with it; a card in a shared IOMMU group takes the group."
        )
        self.host = host
        layout = QVBoxLayout(self)
        self.list = QListWidget()
        self.candidates: list[Candidate] = list(find_candidates(host)) if host is not None else []
        for cand in self.candidates:
            assert host is not None  # candidates exist only for a host
            how = "alone" if cand.isolated else f"with {len(cand.blockers)} blocker(s)"
            item = QListWidgetItem(f"{device_label(host, cand.device)}  — {cand.kind.value}, {how}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setToolTip(plain_tooltip(cand.verdict))
            self.list.addItem(item)
        if not self.candidates:
            layout.addWidget(QLabel("No passthrough candidates on this host."))
        layout.addWidget(self.list)
        self.hide_hv = QCheckBox("Hide the hypervisor from the guest (NVIDIA)")
        self.hide_why = QLabel(HIDE_HYPERVISOR_WHY)
        self.hide_why.setWordWrap(True)
        layout.addWidget(self.hide_hv)
        layout.addWidget(self.hide_why)
        self.list.itemChanged.connect(self._changed)

    def chosen(self) -> list[Candidate]:
        return [
            c
            for i, c in enumerate(self.candidates)
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        ]

    def set_checked(self, address: str, checked: bool = True) -> None:
        for i, cand in enumerate(self.candidates):
            if address in cand.functions:
                self.list.item(i).setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def addresses(self) -> tuple[str, ...]:
        """Every function of the chosen cards and of what shares their IOMMU groups (the list says
        "with N blocker(s)": a new VM takes them along, bridges excepted)."""
        if self.host is None:
            return ()
        chosen = [a for c in self.chosen() for a in c.functions]
        return functions_and_blockers(self.host, chosen, take_blockers=True)[0]

    def device_ids(self) -> tuple[tuple[str, str], ...]:
        if self.host is None:
            return ()
        devices = (self.host.device(a) for a in self.addresses())
        return tuple((d.address, d.ids) for d in devices if d is not None and d.ids is not None)

    def _changed(self, _item: QListWidgetItem) -> None:
        host = self.host
        nvidia = host is not None and any(is_nvidia_consumer_gpu(host.device(a)) for a in self.addresses())
        if nvidia and not self.hide_hv.isChecked():
            self.hide_hv.setChecked(True)


class PinningPage(QWizardPage):
    def __init__(self, host: HostModel | None) -> None:
        super().__init__()
        self.setTitle("CPU pinning and memory")
        self.setSubTitle("vCPUs on whole cores of one NUMA node near the device; the host keeps a core.")
        self.host = host
        layout = QVBoxLayout(self)
        self.pin = QCheckBox("Pin vCPUs from the host topology")
        self.pin.setChecked(host is not None and bool(host.topology.cpus))
        self.pin.setEnabled(host is not None and bool(host.topology.cpus))
        self.pin.toggled.connect(lambda _on: self.initializePage())
        layout.addWidget(self.pin)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.hugepages = QCheckBox("Back the memory with huge pages (reserved on the kernel command line)")
        layout.addWidget(self.hugepages)
        layout.addStretch(1)
        self.plan: PinningPlan | None = None

    def initializePage(self) -> None:  # noqa: N802
        wizard = self.wizard()
        if not isinstance(wizard, NewVmWizard) or self.host is None or not self.pin.isChecked():
            self.plan = None
            self.summary.setText("No pinning: the host's scheduler places the vCPUs.")
            return
        nodes = [d.numa_node for a in wizard.devices.addresses() if (d := self.host.device(a)) is not None]
        self.plan = plan_pinning(self.host.topology, wizard.basics.vcpus.value(), device_nodes=nodes)
        pins = ", ".join(f"vCPU {v}→CPU {c}" for v, c in enumerate(self.plan.vcpupin))
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in self.plan.reasons)
        self.summary.setText(f"<p><b>{pins or 'Nothing pinned'}</b></p><ul>{reasons}</ul>")


class ReviewPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Review")
        self.setSubTitle("This is the definition libvirt will get. Finish defines it (validated by libvirt).")
        layout = QVBoxLayout(self)
        self.xml = QPlainTextEdit()
        self.xml.setReadOnly(True)
        self.xml.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.xml)
        self.error = plain_label()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b71c1c")
        layout.addWidget(self.error)

    def initializePage(self) -> None:  # noqa: N802
        wizard = self.wizard()
        if isinstance(wizard, NewVmWizard):
            spec = wizard.spec()
            self.xml.setPlainText(wizard.xml(spec))
            self.error.setText(" ".join(spec_problems(spec)))


class NewVmWizard(QWizard):
    defined = Signal(str)

    def __init__(
        self, hv: Hypervisor, host: HostModel | None, runner: JobRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New passthrough VM")
        self.hv = hv
        self.runner = runner
        self.basics = BasicsPage()
        self.storage = StoragePage()
        self.devices = DevicesPage(host)
        self.pinning = PinningPage(host)
        self.review = ReviewPage()
        for page in (self.basics, self.storage, self.devices, self.pinning, self.review):
            self.addPage(page)
        self._defining = False
        self.resize(780, 620)

    def spec(self) -> VmSpec:
        path, _size = self.storage.disk()
        return dataclasses.replace(
            self.basics.spec(),
            disk=DiskSpec.for_path(path) if path else None,
            iso=self.storage.iso.text().strip() or None,
            hostdevs=self.devices.addresses(),
            hostdev_ids=self.devices.device_ids(),
            hugepages=self.pinning.hugepages.isChecked(),
            hide_hypervisor=self.devices.hide_hv.isChecked(),
        )

    def xml(self, spec: VmSpec) -> str:
        doc = DomainXml.parse(build_domain_xml(spec))
        if self.pinning.plan is not None:
            apply_pinning(doc, self.pinning.plan)
        return str(doc.to_string())

    def accept(self) -> None:
        """Define on a worker; close only when libvirt took it."""
        if self._defining:
            return
        spec = self.spec()
        problems = spec_problems(spec)
        if problems:  # e.g. a relative disk path typed on the storage page
            self.review.error.setText(" ".join(problems))
            return
        xml = self.review.xml.toPlainText() or self.xml(spec)
        path, size = self.storage.disk()
        name = self.basics.name.text().strip()
        self._defining = True
        self.button(QWizard.WizardButton.FinishButton).setEnabled(False)

        def work() -> str:
            if path is not None and size is not None and not os.path.exists(path):
                create_volume(self.hv, path, size)
            self.hv.define(xml, validate=True)
            return name

        self.runner.run(work, self._defined, self._failed)

    def _defined(self, name: object) -> None:
        self._defining = False
        self.defined.emit(str(name))
        super().accept()

    def _failed(self, err: BaseException) -> None:
        self._defining = False
        self.button(QWizard.WizardButton.FinishButton).setEnabled(True)
        summary, details = errors.describe(err)
        self.review.error.setText(f"Not defined: {summary}")
        errors.show_error(self, f"The VM was not defined: {summary}", details)
