"""The new-VM wizard: basics, storage, devices, pinning, then the XML to define.

Choices become a ``NewVmSpec``; ``core/vm/newdomain.py`` turns it into XML and
``core/plan/pinning.py`` plans the pinning from the host topology. The define (with libvirt's
schema validation) runs on a worker; a refusal is shown in words and the wizard stays open.
"""

from __future__ import annotations

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
from vfiodeck.core.plan.pinning import PinningPlan, plan_pinning
from vfiodeck.core.vm.assignment import label, slot_functions
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.newdomain import NewVmSpec, build_domain_xml, spec_problems
from vfiodeck.gui.vms import errors
from vfiodeck.gui.vms.workers import JobRunner

HIDE_WHY = (
    "Older NVIDIA drivers (before 465) stop with “Code 43” when they see a hypervisor; hiding it "
    "(KVM hidden, a Hyper-V vendor id) lets them load. Newer drivers don't need it."
)


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
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b71c1c")
        form.addRow(self.problem)
        self.name.textChanged.connect(lambda _t: self.completeChanged.emit())

    def isComplete(self) -> bool:  # noqa: N802
        problems = spec_problems(NewVmSpec(self.name.text(), self.memory.value(), self.vcpus.value()))
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
            return self.new_path.text().strip() or None, self.disk_size.value()
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
            item = QListWidgetItem(f"{label(host, cand.device)}  — {cand.kind.value}, {how}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setToolTip(cand.verdict)
            self.list.addItem(item)
        if not self.candidates:
            layout.addWidget(QLabel("No passthrough candidates on this host."))
        layout.addWidget(self.list)
        self.hide_hv = QCheckBox("Hide the hypervisor from the guest (NVIDIA)")
        why = QLabel(HIDE_WHY)
        why.setWordWrap(True)
        layout.addWidget(self.hide_hv)
        layout.addWidget(why)
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
        if self.host is None:
            return ()
        functions = [a for c in self.chosen() for a in (*c.functions, *c.blockers)]
        return tuple(slot_functions(self.host, functions))

    def _changed(self, _item: QListWidgetItem) -> None:
        nvidia = any(
            (dev := self.host.device(c.device)) is not None and dev.vendor_id == "10de"
            for c in self.chosen()
            if self.host is not None
        )
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
        reasons = "".join(f"<li>{r}</li>" for r in self.plan.reasons)
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
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b71c1c")
        layout.addWidget(self.error)

    def initializePage(self) -> None:  # noqa: N802
        wizard = self.wizard()
        if isinstance(wizard, NewVmWizard):
            self.xml.setPlainText(build_domain_xml(wizard.spec()))
            self.error.clear()


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

    def spec(self) -> NewVmSpec:
        path, _size = self.storage.disk()
        fmt = "qcow2" if path is None or path.endswith(".qcow2") else "raw"
        return NewVmSpec(
            name=self.basics.name.text().strip(),
            memory_mib=self.basics.memory.value(),
            vcpus=self.basics.vcpus.value(),
            uefi=self.basics.uefi.isChecked(),
            secure_boot=self.basics.uefi.isChecked() and self.basics.secure_boot.isChecked(),
            tpm=self.basics.tpm.isChecked(),
            hyperv=self.basics.hyperv.isChecked(),
            disk_path=path,
            disk_format=fmt,
            iso_path=self.storage.iso.text().strip() or None,
            devices=self.devices.addresses(),
            pinning=self.pinning.plan,
            hugepages=self.pinning.hugepages.isChecked(),
            hide_hypervisor=self.devices.hide_hv.isChecked(),
        )

    def accept(self) -> None:
        """Define on a worker; close only when libvirt took it."""
        if self._defining:
            return
        xml = self.review.xml.toPlainText() or build_domain_xml(self.spec())
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


def create_volume(hv: Hypervisor, path: str, size_gib: int) -> None:
    """A new qcow2 volume at ``path`` in the libvirt storage pool whose directory holds it."""
    import libvirt
    from lxml import etree

    from vfiodeck.core.vm.errors import VmError, translate

    folder, name = os.path.split(path)
    try:
        for pool in hv.conn.listAllStoragePools(0):
            target = etree.fromstring(pool.XMLDesc(0).encode()).findtext("target/path")
            if target and os.path.normpath(target) == os.path.normpath(folder):
                vol = (
                    f"<volume><name>{name}</name><capacity unit='GiB'>{size_gib}</capacity>"
                    "<target><format type='qcow2'/></target></volume>"
                )
                pool.createXML(vol, 0)
                return
    except libvirt.libvirtError as err:
        raise translate(err) from err
    raise VmError(
        f"No libvirt storage pool holds {folder}: create the image yourself (qemu-img create -f qcow2 "
        f"{path} {size_gib}G) and choose “Existing image”, or pick a folder of a pool."
    )
