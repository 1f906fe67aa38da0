"""The wizard's device and pinning pages.

A card alone in its IOMMU group is ticked and goes. A card that shares its group shows what it
shares it with, by name, in a second box under it; only ticking that box takes those devices too
(the same explicit opt-in as dropping the card on a VM). Pinning follows the passed devices' node.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWizardPage

from vfiodeck.core.host.model import Candidate, HostModel
from vfiodeck.core.plan.assign import HIDE_HYPERVISOR_WHY, NoteKind, is_nvidia_consumer_gpu
from vfiodeck.core.plan.newvm import NewVmPlan
from vfiodeck.gui.plain import plain_label, plain_tooltip
from vfiodeck.gui.vms.domain_model import device_label

CHECKED, UNCHECKED = Qt.CheckState.Checked, Qt.CheckState.Unchecked


class DevicesPage(QWizardPage):
    def __init__(self, host: HostModel | None, allowed: bool = True) -> None:
        super().__init__()
        self.setTitle("Devices to pass")
        self.setSubTitle(
            "Every function of a card goes with it. Devices sharing its IOMMU group go only if you say so."
        )
        self.host = host
        layout = QVBoxLayout(self)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.candidates: list[Candidate] = list(host.candidates) if host is not None and allowed else []
        self.items: list[QTreeWidgetItem] = []
        self.blocker_items: dict[int, QTreeWidgetItem] = {}
        for i, cand in enumerate(self.candidates):
            self._add(i, cand)
        if not allowed:
            layout.addWidget(
                QLabel("The host shown is not where this VM runs: no devices can be passed from it.")
            )
        elif not self.candidates:
            layout.addWidget(QLabel("No passthrough candidates on this host."))
        layout.addWidget(self.tree)
        self.problem = plain_label()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b71c1c")
        layout.addWidget(self.problem)
        self.hide_hv = QCheckBox("Hide the hypervisor from the guest (NVIDIA)")
        self.hide_why = QLabel(HIDE_HYPERVISOR_WHY)
        self.hide_why.setWordWrap(True)
        layout.addWidget(self.hide_hv)
        layout.addWidget(self.hide_why)
        self.tree.itemChanged.connect(self._changed)

    def _label(self, address: str) -> str:
        return device_label(self.host, address)

    def _add(self, index: int, cand: Candidate) -> None:
        shared = "" if cand.isolated else ", shares its IOMMU group"
        item = QTreeWidgetItem([f"{self._label(cand.device)} — {cand.kind.value}{shared}"])
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(0, UNCHECKED)
        item.setToolTip(0, plain_tooltip(cand.verdict))
        self.tree.addTopLevelItem(item)
        self.items.append(item)
        if cand.blockers:
            names = ", ".join(self._label(b) for b in cand.blockers)
            child = QTreeWidgetItem([f"Also pass {names} (the host loses them while the VM runs)"])
            child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            child.setCheckState(0, UNCHECKED)
            item.addChild(child)
            item.setExpanded(True)
            self.blocker_items[index] = child

    def set_checked(self, address: str, checked: bool = True, take_blockers: bool = False) -> None:
        for i, cand in enumerate(self.candidates):
            if address in cand.functions:
                self.items[i].setCheckState(0, CHECKED if checked else UNCHECKED)
                if i in self.blocker_items:
                    self.blocker_items[i].setCheckState(0, CHECKED if take_blockers else UNCHECKED)

    def _chosen(self) -> list[tuple[Candidate, bool]]:
        """(candidate, take its blockers) for every ticked card."""
        return [
            (c, i in self.blocker_items and self.blocker_items[i].checkState(0) == CHECKED)
            for i, c in enumerate(self.candidates)
            if self.items[i].checkState(0) == CHECKED
        ]

    def waiting(self) -> list[Candidate]:
        """Ticked cards whose group is shared but whose "also pass" box is not ticked."""
        return [c for c, take in self._chosen() if c.blockers and not take]

    def devices(self) -> tuple[str, ...]:
        """The functions of the ticked cards (their groups' other devices come from ``take_blockers``)."""
        return tuple(a for cand, _take in self._chosen() for a in cand.functions)

    def take_blockers(self) -> bool:
        """Every ticked card that shares its group has its "also pass" box ticked (else the page
        stays incomplete), so one flag for the plan says it all."""
        return any(take for _cand, take in self._chosen())

    def _changed(self, _item: QTreeWidgetItem, _column: int) -> None:
        host = self.host
        nvidia = host is not None and any(is_nvidia_consumer_gpu(host.device(a)) for a in self.devices())
        if nvidia and not self.hide_hv.isChecked():
            self.hide_hv.setChecked(True)
        waiting = self.waiting()
        self.problem.setText(
            "".join(
                f"{self._label(c.device)} shares its IOMMU group: tick “Also pass …” under it, or untick it. "
                for c in waiting
            )
        )
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        return not self.waiting()


class PinningPage(QWizardPage):
    def __init__(self, host: HostModel | None) -> None:
        super().__init__()
        self.setTitle("CPU pinning and memory")
        self.setSubTitle("vCPUs on whole cores of one NUMA node near the device; the host keeps a core.")
        layout = QVBoxLayout(self)
        has_cpus = host is not None and bool(host.topology.cpus)
        self.pin = QCheckBox("Pin vCPUs from the host topology")
        self.pin.setChecked(has_cpus)
        self.pin.setEnabled(has_cpus)
        layout.addWidget(self.pin)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.memory_note = plain_label()
        self.memory_note.setWordWrap(True)
        self.memory_note.setStyleSheet("color: #8a5300")
        layout.addWidget(self.memory_note)
        self.hugepages = QCheckBox("Back the memory with huge pages (reserved on the kernel command line)")
        layout.addWidget(self.hugepages)
        layout.addStretch(1)

    def show_plan(self, plan: NewVmPlan) -> None:
        pinning = plan.pinning
        if pinning is None:
            why = " (fix the problems first)" if plan.problems else ""
            self.summary.setText(f"No pinning{why}: the host's scheduler places the vCPUs.")
        else:
            pins = ", ".join(f"vCPU {v}→CPU {c}" for v, c in enumerate(pinning.vcpupin))
            reasons = "".join(f"<li>{escape(r)}</li>" for r in pinning.reasons)
            self.summary.setText(f"<p><b>{pins or 'Nothing pinned'}</b></p><ul>{reasons}</ul>")
        kinds = (NoteKind.MEMORY_OVER_NODE, NoteKind.PINNING_SHORT)
        self.memory_note.setText("\n".join(f"⚠ {n.text}" for n in plan.notes if n.kind in kinds))
