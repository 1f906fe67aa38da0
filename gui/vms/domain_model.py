"""The VM list as a Qt table: one row per domain of every connection, and the drop target for devices.

Rows are merged, not reset, when a connection reports a new list, so selection and scroll position
survive lifecycle events. A drop of PCI addresses (``PCI_MIME``) on a row is not applied here: the
model emits ``devices_dropped(row_key, addresses)`` and the page plans and confirms the change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from enum import IntEnum

from PySide6.QtCore import (
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor

from vfiodeck.core import text
from vfiodeck.core.host.model import HostModel
from vfiodeck.core.vm.connection import DomainState
from vfiodeck.core.vm.inventory import DomainRow, connection_label
from vfiodeck.gui.mime import PCI_MIME
from vfiodeck.gui.plain import plain_tooltip

ModelIndex = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    NAME = 0
    STATE = 1
    VCPUS = 2
    MEMORY = 3
    DEVICES = 4
    CONNECTION = 5


HEADERS = {
    Column.NAME: "Name",
    Column.STATE: "State",
    Column.VCPUS: "vCPUs",
    Column.MEMORY: "Memory",
    Column.DEVICES: "Passed devices",
    Column.CONNECTION: "Connection",
}

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the DomainRow
SORT_ROLE = Qt.ItemDataRole.UserRole + 2

_STATE_COLORS = {
    DomainState.RUNNING: "#2e7d32",
    DomainState.PAUSED: "#f9a825",
    DomainState.CRASHED: "#c62828",
    DomainState.SHUTTING_DOWN: "#ef6c00",
}


def device_label(host: HostModel | None, address: str) -> str:
    """ "GeForce GTX 1080 (08:00.0)": how the VMs page names a host device in lists and sentences."""
    return text.device_label(host.device(address) if host is not None else None, address)


def parse_pci_mime(mime: QMimeData) -> list[str]:
    """The addresses a drag carries; [] when the payload is not a JSON list of strings."""
    if not mime.hasFormat(PCI_MIME):
        return []
    try:
        value = json.loads(bytes(mime.data(PCI_MIME).data()).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return []
    if not isinstance(value, list):
        return []
    return [str(v).lower() for v in value if isinstance(v, str)]


def make_pci_mime(addresses: Sequence[str]) -> QMimeData:
    mime = QMimeData()
    mime.setData(PCI_MIME, json.dumps(list(addresses)).encode("utf-8"))
    return mime


class DomainModel(QAbstractTableModel):
    devices_dropped = Signal(object, object)  # row key (uri, uuid), list of addresses

    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self._rows: list[DomainRow] = []
        self._host: HostModel | None = None

    # -- data in ----------------------------------------------------------------------------
    def set_host(self, host: HostModel | None) -> None:
        self._host = host
        if self._rows:
            self._changed(0, len(self._rows) - 1, Column.DEVICES)

    def set_domains(self, uri: str, rows: Iterable[DomainRow]) -> None:
        """Replace the rows of ``uri`` with ``rows``: removed, updated and added rows are signalled
        one by one so views keep their selection."""
        new = {r.key: r for r in rows}
        for i in reversed(range(len(self._rows))):
            row = self._rows[i]
            if row.uri == uri and row.key not in new:
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self.endRemoveRows()
        for i, row in enumerate(self._rows):
            if row.key in new:
                fresh = new.pop(row.key)
                if fresh != row:
                    self._rows[i] = fresh
                    self._changed(i, i)
        if new:
            first = len(self._rows)
            added = sorted(new.values(), key=lambda r: r.info.name.lower())
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            self._rows.extend(added)
            self.endInsertRows()

    def clear_connection(self, uri: str) -> None:
        self.set_domains(uri, ())

    def _changed(self, first: int, last: int, column: Column | None = None) -> None:
        left = self.index(first, column if column is not None else 0)
        right = self.index(last, column if column is not None else len(Column) - 1)
        self.dataChanged.emit(left, right)

    # -- data out ---------------------------------------------------------------------------
    def rows(self) -> tuple[DomainRow, ...]:
        return tuple(self._rows)

    def row_at(self, row: int) -> DomainRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def find(self, key: tuple[str, str]) -> int:
        return next((i for i, r in enumerate(self._rows) if r.key == key), -1)

    def find_name(self, name: str, uri: str | None = None) -> DomainRow | None:
        return next((r for r in self._rows if r.info.name == name and (uri is None or r.uri == uri)), None)

    def running_devices(self, uri: str) -> dict[str, tuple[str, ...]]:
        return {r.info.name: r.devices for r in self._rows if r.uri == uri and r.info.state.is_active}

    def device_label(self, address: str) -> str:
        return device_label(self._host, address)

    def _devices_text(self, row: DomainRow) -> str:
        # Functions of one slot read as one device: "GeForce GTX 1080 (08:00.0) +1 function".
        slots: dict[str, list[str]] = {}
        for address in row.devices:
            slots.setdefault(address.rsplit(".", 1)[0], []).append(address)
        parts = []
        for functions in slots.values():
            extra = len(functions) - 1
            more = f" +{extra} function{'s' if extra > 1 else ''}" if extra else ""
            parts.append(self.device_label(functions[0]) + more)
        return ", ".join(parts) if parts else "—"

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(Column)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        column = Column(index.column())
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == SORT_ROLE:
            return self._sort_value(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and column is Column.STATE:
            color = _STATE_COLORS.get(row.info.state)
            return QBrush(QColor(color)) if color else None
        if role == Qt.ItemDataRole.ToolTipRole and column is Column.DEVICES:
            return plain_tooltip("\n".join(self.device_label(a) for a in row.devices) or "No passed devices")
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (Column.VCPUS, Column.MEMORY):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: DomainRow, column: Column) -> str:
        info = row.info
        if column is Column.NAME:
            return str(info.name)
        if column is Column.STATE:
            return str(info.state.value)
        if column is Column.VCPUS:
            return str(info.vcpus)
        if column is Column.MEMORY:
            return text.kib_text(info.memory_kib)
        if column is Column.DEVICES:
            return self._devices_text(row)
        return connection_label(row.uri)

    def _sort_value(self, row: DomainRow, column: Column) -> object:
        if column is Column.VCPUS:
            return row.info.vcpus
        if column is Column.MEMORY:
            return row.info.memory_kib
        if column is Column.DEVICES:
            return len(row.devices)
        return self._display(row, column).lower()

    # -- drop -------------------------------------------------------------------------------
    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDropEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [PCI_MIME]

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def _target(self, row: int, parent: ModelIndex) -> DomainRow | None:
        # A drop onto an item arrives as (row -1, parent = that item); between rows as (row, invalid).
        return self.row_at(parent.row()) if parent.isValid() else self.row_at(row)

    def canDropMimeData(  # noqa: N802
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: ModelIndex
    ) -> bool:
        return bool(parse_pci_mime(data)) and self._target(row, parent) is not None

    def dropMimeData(  # noqa: N802
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: ModelIndex
    ) -> bool:
        addresses = parse_pci_mime(data)
        target = self._target(row, parent)
        if not addresses or target is None:
            return False
        self.devices_dropped.emit(target.key, addresses)
        # False: nothing was inserted into this model; the page applies the change after a confirm.
        return False
