"""The new-VM wizard: the guest, storage, devices, pinning, then a readable review.

The pages collect ``NewVmChoices``; ``core.plan.newvm.plan_new_vm`` turns them into the definition,
its problems (which keep Next or Finish off) and notes, and ``define_new_vm`` creates the disk (and,
with the user's consent, the storage pool) and defines the VM as a compare-and-swap recorded in the
history, so the new VM can be undone too. Every libvirt call is a job on the connection's queue; a
refusal is shown in words and the wizard stays open.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget, QWizard

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.plan.newvm import DiskChoice, NewVmChoices, NewVmPlan, define_new_vm, plan_new_vm
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.history import HistoryEntry
from vfiodeck.core.vm.inventory import connection_label
from vfiodeck.core.vm.storage import pool_for
from vfiodeck.gui import errors
from vfiodeck.gui.vms.connection import ConnectionController
from vfiodeck.gui.vms.wizard_basics import BasicsPage
from vfiodeck.gui.vms.wizard_devices import DevicesPage, PinningPage
from vfiodeck.gui.vms.wizard_review import ReviewPage
from vfiodeck.gui.vms.wizard_storage import StoragePage

if TYPE_CHECKING:
    from vfiodeck.gui.vms.page import VmsPage


class NewVmWizard(QWizard):
    defined = Signal(object)  # the HistoryEntry of the define (undo removes the VM again)

    def __init__(
        self,
        ctrl: ConnectionController,
        host: HostModel | None,
        parent: QWidget | None = None,
        *,
        allowed: bool = True,
        existing: Collection[str] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New passthrough VM")
        self.ctrl = ctrl
        self.host = host
        self.basics = BasicsPage(existing)
        self.storage = StoragePage()
        self.devices = DevicesPage(host, allowed)
        self.pinning = PinningPage(host)
        self.review = ReviewPage()
        for page in (self.basics, self.storage, self.devices, self.pinning, self.review):
            self.addPage(page)
        self.basics.problems = self._basics_problems
        self.storage.check_pool = self._check_pool
        self.basics.name.textChanged.connect(lambda text: self.storage.follow_name(text.strip()))
        self.basics.preset.currentTextChanged.connect(lambda _t: self._preset_changed())
        self.currentIdChanged.connect(self._entered)
        self._defining = False
        self._preset_changed()
        self.resize(820, 660)

    def _check_pool(self, directory: str) -> None:
        def failed(err: BaseException) -> None:
            self.storage.set_pool(None)
            self.storage.pool_note.setText(f"Could not read the storage pools: {errors.describe(err)[0]}")

        self.ctrl.run(lambda hv: pool_for(hv, directory), self.storage.set_pool, failed)

    def _preset_changed(self) -> None:
        self.storage.show_virtio(self.basics.is_windows)

    def _entered(self, _id: int) -> None:
        page = self.currentPage()
        if page is self.pinning:
            self.pinning.show_plan(self.plan())
        elif page is self.review:
            self.refresh_review()

    def choices(self) -> NewVmChoices:
        b = self.basics
        windows = b.is_windows
        return NewVmChoices(
            name=b.name.text().strip(),
            memory_mib=b.memory.value(),
            vcpus=b.vcpus.value(),
            preset="windows11" if windows else "linux",
            uefi=b.uefi.isChecked(),
            secure_boot=b.uefi.isChecked() and b.secure_boot.isChecked(),
            tpm=b.tpm.isChecked(),
            hyperv=b.hyperv.isChecked(),
            devices=self.devices.devices(),
            take_blockers=self.devices.take_blockers(),
            hide_hypervisor=self.devices.hide_hv.isChecked(),
            pin=self.pinning.pin.isChecked(),
            hugepages=self.pinning.hugepages.isChecked(),
            disk=self.storage.choice(),
            iso=self.storage.iso.text().strip() or None,
            virtio_iso=(self.storage.virtio_iso.text().strip() or None) if windows else None,
        )

    def plan(self) -> NewVmPlan:
        return plan_new_vm(self.host, self.choices())

    def _basics_problems(self) -> list[str]:
        """The first page's part of the plan: name, memory, vCPUs, firmware (no disk, no devices)."""
        basics = replace(self.choices(), devices=(), disk=DiskChoice("none"), iso=None, virtio_iso=None)
        return list(plan_new_vm(self.host, basics).problems)

    def pool_to_create(self) -> str | None:
        if not (self.storage.missing_pool and self.storage.create_pool.isChecked()):
            return None
        return self.storage.create_pool.text().split("“", 1)[-1].split("”", 1)[0]

    def refresh_review(self) -> None:
        self.review.set_plan(self.plan(), connection_label(self.ctrl.uri), self.pool_to_create(), self.host)

    def accept(self) -> None:
        """Define on the connection's queue; close only when libvirt took it."""
        if self._defining:
            return
        plan = self.plan()
        problems = [p for p in [self.basics.name_problem(), *plan.problems] if p]
        if problems:  # e.g. a relative disk path typed on the storage page
            self.review.error.setText(" ".join(dict.fromkeys(problems)))
            return
        host = self.host.source if self.host is not None else ""
        create_pool = self.pool_to_create() is not None
        self._defining = True
        self.button(QWizard.WizardButton.FinishButton).setEnabled(False)

        def work(hv: Hypervisor) -> HistoryEntry:
            return define_new_vm(hv, plan, plan.disk, host=host, create_pool=create_pool)

        self.ctrl.run(work, self._defined, self._failed)

    def _defined(self, entry: HistoryEntry) -> None:
        self._defining = False
        self.defined.emit(entry)
        super().accept()

    def _failed(self, err: BaseException) -> None:
        self._defining = False
        self.button(QWizard.WizardButton.FinishButton).setEnabled(True)
        summary, details = errors.describe(err)
        self.review.error.setText(f"Not defined: {summary}")
        errors.show_error(self, f"The VM was not defined: {summary}", details)


def open_wizard(page: VmsPage) -> NewVmWizard | None:
    """The VMs page's "New VM…": on the selected VM's connection, or the first one up."""
    ups = page.connections.up()
    if not ups:
        errors.show_error(page, "No libvirt connection is up: connect first, then create the VM.")
        return None
    row = page.selected_row()
    uri = row.uri if row is not None and row.uri in ups else ups[0]
    names = {r.info.name for r in page.model.rows() if r.uri == uri}
    allowed = page.assigning.allowed_on(uri)
    wizard = NewVmWizard(page.connections.controllers[uri], page.host, page, allowed=allowed, existing=names)
    wizard.defined.connect(page.undo_stack.push)
    wizard.defined.connect(lambda _entry: page.refresh(uri))
    wizard.open()
    return wizard
