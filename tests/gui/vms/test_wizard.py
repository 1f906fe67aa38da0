"""The new-VM wizard end to end on the test driver: fill in, finish, the domain is defined."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot

from tests.gui.vms.conftest import Recorder
from vfiodeck.core.host.model import HostModel
from vfiodeck.core.plan.assign import HIDE_HYPERVISOR_WHY
from vfiodeck.core.vm.domainxml import DomainXml
from vfiodeck.gui.vms.page import VmsPage
from vfiodeck.gui.vms.wizard import NewVmWizard


def _walk_to_the_end(wizard: NewVmWizard) -> None:
    while wizard.currentPage() is not wizard.review:
        assert wizard.currentPage().isComplete()
        wizard.next()


def test_wizard_defines_a_passthrough_vm(
    qtbot: QtBot, page: VmsPage, demo_host: HostModel, recorder: Recorder
) -> None:
    ctrl = next(iter(page.controllers.values()))
    wizard = NewVmWizard(ctrl, demo_host, page)
    qtbot.addWidget(wizard)
    wizard.basics.name.setText("win11")
    wizard.basics.memory.setValue(16384)
    wizard.basics.vcpus.setValue(8)
    wizard.basics.secure_boot.setChecked(True)
    wizard.basics.tpm.setChecked(True)
    wizard.storage.existing.setChecked(True)
    wizard.storage.existing_path.setText("/var/lib/libvirt/images/win11.qcow2")
    wizard.storage.iso.setText("/isos/Win11_24H2.iso")
    wizard.devices.set_checked("0000:08:00.0")
    assert wizard.devices.hide_hv.isChecked()  # a GeForce was ticked: offered, on
    assert wizard.devices.hide_why.text() == HIDE_HYPERVISOR_WHY
    wizard.show()
    _walk_to_the_end(wizard)
    shown = wizard.review.xml.toPlainText()
    assert "<tpm model='tpm-crb'>" in shown
    assert wizard.review.error.text() == ""
    with qtbot.waitSignal(wizard.defined) as defined:
        wizard.accept()
    assert defined.args[0].vm == "win11"
    doc = DomainXml.parse(ctrl.hv.inactive_xml("win11"))
    assert doc.pci_hostdevs() == ("0000:08:00.0", "0000:08:00.1")
    assert doc.kvm_hidden()
    assert doc.hyperv_vendor_id() == "vfiodeck0000"
    assert doc.recorded_device_ids() == {"0000:08:00.0": "10de:1b80", "0000:08:00.1": "10de:10f0"}
    assert doc.memory_kib == 16384 * 1024
    # Pinning from the demo's two-node Xeon: 8 vCPUs on node 0 (the GTX 1080's), CPU 0's core kept.
    assert "NUMA node 0 is the node of the passed device" in wizard.pinning.summary.text()
    pins = doc.vcpupins()
    assert len(pins) == 8
    assert all(0 not in cpus for cpus in pins.values())
    assert doc.numatune() is not None
    assert doc.numatune().nodeset == "0"
    assert doc.cpu_topology().threads == 2
    qtbot.waitUntil(lambda: page.model.find_name("win11") is not None)
    assert recorder.errors == []


def test_wizard_refusal_is_shown_in_words_and_stays_open(
    qtbot: QtBot, page: VmsPage, x399: HostModel, recorder: Recorder
) -> None:
    ctrl = next(iter(page.controllers.values()))
    wizard = NewVmWizard(ctrl, x399, page)
    qtbot.addWidget(wizard)
    wizard.basics.name.setText("gaming")  # exists already, with another UUID
    wizard.storage.none.setChecked(True)
    wizard.show()
    _walk_to_the_end(wizard)
    wizard.accept()
    qtbot.waitUntil(lambda: len(recorder.errors) == 1)
    assert recorder.errors[0].startswith("The VM was not defined: ")
    assert wizard.review.error.text().startswith("Not defined: ")
    assert wizard.isVisible()
    assert wizard.button(QWizard.WizardButton.FinishButton).isEnabled()


def test_bad_name_keeps_next_disabled(qtbot: QtBot, page: VmsPage, x399: HostModel) -> None:
    wizard = NewVmWizard(next(iter(page.controllers.values())), x399, page)
    qtbot.addWidget(wizard)
    wizard.basics.name.setText("my vm!")
    assert not wizard.basics.isComplete()
    assert "name must start" in wizard.basics.problem.text()


def test_spec_problems_stop_the_define(qtbot: QtBot, page: VmsPage, x399: HostModel) -> None:
    ctrl = next(iter(page.controllers.values()))
    wizard = NewVmWizard(ctrl, x399, page)
    qtbot.addWidget(wizard)
    wizard.basics.name.setText("scratch")
    wizard.basics.uefi.setChecked(False)
    assert not wizard.basics.secure_boot.isEnabled()
    wizard.storage.existing.setChecked(True)
    wizard.storage.existing_path.setText("images/scratch.qcow2")  # not a full path
    wizard.show()
    _walk_to_the_end(wizard)
    problem = "The disk images/scratch.qcow2 must be a full path (starting with /)."
    assert wizard.review.error.text() == problem
    wizard.accept()
    page.runner.wait()
    assert wizard.isVisible()
    assert "scratch" not in [i.name for i in ctrl.hv.list_domains()]


def test_storage_on_a_fresh_libvirt_asks_to_create_the_pool(
    qtbot: QtBot, page: VmsPage, x399: HostModel, recorder: Recorder, tmp_path: Path
) -> None:
    ctrl = next(iter(page.controllers.values()))
    wizard = NewVmWizard(ctrl, x399, page, existing={"gaming", "workstation"})
    qtbot.addWidget(wizard)
    wizard.basics.name.setText("gamebox")
    wizard.storage.folder.setText(str(tmp_path / "images"))
    wizard.show()
    wizard.next()
    assert wizard.currentPage() is wizard.storage
    assert wizard.storage.image.text() == str(tmp_path / "images" / "gamebox.qcow2")  # follows the name
    qtbot.waitUntil(lambda: wizard.storage.pool_known)
    assert "No libvirt storage pool holds" in wizard.storage.pool_note.text()
    assert not wizard.storage.isComplete()  # not without the user's yes
    wizard.storage.create_pool.setChecked(True)
    assert wizard.storage.isComplete()
    _walk_to_the_end(wizard)
    summary = wizard.review.summary.toPlainText()
    assert f"new 128 GiB qcow2 image {tmp_path}/images/gamebox.qcow2" in summary
    assert "is created first" in summary
    assert not wizard.review.xml.isVisible()  # the XML is behind a toggle
    wizard.review.show_xml.click()
    assert wizard.review.xml.isVisible()
    with qtbot.waitSignal(wizard.defined):
        wizard.accept()
    hv = ctrl.hv
    pool = hv.conn.storagePoolLookupByName("default")
    assert pool.listVolumes() == ["gamebox.qcow2"]
    doc = DomainXml.parse(hv.inactive_xml("gamebox"))
    assert doc.root.find("./devices/disk/source").get("file") == f"{tmp_path}/images/gamebox.qcow2"
    assert recorder.errors == []


def test_name_clash_shows_as_you_type(qtbot: QtBot, page: VmsPage, x399: HostModel) -> None:
    wizard = NewVmWizard(next(iter(page.controllers.values())), x399, page, existing={"gaming"})
    qtbot.addWidget(wizard)
    wizard.basics.name.setText("gaming")
    assert not wizard.basics.isComplete()
    assert "A VM named “gaming” already exists" in wizard.basics.problem.text()
    wizard.basics.name.setText("gaming2")
    assert wizard.basics.isComplete()


def test_windows_11_preset_turns_on_secure_boot_and_tpm(qtbot: QtBot, page: VmsPage, x399: HostModel) -> None:
    wizard = NewVmWizard(next(iter(page.controllers.values())), x399, page)
    qtbot.addWidget(wizard)
    basics = wizard.basics
    assert basics.preset.currentText() == "Windows 11"
    assert basics.secure_boot.isChecked()
    assert basics.tpm.isChecked()
    assert basics.uefi.isChecked()
    assert not wizard.storage.virtio_row.isHidden()  # the virtio-win ISO is offered
    basics.preset.setCurrentText("Linux or other")
    assert not basics.secure_boot.isChecked()
    assert not basics.tpm.isChecked()
    assert wizard.storage.virtio_row.isHidden()


def test_memory_beyond_the_host_stops_the_wizard(qtbot: QtBot, page: VmsPage, demo_host: HostModel) -> None:
    wizard = NewVmWizard(next(iter(page.controllers.values())), demo_host, page)
    qtbot.addWidget(wizard)
    wizard.basics.memory.setValue(4 * 1024 * 1024)  # 4 TiB
    assert not wizard.basics.isComplete()
    assert "more than this host has" in wizard.basics.problem.text()


def test_blockers_are_taken_only_when_ticked_by_name(
    qtbot: QtBot, page: VmsPage, x399: HostModel, recorder: Recorder
) -> None:
    wizard = NewVmWizard(next(iter(page.controllers.values())), x399, page)
    qtbot.addWidget(wizard)
    devices = wizard.devices
    index = next(i for i, c in enumerate(devices.candidates) if c.device == "0000:04:00.0")  # the I211 NIC
    devices.set_checked("0000:04:00.0")
    assert not devices.isComplete()
    assert "shares its IOMMU group" in devices.problem.text()
    opt_in = devices.blocker_items[index].text(0)
    assert opt_in.startswith("Also pass ")
    assert "(01:00.0)" in opt_in
    assert "(05:00.0)" in opt_in
    devices.set_checked("0000:04:00.0", take_blockers=True)
    assert devices.isComplete()
    plan = wizard.plan()
    assert dict(plan.summary)["Blockers taken"].count("(0") >= 3
    assert "0000:05:00.0" in DomainXml.parse(plan.xml).pci_hostdevs()
