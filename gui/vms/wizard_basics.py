"""The wizard's first page: what kind of guest, its name (checked against the connection's VMs as
you type), memory and vCPUs (checked against the host by ``plan_new_vm``), firmware."""

from __future__ import annotations

from collections.abc import Callable, Collection

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLineEdit, QSpinBox, QWizardPage

from vfiodeck.gui.plain import plain_label

# label: (core preset, UEFI, Secure Boot, TPM, Hyper-V, subtitle)
PRESETS = {
    "Windows 11": ("windows11", True, True, True, True, "Windows 11 needs UEFI, Secure Boot and a TPM 2.0."),
    "Linux or other": ("linux", True, False, False, False, "UEFI; Secure Boot if your distribution signs."),
}


class BasicsPage(QWizardPage):
    def __init__(self, existing: Collection[str] = ()) -> None:
        super().__init__()
        self.existing = set(existing)
        self.problems: Callable[[], list[str]] = lambda: []  # the wizard's plan says what is wrong
        self.setTitle("The VM")
        form = QFormLayout(self)
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.name = QLineEdit("win11")
        self.memory = QSpinBox()
        self.memory.setRange(256, 16 * 1024 * 1024)
        self.memory.setSingleStep(1024)
        self.memory.setSuffix(" MiB")
        self.memory.setValue(8192)
        self.vcpus = QSpinBox()
        self.vcpus.setRange(1, 1024)
        self.vcpus.setValue(4)
        self.uefi = QCheckBox("UEFI firmware (OVMF, found through QEMU's firmware descriptors)")
        self.secure_boot = QCheckBox("Secure Boot")
        self.uefi.toggled.connect(self.secure_boot.setEnabled)
        self.tpm = QCheckBox("Emulated TPM 2.0 (swtpm)")
        self.hyperv = QCheckBox("Hyper-V enlightenments (faster Windows guests)")
        form.addRow("Guest:", self.preset)
        form.addRow("Name:", self.name)
        form.addRow("Memory:", self.memory)
        form.addRow("vCPUs:", self.vcpus)
        form.addRow("Firmware:", self.uefi)
        for box in (self.secure_boot, self.tpm, self.hyperv):
            form.addRow("", box)
        self.problem = plain_label()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b71c1c")
        form.addRow(self.problem)
        self.preset.currentTextChanged.connect(self.apply_preset)
        for signal in (self.name.textChanged, self.memory.valueChanged, self.vcpus.valueChanged):
            signal.connect(lambda *_a: self.completeChanged.emit())
        self.uefi.toggled.connect(lambda _on: self.completeChanged.emit())
        self.apply_preset(self.preset.currentText())

    def apply_preset(self, label: str) -> None:
        _preset, uefi, secure_boot, tpm, hyperv, subtitle = PRESETS[label]
        self.uefi.setChecked(uefi)
        self.secure_boot.setEnabled(uefi)
        self.secure_boot.setChecked(secure_boot)
        self.tpm.setChecked(tpm)
        self.hyperv.setChecked(hyperv)
        self.setSubTitle(f"A q35 machine. {subtitle}")

    @property
    def preset_key(self) -> str:
        return PRESETS[self.preset.currentText()][0]

    @property
    def is_windows(self) -> bool:
        return self.preset_key == "windows11"

    def name_problem(self) -> str:
        name = self.name.text().strip()
        return (
            f"A VM named “{name}” already exists on this connection: pick another name."
            if name in self.existing
            else ""
        )

    def isComplete(self) -> bool:  # noqa: N802
        problems = [p for p in [self.name_problem(), *self.problems()] if p]
        self.problem.setText(problems[0] if problems else "")
        return not problems
