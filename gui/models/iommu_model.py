"""The IOMMU group map as a Qt tree: groups, their devices, and each candidate's verdict.

Rows: one per IOMMU group (a synthetic "No IOMMU group" row holds devices no group lists), and
below it the group's devices. A multi-function device's other functions that share its group hang
below its first function, so a GPU's audio and USB-C functions are visibly tied to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import IntEnum

from PySide6.QtCore import (
    QAbstractItemModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QIcon

from vfiodeck.core.host.candidates import device_kind
from vfiodeck.core.host.model import Candidate, HostModel, HostUse, PciDevice
from vfiodeck.core.host.pci import address_key
from vfiodeck.core.text import device_name, short_address
from vfiodeck.gui.mime import PCI_MIME
from vfiodeck.gui.plain import plain_tooltip

ModelIndex = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    DEVICE = 0
    ADDRESS = 1
    IDS = 2
    DRIVER = 3
    VERDICT = 4


HEADERS = {
    Column.DEVICE: "Device",
    Column.ADDRESS: "Address",
    Column.IDS: "IDs",
    Column.DRIVER: "Driver",
    Column.VERDICT: "Verdict",
}


class Role(IntEnum):
    ADDRESS = Qt.ItemDataRole.UserRole + 1  # str for a device row, None for a group row
    GROUP = Qt.ItemDataRole.UserRole + 2  # group id (None for the "no group" row)
    KIND = Qt.ItemDataRole.UserRole + 3  # device_kind(): "gpu", "audio", ... ; "group" for groups
    SEARCH = Qt.ItemDataRole.UserRole + 4  # lowercase text the search box matches
    BADGE = Qt.ItemDataRole.UserRole + 5  # Badge value (str) or None
    ADDRESSES = Qt.ItemDataRole.UserRole + 6  # what a drag carries: list of addresses


class Badge:
    ALONE = "passable alone"
    BLOCKERS = "needs its blockers"
    BRIDGE = "bridge only"
    NO_IOMMU = "IOMMU off"
    UNGROUPED = "not in a group"
    HOST_USES = "used by the host"


BADGE_COLORS = {
    Badge.ALONE: "#2e7d32",
    Badge.BLOCKERS: "#c62828",
    Badge.BRIDGE: "#607d8b",
    Badge.NO_IOMMU: "#8d6e63",
    Badge.UNGROUPED: "#8d6e63",
    Badge.HOST_USES: "#e65100",
}


@dataclass
class _Node:
    parent: int  # index into the node list, -1 for top-level rows
    row: int
    group: int | None
    device: PciDevice | None = None
    children: list[int] = field(default_factory=list)
    badge: str | None = None
    note: str = ""  # the verdict column's text
    addresses: tuple[str, ...] = ()
    uses: tuple[HostUse, ...] = ()  # what the running host needs of this device


def uses_phrase(uses: tuple[HostUse, ...]) -> str:
    """ "root filesystem, default route": what the host would lose, in words."""
    return ", ".join(dict.fromkeys(u.what.value.replace("-", " ") for u in uses))


def badge_for(host: HostModel, candidate: Candidate) -> str:
    if not host.iommu.enabled:
        return Badge.NO_IOMMU
    if candidate.blockers:
        return Badge.BLOCKERS
    if not candidate.isolated:
        return Badge.UNGROUPED
    return Badge.ALONE


class IommuGroupModel(QAbstractItemModel):
    """Read-only tree over one ``HostModel`` and its candidates. Replace both with ``set_host``."""

    def __init__(self, parent: object | None = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self._host: HostModel | None = None
        self._nodes: list[_Node] = []
        self._top: list[int] = []
        self._icons: dict[str, QIcon] = {}

    # -- content ------------------------------------------------------------------------------
    @property
    def host(self) -> HostModel | None:
        return self._host

    def set_icons(self, icons: dict[str, QIcon]) -> None:
        """Kind icons ("gpu", "audio", ...); the model works without them (tests)."""
        self._icons = icons

    def set_host(self, host: HostModel | None, candidates: tuple[Candidate, ...] = ()) -> None:
        self.beginResetModel()
        self._host = host
        self._nodes, self._top = [], []
        if host is not None:
            self._build(host, candidates)
        self.endResetModel()

    def _add(self, node: _Node) -> int:
        self._nodes.append(node)
        index = len(self._nodes) - 1
        if node.parent < 0:
            node.row = len(self._top)
            self._top.append(index)
        else:
            siblings = self._nodes[node.parent].children
            node.row = len(siblings)
            siblings.append(index)
        return index

    def _build(self, host: HostModel, candidates: tuple[Candidate, ...]) -> None:
        by_function = {a: c for c in candidates for a in c.functions}
        companion_of = {a: c.device for c in candidates for a in c.companions}
        uses_of: dict[str, list[HostUse]] = {}
        for use in host.host_uses:
            uses_of.setdefault(use.address, []).append(use)
        blocked_by: dict[str, list[str]] = {}
        for candidate in candidates:
            for blocker in candidate.blockers:
                blocked_by.setdefault(blocker, []).append(candidate.device)
        groups: list[tuple[int | None, tuple[str, ...]]] = [(g.id, g.devices) for g in host.iommu.groups]
        listed = {a for _, members in groups for a in members}
        loose = tuple(d.address for d in host.pci_devices if d.address not in listed)
        if loose:
            groups.append((None, loose))
        for group_id, members in groups:
            addresses = tuple(sorted(members, key=address_key))
            gnode = self._add(_Node(-1, 0, group_id, addresses=addresses))
            devices = [d for d in (host.device(a) for a in addresses) if d is not None]
            if devices and all(d.is_bridge for d in devices):
                self._nodes[gnode].badge = Badge.BRIDGE
                self._nodes[gnode].note = "bridges only: nothing to pass"
            heads: dict[str, int] = {}  # slot -> node of its first function in this group
            for dev in devices:
                head = heads.get(dev.slot)
                parent = gnode if head is None else head
                cand = by_function.get(dev.address)
                node = _Node(parent, 0, group_id, dev, addresses=(dev.address,))
                if cand is not None and cand.device == dev.address:
                    node.badge = badge_for(host, cand)
                    node.note = node.badge
                    node.addresses = cand.functions
                    if cand.host_uses:
                        node.note = f"{Badge.HOST_USES}: {uses_phrase(cand.host_uses)}; {node.badge}"
                        node.badge = Badge.HOST_USES
                    if dev.address in companion_of:
                        node.note += f"; offered with {short_address(companion_of[dev.address])}"
                elif cand is not None:
                    node.note = f"function of {short_address(cand.device)}"
                elif dev.is_bridge:
                    node.badge = Badge.BRIDGE
                    node.note = "bridge: never blocks"
                node.uses = tuple(uses_of.get(dev.address, ()))
                if node.uses and not (cand is not None and cand.device == dev.address):
                    node.note = (
                        node.note + "; " if node.note else ""
                    ) + f"host uses: {uses_phrase(node.uses)}"
                if dev.address in blocked_by:
                    names = ", ".join(short_address(a) for a in blocked_by[dev.address])
                    node.note = (node.note + "; " if node.note else "") + f"blocks {names}"
                index = self._add(node)
                if head is None:
                    heads[dev.slot] = index

    # -- tree plumbing -----------------------------------------------------------------------
    def _node(self, index: ModelIndex) -> _Node | None:
        if not index.isValid():
            return None
        return self._nodes[index.internalId()]

    def index(self, row: int, column: int, parent: ModelIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        pnode = self._node(parent)
        rows = self._top if pnode is None else pnode.children
        if not (0 <= row < len(rows)) or not (0 <= column < len(Column)):
            return QModelIndex()
        return self.createIndex(row, column, rows[row])

    def parent(self, index: ModelIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        node = self._node(index)
        if node is None or node.parent < 0:
            return QModelIndex()
        pnode = self._nodes[node.parent]
        return self.createIndex(pnode.row, 0, node.parent)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        if parent.isValid() and parent.column() != 0:
            return 0
        pnode = self._node(parent)
        return len(self._top) if pnode is None else len(pnode.children)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:  # noqa: N802, E501
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS.get(Column(section)) if 0 <= section < len(Column) else None
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled

    # -- data --------------------------------------------------------------------------------
    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        node = self._node(index)
        if node is None:
            return None
        if role == Role.ADDRESS:
            return node.device.address if node.device else None
        if role == Role.GROUP:
            return node.group
        if role == Role.KIND:
            return device_kind(node.device) if node.device else "group"
        if role == Role.SEARCH:
            return _search_text(node.device) if node.device else ""
        if role == Role.BADGE:
            return node.badge
        if role == Role.ADDRESSES:
            return list(node.addresses)
        column = Column(index.column())
        if node.device is None:
            return self._group_data(node, column, role)
        return self._device_data(node, node.device, column, role)

    def _group_data(self, node: _Node, column: Column, role: int) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            if column is Column.DEVICE:
                title = f"Group {node.group}" if node.group is not None else "No IOMMU group"
                count = len(node.addresses)
                return f"{title}  ({count} device{'s' if count != 1 else ''})"
            if column is Column.VERDICT:
                return node.note or None
        if role == Qt.ItemDataRole.FontRole and column is Column.DEVICE:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return None

    def _device_data(self, node: _Node, dev: PciDevice, column: Column, role: int) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            return _device_column(node, dev, column)
        if role == Qt.ItemDataRole.DecorationRole and column is Column.DEVICE:
            return self._icons.get(device_kind(dev))
        if role == Qt.ItemDataRole.ForegroundRole and column is Column.VERDICT and node.badge:
            return QBrush(QColor(BADGE_COLORS[node.badge]))
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{dev.vendor_name or '?'} {dev.device_name or ''}\n{dev.address}  {dev.class_name or ''}"
            return plain_tooltip(tip + "".join(f"\nUsed by the host: {u.detail}" for u in node.uses))
        return None

    # -- drag --------------------------------------------------------------------------------
    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [PCI_MIME]

    def supportedDragActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.CopyAction

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]  # noqa: N802
        """A device carries its address (a candidate: all its functions); a group, all members."""
        addresses: list[str] = []
        for index in indexes:
            node = self._node(index)
            if node is None:
                continue
            for address in node.addresses:
                if address not in addresses:
                    addresses.append(address)
        mime = QMimeData()
        mime.setData(PCI_MIME, json.dumps(sorted(addresses, key=address_key)).encode())
        return mime


def _device_column(node: _Node, dev: PciDevice, column: Column) -> str | None:
    if column is Column.DEVICE:
        return str(device_name(dev))
    if column is Column.ADDRESS:
        return str(dev.address)
    if column is Column.IDS:
        return str(dev.ids) if dev.ids else None
    if column is Column.DRIVER:
        return dev.driver or "none"
    return node.note or None


def _search_text(dev: PciDevice) -> str:
    parts = (
        dev.address,
        dev.ids,
        dev.vendor_name,
        dev.device_name,
        dev.class_name,
        dev.subsystem_name,
        dev.driver,
        device_name(dev),
    )
    return " ".join(p for p in parts if p).lower()


KIND_FILTERS = {
    "all": None,
    "gpu": frozenset({"gpu"}),
    "nic": frozenset({"nic"}),
    "usb": frozenset({"usb"}),
    "storage": frozenset({"storage"}),
}


class GroupFilterModel(QSortFilterProxyModel):
    """Filter by kind and by search text. A device that matches keeps its group row (recursive
    filtering) and the functions tied below it (auto-accepted children)."""

    def __init__(self, parent: object | None = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self._kinds: frozenset[str] | None = None
        self._words: tuple[str, ...] = ()
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)

    def set_kind(self, kind: str) -> None:
        """One of ``KIND_FILTERS``: "all", "gpu", "nic", "usb", "storage"."""
        self.beginFilterChange()
        self._kinds = KIND_FILTERS.get(kind)
        self.endFilterChange()

    def set_search(self, text: str) -> None:
        self.beginFilterChange()
        self._words = tuple(text.lower().split())
        self.endFilterChange()

    @property
    def active(self) -> bool:
        return self._kinds is not None or bool(self._words)

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:  # noqa: N802
        model = self.sourceModel()
        index = model.index(source_row, 0, source_parent)
        kind = model.data(index, Role.KIND)
        if kind == "group":
            return not self.active  # with a filter on, a group shows only through its devices
        if self._kinds is not None and kind not in self._kinds:
            return False
        text = str(model.data(index, Role.SEARCH) or "")
        return all(word in text for word in self._words)
