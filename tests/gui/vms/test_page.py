"""The VMs page on libvirt's test driver: drops, blockers, the diff, undo, start with pre-flight,
a vanished VM and a closed connection."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.gui.vms.conftest import Recorder
from vfiodeck.core.plan.assign import HIDE_HYPERVISOR_WHY
from vfiodeck.core.vm.domainxml import DomainXml
from vfiodeck.gui.vms.dialogs import BlockersDialog, DiffDialog, PreflightDialog, preflight_html
from vfiodeck.gui.vms.domain_model import make_pci_mime
from vfiodeck.gui.vms.page import VmsPage

GTX1080 = ["0000:08:00.0"]  # dragging the VGA function alone must still bring its HDMI audio


def _drop(page: VmsPage, name: str, addresses: list[str]) -> None:
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == name)
    target = page.proxy.index(row, 0)
    mime = make_pci_mime(addresses)
    assert page.proxy.canDropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, target)
    page.proxy.dropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, target)


def _doc(page: VmsPage, name: str) -> DomainXml:
    return DomainXml.parse(page.controllers[next(iter(page.controllers))].hv.inactive_xml(name))


def _devices(page: VmsPage, name: str) -> tuple[str, ...]:
    return _doc(page, name).pci_hostdevs()


def _row_devices(page: VmsPage, name: str) -> tuple[str, ...]:
    row = page.model.find_name(name)
    return row.devices if row is not None else ()


def test_drop_gpu_shows_diff_defines_and_undo_restores(
    qtbot: QtBot, page: VmsPage, recorder: Recorder
) -> None:
    _drop(page, "gaming", GTX1080)
    qtbot.waitUntil(lambda: _row_devices(page, "gaming") == ("0000:08:00.0", "0000:08:00.1"))
    (shown,) = recorder.diffs
    assert shown.startswith("Pass GeForce GTX 1080 (08:00.0), ")
    assert "+    <hostdev mode='subsystem' type='pci' managed='yes'>" in shown
    assert "+        <address domain='0x0000' bus='0x08' slot='0x00' function='0x1'/>" in shown
    # A GeForce: the diff hides the hypervisor and the intro says why.
    assert f"The change also hides the hypervisor from the guest: {HIDE_HYPERVISOR_WHY}" in shown
    assert "+      <hidden state='on'/>" in shown
    assert _devices(page, "gaming") == ("0000:08:00.0", "0000:08:00.1")
    # The ids lspci -nn lists for the X399's GTX 1080 and its HDMI audio, kept for the pre-flight.
    assert _doc(page, "gaming").recorded_device_ids() == {
        "0000:08:00.0": "10de:1b80",
        "0000:08:00.1": "10de:10f0",
    }
    qtbot.waitUntil(lambda: len(page.undo_stack) == 1)
    assert page.acts.undo_action.isEnabled()
    assert "Ctrl+Z" in page.status.text()

    page.acts.undo_action.trigger()
    qtbot.waitUntil(lambda: _row_devices(page, "gaming") == ())
    assert _devices(page, "gaming") == ()
    assert not _doc(page, "gaming").kvm_hidden()
    assert _doc(page, "gaming").recorded_device_ids() == {}
    assert page.undo_stack.entries == []
    qtbot.waitUntil(lambda: page.status.text().startswith("Undone: Assign"))


def test_declining_the_diff_changes_nothing(qtbot: QtBot, page: VmsPage, recorder: Recorder) -> None:
    recorder.accept_diff = False
    _drop(page, "gaming", GTX1080)
    qtbot.waitUntil(lambda: len(recorder.diffs) == 1)
    page.runner.wait()
    assert _devices(page, "gaming") == ()
    assert page.undo_stack.entries == []


def test_group_with_blockers_is_refused_with_them_named(
    qtbot: QtBot, page: VmsPage, recorder: Recorder
) -> None:
    _drop(page, "gaming", ["0000:04:00.0"])  # the I211 NIC in the chipset group 13
    qtbot.waitUntil(lambda: len(recorder.blockers) == 1)
    page.runner.wait()
    named = " | ".join(recorder.blockers[0])
    for blocker in ("01:00.0", "01:00.1", "05:00.0", "06:00.0"):
        assert blocker in named
    assert "02:00.0" not in named  # bridges never block
    assert recorder.diffs == []
    assert _devices(page, "gaming") == ()
    assert "Not assigned to “gaming”" in page.status.text()


def test_taking_the_blockers_passes_the_whole_group(qtbot: QtBot, page: VmsPage, recorder: Recorder) -> None:
    recorder.take_blockers = True
    _drop(page, "gaming", ["0000:04:00.0"])
    want = ("0000:01:00.0", "0000:01:00.1", "0000:04:00.0", "0000:05:00.0", "0000:06:00.0")
    qtbot.waitUntil(lambda: _row_devices(page, "gaming") == want)
    assert (
        "⚠ The VM also takes X399 Series Chipset USB 3.1 xHCI Controller (01:00.0), X399 Series Chipset SATA"
        in recorder.diffs[0]
    )


def test_device_of_another_vm_is_flagged(qtbot: QtBot, page: VmsPage, recorder: Recorder) -> None:
    _drop(page, "gaming", ["0000:43:00.0"])  # "workstation" passes it already
    qtbot.waitUntil(lambda: len(recorder.diffs) == 1)
    assert "⚠ VM “workstation” already has GeForce GTX 1060 6GB (43:00.0)" in recorder.diffs[0]


def test_start_with_failing_preflight_lists_the_problem(
    qtbot: QtBot, page: VmsPage, recorder: Recorder
) -> None:
    hv = next(iter(page.controllers.values())).hv
    hv.destroy("gaming")
    doc = DomainXml.parse(hv.inactive_xml("gaming"))
    doc.add_pci_hostdev("0000:99:00.0")  # no such device on the X399
    hv.define(doc.to_string())
    page.controllers[hv.uri].refresh()
    qtbot.waitUntil(lambda: _row_devices(page, "gaming") == ("0000:99:00.0",))
    page.lifecycle.start(page.model.find_name("gaming"))
    qtbot.waitUntil(lambda: len(recorder.preflight) == 1)
    vm, titles = recorder.preflight[0]
    assert vm == "gaming"
    assert titles == ["0000:99:00.0 is no longer on this host"]
    assert hv.domain_info("gaming").state.value == "shut off"


def test_start_with_clean_preflight_starts(qtbot: QtBot, page: VmsPage, recorder: Recorder) -> None:
    hv = next(iter(page.controllers.values())).hv
    hv.destroy("gaming")
    page.controllers[hv.uri].refresh()
    qtbot.waitUntil(lambda: page.model.find_name("gaming").info.state.value == "shut off")
    page.select("gaming")
    assert page.acts.start_action.isEnabled()
    page.acts.start_action.trigger()
    qtbot.waitUntil(lambda: page.model.find_name("gaming").info.state.value == "running")
    assert recorder.preflight == []
    assert recorder.errors == []


def test_vanished_vm_gets_a_message(qtbot: QtBot, page: VmsPage, recorder: Recorder) -> None:
    row = page.model.find_name("gaming")
    hv = page.controllers[row.uri].hv
    hv.destroy("gaming")
    hv.undefine("gaming")  # behind the page's back: its row is stale
    page.lifecycle.start(row)
    qtbot.waitUntil(lambda: len(recorder.errors) == 1)
    assert "“gaming” no longer exists" in recorder.errors[0]
    qtbot.waitUntil(lambda: page.model.find_name("gaming") is None)


def test_closed_connection_shows_a_banner_and_reconnects(
    qtbot: QtBot, page: VmsPage, recorder: Recorder
) -> None:
    ctrl = next(iter(page.controllers.values()))
    ctrl._backoff = type(ctrl._backoff)(initial=0.05, maximum=0.05)  # retry fast in the test
    ctrl.hv.conn.close()  # the daemon went away
    ctrl.refresh()
    qtbot.waitUntil(lambda: page.banner_text(ctrl.uri) != "")
    assert page.banner_text(ctrl.uri).startswith(f"Cannot reach {ctrl.uri}")
    assert "Retrying in" in page.banner_text(ctrl.uri)
    qtbot.waitUntil(lambda: page.model.rowCount() == 2 and page.banner_text(ctrl.uri) == "")


def test_unreachable_system_uri_says_what_to_do(qtbot: QtBot, recorder: Recorder) -> None:
    page = VmsPage(uris=["qemu:///system?socket=/nonexistent/libvirt-sock"])
    qtbot.addWidget(page)
    uri = "qemu:///system?socket=/nonexistent/libvirt-sock"
    qtbot.waitUntil(lambda: page.banner_text(uri) != "")
    assert "is libvirtd running? `sudo systemctl start libvirtd`" in page.banner_text(uri)
    page.shutdown()
    page.runner.wait()


def test_dialogs_show_the_diff_blockers_and_fixes(qtbot: QtBot) -> None:
    diff = "--- a/x.xml\n+++ b/x.xml\n@@ -1 +1,2 @@\n <domain>\n+  <hostdev/>\n"
    dialog = DiffDialog("Assign", "Pass 08:00.0 to “gaming”.", diff)
    qtbot.addWidget(dialog)
    assert dialog.text.toPlainText() == diff
    blockers = BlockersDialog("gaming", "Its IOMMU group also holds …", ["01:00.0 USB", "01:00.1 SATA"])
    qtbot.addWidget(blockers)
    assert not blockers.assign_all.isEnabled()  # refused until "take them too" is ticked
    blockers.take.setChecked(True)
    assert blockers.assign_all.isEnabled()
    from vfiodeck.core.vm.preflight import PreflightIssue

    issue = PreflightIssue("0000:99:00.0 is no longer on this host", "Remove it and assign it again.")
    pre = PreflightDialog("gaming", [issue])
    qtbot.addWidget(pre)
    assert "Fix: Remove it and assign it again." in preflight_html("gaming", [issue])
