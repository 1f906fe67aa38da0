"""DomainModel without a view: rows from the test driver, merging, display values and the drop."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.vm.connection import DomainState, Hypervisor
from vfiodeck.gui.vms.connection import read_rows
from vfiodeck.gui.vms.domain_model import Column, DomainModel, make_pci_mime, parse_pci_mime


def _rows(uri: str) -> tuple:
    hv = Hypervisor(uri, events=False)
    hv.connect()
    try:
        return read_rows(hv)
    finally:
        hv.close()


def _text(model: DomainModel, row: int, column: Column) -> str:
    return model.data(model.index(row, column))


def test_rows_show_name_state_vcpus_memory_and_passed_devices(libvirt_uri: str, x399: HostModel) -> None:
    model = DomainModel()
    QAbstractItemModelTester(model)
    model.set_host(x399)
    model.set_domains(libvirt_uri, _rows(libvirt_uri))
    assert model.rowCount() == 2
    assert [_text(model, r, Column.NAME) for r in range(2)] == ["gaming", "workstation"]
    assert _text(model, 0, Column.STATE) == "running"  # the test driver starts what it loads
    assert _text(model, 1, Column.VCPUS) == "2"
    assert _text(model, 1, Column.MEMORY) == "4 GiB"
    assert _text(model, 0, Column.DEVICES) == "—"
    assert _text(model, 1, Column.DEVICES) == "GeForce GTX 1060 6GB (43:00.0)"


def test_merge_keeps_rows_and_signals_only_changes(qtbot: QtBot, libvirt_uri: str) -> None:
    model = DomainModel()
    rows = _rows(libvirt_uri)
    model.set_domains(libvirt_uri, rows)
    stopped = replace(rows[0], info=replace(rows[0].info, state=DomainState.SHUTOFF))
    with qtbot.waitSignal(model.dataChanged) as changed, qtbot.assertNotEmitted(model.modelReset):
        model.set_domains(libvirt_uri, (stopped, rows[1]))
    assert changed.args[0].row() == 0
    assert _text(model, 0, Column.STATE) == "shut off"
    with qtbot.waitSignal(model.rowsRemoved):
        model.set_domains(libvirt_uri, (rows[1],))
    assert [_text(model, r, Column.NAME) for r in range(model.rowCount())] == ["workstation"]
    # Another connection's rows live beside them.
    model.set_domains("test:///other", [replace(r, uri="test:///other") for r in rows])
    assert model.rowCount() == 3
    model.clear_connection(libvirt_uri)
    assert model.rowCount() == 2


def test_drop_on_a_row_emits_the_addresses(qtbot: QtBot, libvirt_uri: str) -> None:
    model = DomainModel()
    model.set_domains(libvirt_uri, _rows(libvirt_uri))
    mime = make_pci_mime(["0000:08:00.0", "0000:08:00.1"])
    target = model.index(0, 0)
    assert model.canDropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, target)
    with qtbot.waitSignal(model.devices_dropped) as dropped:
        model.dropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, target)
    assert dropped.args == [model.row_at(0).key, ["0000:08:00.0", "0000:08:00.1"]]
    # Not onto a VM, or not our payload: no drop.
    assert not model.canDropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, QModelIndex())
    bad = make_pci_mime([])
    bad.setData("application/x-vfiodeck-pci", b"{not json")
    assert parse_pci_mime(bad) == []
    assert not model.canDropMimeData(bad, Qt.DropAction.CopyAction, -1, -1, target)
