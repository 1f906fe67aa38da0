"""The wizard's first page: what kind of guest, its name (checked against the connection's VMs as
you type), memory and vCPUs (checked against the host), firmware."""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QWizardPage

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.vm.newvm import VmSpec, spec_problems

# name: (UEFI, secure boot, TPM, Hyper-V enlightenments, subtitle)
PRESETS = {
    "Windows 11": (True, True, True, True, "Windows 11 needs UEFI, Secure Boot and a TPM 2.0: all on."),
    "Windows 10": (True, False, False, True, "UEFI with Hyper-V enlightenments (faster Windows guests)."),
    "Linux": (True, False, False, False, "UEFI; Secure Boot only if your distribution signs its kernel."),
    "Other": (False, False, False, False, "Legacy BIOS, nothing else assumed."),
}


def host_memory_mib(host: HostModel | None) -> int | None:
    nodes = host.topology.numa_nodes if host is not None else ()
    sizes = [n.memory_mib for n in nodes]
    return sum(s for s in sizes if s is not None) if sizes and None not in sizes else None


def resource_notes(host: HostModel | None, memory_mib: int, vcpus: int) -> tuple[list[str], list[str]]:
    """(problems that stop the wizard, warnings it shows) for the memory and vCPUs asked for."""
    problems: list[str] = []
    warnings: list[str] = []
    total = host_memory_mib(host)
    if total is not None and memory_mib > total:
        problems.append(
            f"{memory_mib / 1024:.0f} GiB is more memory than the host has ({total / 1024:.0f} GiB)."
        )
    elif total is not None and memory_mib > total - 2048:
        warnings.append(
            f"The host keeps less than 2 GiB of its {total / 1024:.0f} GiB: it may start swapping."
        )
    cpus = len(host.topology.cpus) if host is not None else 0
    if cpus and vcpus > cpus:
        warnings.append(f"{vcpus} vCPUs on {cpus} host CPUs: the guest will be slower, not faster.")
    elif cpus and vcpus == cpus:
        warnings.append("Every host CPU goes to the guest: pinning keeps one core for the host.")
    return problems, warnings


class BasicsPage(QWizardPage):
    def __init__(self, host: HostModel | None, existing: Collection[str] = ()) -> None:
        super().__init__()
        self.host = host
        self.existing = set(existing)
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
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b71c1c")
        form.addRow(self.problem)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #8a5300")
        form.addRow(self.warning)
        self.preset.currentTextChanged.connect(self.apply_preset)
        for signal in (self.name.textChanged, self.memory.valueChanged, self.vcpus.valueChanged):
            signal.connect(lambda *_a: self.completeChanged.emit())
        self.uefi.toggled.connect(lambda _on: self.completeChanged.emit())
        self.apply_preset(self.preset.currentText())

    def apply_preset(self, name: str) -> None:
        uefi, secure_boot, tpm, hyperv, subtitle = PRESETS[name]
        self.uefi.setChecked(uefi)
        self.secure_boot.setEnabled(uefi)
        self.secure_boot.setChecked(secure_boot)
        self.tpm.setChecked(tpm)
        self.hyperv.setChecked(hyperv)
        self.setSubTitle(f"A q35 machine. {subtitle}")

    @property
    def is_windows(self) -> bool:
        return self.preset.currentText().startswith("Windows")

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

    def problems(self) -> list[str]:
        spec = self.spec()
        problems = spec_problems(spec)
        if spec.name in self.existing:
            problems.insert(
                0, f"A VM named “{spec.name}” already exists on this connection: pick another name."
            )
        stop, _warnings = resource_notes(self.host, spec.memory_mib, spec.vcpus)
        return problems + stop

    def isComplete(self) -> bool:  # noqa: N802
        problems = self.problems()
        self.problem.setText(problems[0] if problems else "")
        _stop, warnings = resource_notes(self.host, self.memory.value(), self.vcpus.value())
        self.warning.setText("\n".join(f"⚠ {w}" for w in warnings))
        return not problems
