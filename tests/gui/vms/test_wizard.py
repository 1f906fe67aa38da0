"""The new-VM wizard end to end on the test driver: fill in, finish, the domain is defined."""

from __future__ import annotations

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
