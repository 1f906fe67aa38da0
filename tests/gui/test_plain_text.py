"""HTML in a host's names (a snapshot's pci.ids, a driver name) is shown as text, not rendered."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from vfiodeck.core.host.candidates import find_candidates
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.scan import scan_host
from vfiodeck.gui import errors
from vfiodeck.gui.models.iommu_model import IommuGroupModel
from vfiodeck.resources import demo_host_path

EVIL = '<b>bold</b><img src="file:///etc/hostname"><a href="x">link</a>'


def _tooltips(model: IommuGroupModel, parent: QModelIndex) -> list[str]:
    tips: list[str] = []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        tip = model.data(index, Qt.ItemDataRole.ToolTipRole)
        if isinstance(tip, str):
            tips.append(tip)
        tips += _tooltips(model, index)
    return tips


def test_device_tooltip_escapes_html() -> None:
    host = scan_host(HostRoot.open(demo_host_path()))
    first = dataclasses.replace(host.pci_devices[0], vendor_name=EVIL)
    host = dataclasses.replace(host, pci_devices=(first, *host.pci_devices[1:]))
    model = IommuGroupModel()
    model.set_host(host, find_candidates(host))
    tips = _tooltips(model, QModelIndex())
    assert any("&lt;b&gt;bold&lt;/b&gt;&lt;img" in tip for tip in tips)
    assert not any("<b>bold" in tip or "<img" in tip for tip in tips)


def test_error_box_is_plain_text(qtbot: QtBot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shown: list[QMessageBox] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box) or 0)
    errors.show_error(None, f"Could not read {EVIL}")
    (box,) = shown
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert box.text() == f"Could not read {EVIL}"
