"""The VM workflow on libvirt's test driver: edit with compare-and-swap, delete with its disks, force
off, hot-plug refused, a foreign host, connections that persist, Enter in dialogs, --show-domain-*."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from tests.gui.vms.conftest import Recorder
from vfiodeck.core.host.model import HostModel
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.domainxml import DomainXml
from vfiodeck.gui.vms import dialogs, editing, lifecycle, vm_dialogs
from vfiodeck.gui.vms.dialogs import ChoiceDialog
from vfiodeck.gui.vms.domain_model import make_pci_mime
from vfiodeck.gui.vms.page import VmsPage
from vfiodeck.gui.vms.show_domain import show_domain
from vfiodeck.gui.vms.vm_dialogs import DeleteDialog, When


def _hv(page: VmsPage) -> Hypervisor:
    return next(iter(page.controllers.values())).hv


def _vcpus(page: VmsPage, name: str) -> int | None:
    return DomainXml.parse(_hv(page).inactive_xml(name)).vcpus


def _edit_behind_our_back(page: VmsPage, name: str, vcpus: int) -> None:
    """What ``virsh edit`` does meanwhile: redefine the VM on the same libvirt."""
    doc = DomainXml.parse(_hv(page).inactive_xml(name))
    doc.set_vcpus(vcpus)
    _hv(page).define(doc.to_string())


def _drop(page: VmsPage, name: str, addresses: list[str]) -> None:
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == name)
    page.proxy.dropMimeData(
        make_pci_mime(addresses), Qt.DropAction.CopyAction, -1, -1, page.proxy.index(row, 0)
    )


def test_edit_applies_and_undo_restores(
    qtbot: QtBot, page: VmsPage, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(editing, "ask_edit", lambda _p, _vm, xml: xml.replace(">4</vcpu>", ">6</vcpu>"))
    page.select("gaming")
    page.acts.edit_action.trigger()
    qtbot.waitUntil(lambda: len(page.undo_stack) == 1)
    assert _vcpus(page, "gaming") == 6
    page.acts.undo_action.trigger()
    qtbot.waitUntil(lambda: page.status.text().startswith("Undone: Edit gaming"))
    assert _vcpus(page, "gaming") == 4


def test_edit_made_meanwhile_is_refused_with_its_diff(
    qtbot: QtBot, page: VmsPage, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def edit(_parent: object, vm: str, xml: str) -> str:
        _edit_behind_our_back(page, vm, 3)  # while our editor is open
        return xml.replace(">4</vcpu>", ">6</vcpu>")

    monkeypatch.setattr(editing, "ask_edit", edit)
    page.select("gaming")
    page.acts.edit_action.trigger()
    qtbot.waitUntil(lambda: len(recorder.refused) == 1)
    assert "changed outside VFIO Deck" in recorder.refused[0]
    assert "-  <vcpu placement='static'>4</vcpu>" in recorder.refused[0]
    assert "+  <vcpu placement='static'>3</vcpu>" in recorder.refused[0]
    assert _vcpus(page, "gaming") == 3  # theirs stays; ours was not written over it
    assert len(page.undo_stack) == 0


def test_drop_with_a_virsh_edit_before_apply_is_refused(
    qtbot: QtBot, page: VmsPage, recorder: Recorder
) -> None:
    _hv(page).destroy("gaming")
    recorder.on_confirm = lambda: _edit_behind_our_back(page, "gaming", 2)
    _drop(page, "gaming", ["0000:08:00.0"])
    qtbot.waitUntil(lambda: len(recorder.refused) == 1)
    assert "+  <vcpu placement='static'>2</vcpu>" in recorder.refused[0]
    assert DomainXml.parse(_hv(page).inactive_xml("gaming")).pci_hostdevs() == ()


def test_undo_after_a_virsh_edit_is_refused(qtbot: QtBot, page: VmsPage, recorder: Recorder) -> None:
    _hv(page).destroy("gaming")
    _drop(page, "gaming", ["0000:08:00.0"])
    qtbot.waitUntil(lambda: len(page.undo_stack) == 1)
    _edit_behind_our_back(page, "gaming", 2)
    page.undo_stack.undo()
    qtbot.waitUntil(lambda: len(recorder.refused) == 1)
    assert _vcpus(page, "gaming") == 2
    assert DomainXml.parse(_hv(page).inactive_xml("gaming")).pci_hostdevs() == (
        "0000:08:00.0",
        "0000:08:00.1",
    )


def test_hotplug_refusal_is_explained_and_nothing_changes(
    qtbot: QtBot, page: VmsPage, recorder: Recorder
) -> None:
    recorder.when = When.NOW  # "gaming" runs: plug it in now and at the next start
    before = _hv(page).inactive_xml("gaming")
    _drop(page, "gaming", ["0000:08:00.0"])
    qtbot.waitUntil(lambda: len(recorder.errors) == 1)
    assert recorder.asked_when == [
        "gaming: GeForce GTX 1080 (08:00.0), GP104 High Definition Audio Controller (08:00.1)"
    ]
    assert recorder.errors[0].startswith("This hypervisor cannot hot-plug")
    assert _hv(page).inactive_xml("gaming") == before
    assert "refused, nothing changed" in page.status.text()


def test_force_off_asks_first(qtbot: QtBot, page: VmsPage, recorder: Recorder) -> None:
    page.select("gaming")
    recorder.force_off = False
    page.acts.destroy_action.trigger()
    page.runner.wait()
    assert _hv(page).domain_info("gaming").state.value == "running"
    recorder.force_off = True
    page.acts.destroy_action.trigger()
    qtbot.waitUntil(lambda: page.model.find_name("gaming").info.state.value == "shut off")


def test_delete_with_its_disk(qtbot: QtBot, page: VmsPage, recorder: Recorder, tmp_path: object) -> None:
    hv = _hv(page)
    folder = f"{tmp_path}/images"
    hv.conn.storagePoolCreateXML(
        f"<pool type='dir'><name>images</name><target><path>{folder}</path></target></pool>", 0
    )
    from vfiodeck.core.vm.storage import create_volume

    create_volume(hv, f"{folder}/scratch.qcow2", 8)
    xml = hv.inactive_xml("workstation").replace("workstation", "scratch").replace("a11</uuid>", "a12</uuid>")
    disk = (
        f"<disk type='file' device='disk'><source file='{folder}/scratch.qcow2'/><target dev='vda'/></disk>"
    )
    hv.define(xml.replace("<devices>", "<devices>" + disk, 1))
    page.refresh(hv.uri)
    qtbot.waitUntil(lambda: page.model.find_name("scratch") is not None)
    page.select("scratch")
    recorder.delete_disks = [f"{folder}/scratch.qcow2"]
    page.acts.delete_action.trigger()
    qtbot.waitUntil(lambda: page.model.find_name("scratch") is None)
    assert recorder.deletes == [("scratch", [f"{folder}/scratch.qcow2"])]
    assert hv.conn.storagePoolLookupByName("images").listVolumes() == []
    assert page.status.text() == "Deleted “scratch” and 1 disk image(s)."


def test_delete_dialog_names_the_disks_and_keeps_them_unless_ticked(qtbot: QtBot) -> None:
    dialog = DeleteDialog("win11", ["/var/lib/libvirt/images/win11.qcow2"])
    qtbot.addWidget(dialog)
    assert dialog.chosen_disks() == []
    assert dialog.ok.text() == "Delete"
    dialog.disk_boxes[0].setChecked(True)
    assert dialog.chosen_disks() == ["/var/lib/libvirt/images/win11.qcow2"]
    assert dialog.ok.text() == "Delete VM and 1 disk"


def test_enter_confirms_a_choice(qtbot: QtBot) -> None:
    dialog = ChoiceDialog("Assign to VM", "Pass to which VM?", ["gaming", "workstation"])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClick(dialog.combo, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_foreign_host_is_said_and_not_offered(qtbot: QtBot, x399: HostModel, recorder: Recorder) -> None:
    uri = "qemu:///system?socket=/nonexistent/libvirt-sock"
    page = VmsPage(uris=[uri])
    qtbot.addWidget(page)
    page.set_host(x399)  # a capture, not this machine
    qtbot.waitUntil(lambda: page.banner_text("foreign") != "")
    assert "not this computer" in page.banner_text("foreign")
    assert not page.assigning.allowed_on(uri)
    page.shutdown()
    page.runner.wait()


def test_added_connections_come_back(
    qtbot: QtBot, libvirt_uri: str, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dialogs, "ask_connection_uri", lambda _p: libvirt_uri)
    first = VmsPage(uris=["qemu:///system?socket=/nonexistent/sock"])
    qtbot.addWidget(first)
    qtbot.waitUntil(lambda: len(first.controllers) == 1)
    first.acts.connect_action.trigger()
    assert libvirt_uri in first.controllers
    first.shutdown()
    second = VmsPage(uris=["qemu:///system?socket=/nonexistent/sock"])
    qtbot.addWidget(second)
    qtbot.waitUntil(lambda: libvirt_uri in second.controllers)
    qtbot.waitUntil(lambda: second.model.rowCount() == 2)
    assert second.model.index(0, 5).data().endswith("(test driver)")  # a name, not test:///tmp/...
    second.shutdown()
    second.runner.wait()
    first.runner.wait()


def test_console_without_a_viewer_says_how_to_install_it(
    page: VmsPage, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(lifecycle.shutil, "which", lambda _name: None)
    monkeypatch.setattr(vm_dialogs, "show_viewer_missing", lambda _p, command: shown.append(command))
    page.select("gaming")
    page.view.activated_row.emit()  # double-click or Enter on the row
    assert shown == [lifecycle.INSTALL_VIEWER]


def test_show_domain_editor_waits_for_the_vm(
    qtbot: QtBot, page: VmsPage, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(editing, "ask_edit", lambda _p, vm, _xml: opened.append(vm))
    show_domain(page, "gaming", "editor")
    qtbot.waitUntil(lambda: opened == ["gaming"])
