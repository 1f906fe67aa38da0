"""The wizard's device and pinning pages.

A card alone in its IOMMU group is ticked and goes. A card that shares its group shows what it
shares it with, by name, in a second box under it; only ticking that box takes those devices too
(the same explicit opt-in as dropping the card on a VM). Pinning follows the passed devices' node.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWizardPage

from vfiodeck.core.host.candidates import find_candidates
from vfiodeck.core.host.model import Candidate, HostModel
from vfiodeck.core.plan.assign import HIDE_HYPERVISOR_WHY, functions_and_blockers, is_nvidia_consumer_gpu
from vfiodeck.core.plan.pinning import PinningPlan, plan_pinning
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
        self.candidates: list[Candidate] = list(find_candidates(host)) if host is not None and allowed else []
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
        self.problem = QLabel()
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
        item.setToolTip(0, cand.verdict)
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

    def addresses(self) -> tuple[str, ...]:
        if self.host is None:
            return ()
        found: list[str] = []
        for cand, take in self._chosen():
            if cand.blockers and not take:
                continue
            found.extend(functions_and_blockers(self.host, cand.functions, take_blockers=take)[0])
        return tuple(sorted(set(found)))

    def blockers_taken(self) -> tuple[str, ...]:
        return tuple(sorted({b for c, take in self._chosen() if take for b in c.blockers}))

    def device_ids(self) -> tuple[tuple[str, str], ...]:
        if self.host is None:
            return ()
        devices = (self.host.device(a) for a in self.addresses())
        return tuple((d.address, d.ids) for d in devices if d is not None and d.ids is not None)

    def _changed(self, _item: QTreeWidgetItem, _column: int) -> None:
        host = self.host
        nvidia = host is not None and any(is_nvidia_consumer_gpu(host.device(a)) for a in self.addresses())
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
        self.host = host
        layout = QVBoxLayout(self)
        has_cpus = host is not None and bool(host.topology.cpus)
        self.pin = QCheckBox("Pin vCPUs from the host topology")
        self.pin.setChecked(has_cpus)
        self.pin.setEnabled(has_cpus)
        self.pin.toggled.connect(lambda _on: self.initializePage())
        layout.addWidget(self.pin)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.memory_note = QLabel()
        self.memory_note.setWordWrap(True)
        self.memory_note.setStyleSheet("color: #8a5300")
        layout.addWidget(self.memory_note)
        self.hugepages = QCheckBox("Back the memory with huge pages (reserved on the kernel command line)")
        layout.addWidget(self.hugepages)
        layout.addStretch(1)
        self.plan: PinningPlan | None = None

    def plan_for(self, vcpus: int, addresses: tuple[str, ...]) -> PinningPlan | None:
        if self.host is None or not self.pin.isChecked():
            return None
        nodes = [d.numa_node for a in addresses if (d := self.host.device(a)) is not None]
        return plan_pinning(self.host.topology, vcpus, device_nodes=nodes)

    def node_memory_note(self, memory_mib: int) -> str:
        """A warning when the VM's memory does not fit the node its vCPUs are pinned to."""
        if self.plan is None or self.plan.node is None or self.host is None:
            return ""
        node = next((n for n in self.host.topology.numa_nodes if n.id == self.plan.node), None)
        if node is None or node.memory_mib is None or memory_mib <= node.memory_mib:
            return ""
        return (
            f"NUMA node {node.id} has {node.memory_mib / 1024:.0f} GiB; the VM's {memory_mib / 1024:.0f} GiB "
            "does not fit in it, so part of its memory will be on another node (slower for the vCPUs)."
        )

    def refresh(self, vcpus: int, memory_mib: int, addresses: tuple[str, ...]) -> None:
        self.plan = self.plan_for(vcpus, addresses)
        if self.plan is None:
            self.summary.setText("No pinning: the host's scheduler places the vCPUs.")
        else:
            pins = ", ".join(f"vCPU {v}→CPU {c}" for v, c in enumerate(self.plan.vcpupin))
            reasons = "".join(f"<li>{r}</li>" for r in self.plan.reasons)
            self.summary.setText(f"<p><b>{pins or 'Nothing pinned'}</b></p><ul>{reasons}</ul>")
        self.memory_note.setText(self.node_memory_note(memory_mib))
