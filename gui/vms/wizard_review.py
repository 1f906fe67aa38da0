"""The wizard's last page: what the VM will be, in sentences (devices, what their groups cost the
host, pinning, memory per NUMA node, disk), with libvirt's XML one click away."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from PySide6.QtWidgets import QLabel, QPlainTextEdit, QPushButton, QTextBrowser, QVBoxLayout, QWizardPage

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.vm.newvm import VmSpec
from vfiodeck.gui.vms.domain_model import device_label
from vfiodeck.gui.vms.wizard_storage import DiskChoice


@dataclass(frozen=True)
class Summary:
    spec: VmSpec
    disk: DiskChoice
    blockers: tuple[str, ...]
    warnings: tuple[str, ...]
    connection: str


def _gib(mib: int) -> str:
    return f"{mib / 1024:g} GiB" if mib >= 1024 else f"{mib} MiB"


def _firmware(spec: VmSpec) -> str:
    if spec.firmware != "efi":
        return "Legacy BIOS"
    parts = [
        "UEFI",
        "Secure Boot" if spec.secure_boot else "no Secure Boot",
        "TPM 2.0" if spec.tpm else "no TPM",
    ]
    return ", ".join(parts)


def _memory_per_node(host: HostModel | None, spec: VmSpec) -> str:
    plan = spec.pinning
    if plan is None or plan.node is None:
        return f"{_gib(spec.memory_mib)}, wherever the host places it"
    nodes = {n.id: n for n in host.topology.numa_nodes} if host is not None else {}
    node = nodes.get(plan.node)
    has = f" (the node has {_gib(node.memory_mib)})" if node is not None and node.memory_mib else ""
    pages = ", in huge pages" if spec.hugepages else ""
    return f"{_gib(spec.memory_mib)} on NUMA node {plan.node}{has}{pages}"


def summary_html(host: HostModel | None, s: Summary) -> str:
    spec = s.spec
    rows: list[tuple[str, str]] = [
        ("Name", escape(spec.name)),
        ("Connection", escape(s.connection)),
        ("Firmware", _firmware(spec) + (", Hyper-V enlightenments" if spec.hyperv else "")),
        ("vCPUs", str(spec.vcpus)),
        ("Memory", _memory_per_node(host, spec)),
    ]
    devices = [escape(device_label(host, a)) for a in spec.hostdevs if a not in s.blockers]
    rows.append(("Passed devices", "<br>".join(devices) or "none"))
    if s.blockers:
        taken = "<br>".join(escape(device_label(host, a)) for a in s.blockers)
        rows.append(("Also taken (shared IOMMU group)", f"<span style='color:#8a5300'>{taken}</span>"))
    if spec.hide_hypervisor:
        rows.append(("Hypervisor", "hidden from the guest (older NVIDIA drivers)"))
    if spec.pinning is not None:
        pins = ", ".join(f"{v}→{c}" for v, c in enumerate(spec.pinning.vcpupin))
        host_keeps = ", ".join(map(str, spec.pinning.host_cpus)) or "—"
        rows.append(("Pinning (vCPU→CPU)", f"{pins}<br>host keeps CPU {host_keeps}"))
    else:
        rows.append(("Pinning", "none: the host's scheduler places the vCPUs"))
    if s.disk.path is None:
        disk = "none"
    elif s.disk.size_gib is not None:
        pool = f", after creating the storage pool “{s.disk.create_pool}”" if s.disk.create_pool else ""
        disk = f"new {s.disk.size_gib} GiB qcow2 image {escape(s.disk.path)}{pool}"
    else:
        disk = escape(s.disk.path)
    rows.append(("Disk", disk))
    for label, iso in (("Installer", spec.iso), ("Drivers", spec.drivers_iso)):
        if iso:
            rows.append((label, escape(iso)))
    table = "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows)
    notes = "".join(f"<li>{escape(w)}</li>" for w in s.warnings)
    warn = f"<p style='color:#8a5300'><b>Check before you finish:</b></p><ul>{notes}</ul>" if notes else ""
    return f"<table cellspacing='0' cellpadding='4'>{table}</table>{warn}"


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

    def set_summary(self, host: HostModel | None, summary: Summary, xml: str, problems: list[str]) -> None:
        self.summary.setHtml(summary_html(host, summary))
        self.xml.setPlainText(xml)
        self.error.setText(" ".join(problems))
