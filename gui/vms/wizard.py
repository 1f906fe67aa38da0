"""The new-VM wizard: the guest, storage, devices, pinning, then a readable review.

Choices become a ``VmSpec``; ``core/vm/newvm.py`` checks it (``spec_problems``) and turns it into
XML, ``core/plan`` says which devices go together and plans the pinning. Every libvirt call (the
storage pools, the pool and volume creation, the define with libvirt's schema validation) is a job
on the connection's queue; a refusal is shown in words and the wizard stays open.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

import libvirt
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget, QWizard

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.errors import VmError
from vfiodeck.core.vm.newvm import DiskSpec, VmSpec, build_domain_xml, spec_problems
from vfiodeck.core.vm.storage import create_volume
from vfiodeck.gui import errors
from vfiodeck.gui.vms.connection import ConnectionController, connection_label
from vfiodeck.gui.vms.wizard_basics import BasicsPage, resource_notes
from vfiodeck.gui.vms.wizard_devices import DevicesPage, PinningPage
from vfiodeck.gui.vms.wizard_review import ReviewPage, Summary
from vfiodeck.gui.vms.wizard_storage import DiskChoice, StoragePage, create_dir_pool, pool_folders


def create_vm(hv: Hypervisor, xml: str, name: str, disk: DiskChoice) -> str:
    """Finish, on the connection's queue: re-check the name, make the pool and the image, define."""
    if name in {d.name for d in hv.list_domains()}:
        raise VmError(f"A VM named “{name}” already exists on {connection_label(hv.uri)}.")
    if disk.path is not None and disk.size_gib is not None:
        if disk.create_pool is not None:
            create_dir_pool(hv, disk.create_pool, disk.path.rsplit("/", 1)[0] or "/")
        try:
            hv.conn.storageVolLookupByPath(disk.path)  # there already: use it as it is
        except libvirt.libvirtError:
            create_volume(hv, disk.path, disk.size_gib)
    hv.define(xml, validate=True)
    return name


class NewVmWizard(QWizard):
    defined = Signal(str)

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
        self.basics = BasicsPage(host, existing)
        self.storage = StoragePage()
        self.devices = DevicesPage(host, allowed)
        self.pinning = PinningPage(host)
        self.review = ReviewPage()
        for page in (self.basics, self.storage, self.devices, self.pinning, self.review):
            self.addPage(page)
        self.basics.name.textChanged.connect(lambda text: self.storage.follow_name(text.strip()))
        self.basics.preset.currentTextChanged.connect(lambda _t: self._preset_changed())
        self.currentIdChanged.connect(self._entered)
        self._defining = False
        self._preset_changed()
        self.resize(820, 660)
        ctrl.run(pool_folders, self.storage.set_pools, lambda _err: self.storage.set_pools({}))

    def _preset_changed(self) -> None:
        self.storage.show_drivers_iso(self.basics.is_windows)

    def _entered(self, _id: int) -> None:
        page = self.currentPage()
        if page is self.pinning:
            self.pinning.refresh(
                self.basics.vcpus.value(), self.basics.memory.value(), self.devices.addresses()
            )
        elif page is self.review:
            self.refresh_review()

    def spec(self) -> VmSpec:
        path, _size = self.storage.disk()
        drivers = self.storage.drivers_iso.text().strip() if self.basics.is_windows else ""
        return dataclasses.replace(
            self.basics.spec(),
            disk=DiskSpec.for_path(path) if path else None,
            iso=self.storage.iso.text().strip() or None,
            drivers_iso=drivers or None,
            hostdevs=self.devices.addresses(),
            hostdev_ids=self.devices.device_ids(),
            pinning=self.pinning.plan,
            hugepages=self.pinning.hugepages.isChecked(),
            hide_hypervisor=self.devices.hide_hv.isChecked(),
        )

    def warnings(self, spec: VmSpec) -> tuple[str, ...]:
        _stop, notes = resource_notes(self.host, spec.memory_mib, spec.vcpus)
        node = self.pinning.node_memory_note(spec.memory_mib)
        if (
            self.basics.is_windows
            and spec.disk is not None
            and spec.disk.bus == "virtio"
            and not spec.drivers_iso
        ):
            notes.append(
                "Windows' installer has no virtio disk driver: add the virtio-win ISO on the storage page."
            )
        return tuple([*notes, *([node] if node else [])])

    def refresh_review(self) -> None:
        spec = self.spec()
        summary = Summary(
            spec,
            self.storage.choice(),
            self.devices.blockers_taken(),
            self.warnings(spec),
            connection_label(self.ctrl.uri),
        )
        self.review.set_summary(self.host, summary, build_domain_xml(spec), spec_problems(spec))

    def accept(self) -> None:
        """Define on the connection's queue; close only when libvirt took it."""
        if self._defining:
            return
        spec = self.spec()
        problems = spec_problems(spec) + self.basics.problems()
        if problems:  # e.g. a relative disk path typed on the storage page
            self.review.error.setText(" ".join(dict.fromkeys(problems)))
            return
        xml, disk = build_domain_xml(spec), self.storage.choice()
        self._defining = True
        self.button(QWizard.WizardButton.FinishButton).setEnabled(False)
        self.ctrl.run(lambda hv: create_vm(hv, xml, spec.name, disk), self._defined, self._failed)

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
