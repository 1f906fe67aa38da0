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
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QIcon

from vfiodeck.core.host.candidates import device_kind
from vfiodeck.core.host.model import Candidate, HostModel, HostUse, PciDevice
from vfiodeck.core.host.pci import address_key
from vfiodeck.core.text import device_name, short_address
from vfiodeck.gui.mime import PCI_MIME
from vfiodeck.gui.models import group_filter
from vfiodeck.gui.models.badges import BADGE_COLORS, Badge, badge_for, uses_phrase
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


_HEADER_TEXT = tuple(HEADERS[c] for c in Column)
_COLUMNS = len(_HEADER_TEXT)
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled


class Role(IntEnum):
    ADDRESS = Qt.ItemDataRole.UserRole + 1  # str for a device row, None for a group row
    GROUP = Qt.ItemDataRole.UserRole + 2  # group id (None for the "no group" row)
    KIND = Qt.ItemDataRole.UserRole + 3  # device_kind(): "gpu", "audio", ... ; "group" for groups
    SEARCH = Qt.ItemDataRole.UserRole + 4  # lowercase text the search box matches
    BADGE = Qt.ItemDataRole.UserRole + 5  # Badge value (str) or None
    ADDRESSES = Qt.ItemDataRole.UserRole + 6  # what a drag carries: list of addresses


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
    kind: str = "group"  # device_kind(), worked out once per host, not per filter pass
    text: str = ""  # lowercase text the search box matches
    uses: tuple[HostUse, ...] = ()  # what the running host needs of this device


class IommuGroupModel(QAbstractItemModel):
    """Read-only tree over one ``HostModel`` and its candidates. Replace both with ``set_host``."""

    def __init__(self, parent: object | None = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self._host: HostModel | None = None
        self._nodes: list[_Node] = []
        self._all_top: list[int] = []  # every group's node
        self._top: list[int] = []  # the groups shown under the current filter
        self._kids: dict[int, list[int]] = {}  # node -> its children shown
        self._vrow: dict[int, int] = {}  # node -> its row among what is shown
        self._by_address: dict[str, int] = {}
        self._icons: dict[str, QIcon] = {}
        self._kinds: frozenset[str] | None = None
        self._words: tuple[str, ...] = ()
        self._matches: set[int] | None = None  # device nodes whose text has every word

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
        self._nodes, self._all_top, self._by_address = [], [], {}
        if host is not None:
            self._build(host, candidates)
        self._matches = self._match(self._words, None)
        self._show()
        self.endResetModel()

    # -- filter: done here, in one pass over plain lists, rather than by a proxy model that
    # calls back into Python for every row and its parents (0.5 s a keystroke at 1000 devices).
    @property
    def active(self) -> bool:
        return self._kinds is not None or bool(self._words)

    def set_kind(self, kind: str) -> None:
        """One of ``KIND_FILTERS``: "all", "gpu", "nic", "usb", "storage"."""
        self._refilter(KIND_FILTERS.get(kind), self._words)

    def set_search(self, text: str) -> None:
        self._refilter(self._kinds, tuple(text.lower().split()))

    def _refilter(self, kinds: frozenset[str] | None, words: tuple[str, ...]) -> None:
        if kinds == self._kinds and words == self._words:
            return
        # Typing on narrows the last search: look only among its matches.
        narrower = self._matches is not None and group_filter.narrows(words, self._words)
        matches = self._match(words, self._matches if narrower else None)
        self.beginResetModel()
        self._kinds, self._words, self._matches = kinds, words, matches
        self._show()
        self.endResetModel()

    def _match(self, words: tuple[str, ...], pool: set[int] | None) -> set[int] | None:
        nodes = self._nodes
        return group_filter.matching(
            words, pool if pool is not None else self._by_address.values(), lambda n: nodes[n].text
        )

    def _show(self) -> None:
        if not self.active:
            self._top = list(self._all_top)
            self._kids = {i: n.children for i, n in enumerate(self._nodes) if n.children}
        else:
            self._top, self._kids = group_filter.shown(
                self._nodes, self._all_top, self._by_address.values(), self._kinds, self._matches
            )
        self._vrow = {n: r for r, n in enumerate(self._top)}
        for kids in self._kids.values():
            for r, c in enumerate(kids):
                self._vrow[c] = r

    def index_for(self, address: str) -> QModelIndex:
        """The row of a device, or an invalid index when it is filtered out or unknown."""
        node = self._by_address.get(address)
        if node is None or node not in self._vrow:
            return QModelIndex()
        return self.createIndex(self._vrow[node], 0, node)

    def to_expand(self, folded: set[int | None]) -> list[QModelIndex]:
        """Every shown row with children, except the groups in ``folded`` and what is below them."""
        out: list[QModelIndex] = []
        stack = [n for n in self._top if self._nodes[n].group not in folded]
        while stack:
            node = stack.pop()
            kids = self._kids.get(node)
            if kids:
                out.append(self.createIndex(self._vrow[node], 0, node))
                stack.extend(kids)
        return out

    def bridge_groups(self) -> set[int | None]:
        return {self._nodes[n].group for n in self._all_top if self._nodes[n].badge == Badge.BRIDGE}

    def _add(self, node: _Node) -> int:
        self._nodes.append(node)
        index = len(self._nodes) - 1
        if node.device is not None:
            node.kind = device_kind(node.device)
            node.text = group_filter.search_text(node.device)
            self._by_address[node.device.address] = index
        if node.parent < 0:
            node.row = len(self._all_top)
            self._all_top.append(index)
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
        rows = self._kids.get(parent.internalId(), ()) if parent.isValid() else self._top
        if not (0 <= row < len(rows)) or not (0 <= column < _COLUMNS):
            return QModelIndex()
        return self.createIndex(row, column, rows[row])

    def parent(self, index: ModelIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        up = self._nodes[index.internalId()].parent
        if up < 0:
            return QModelIndex()
        return self.createIndex(self._vrow[up], 0, up)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        if not parent.isValid():
            return len(self._top)
        if parent.column() != 0:
            return 0
        return len(self._kids.get(parent.internalId(), ()))

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return _COLUMNS

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:  # noqa: N802, E501
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADER_TEXT[section] if 0 <= section < len(_HEADER_TEXT) else None
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _FLAGS

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
            return node.kind
        if role == Role.SEARCH:
            return node.text
        if role == Role.BADGE:
            return node.badge
        if role == Role.ADDRESSES:
            return list(node.addresses)
        column = index.column()  # a plain int: Column(...) per cell is measurable at 5000 rows
        if node.device is None:
            return self._group_data(node, column, role)
        return self._device_data(node, node.device, column, role)

    def _group_data(self, node: _Node, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == Column.DEVICE:
                title = f"Group {node.group}" if node.group is not None else "No IOMMU group"
                count = len(node.addresses)
                return f"{title}  ({count} device{'s' if count != 1 else ''})"
            if column == Column.VERDICT:
                return node.note or None
        if role == Qt.ItemDataRole.FontRole and column == Column.DEVICE:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return None

    def _device_data(self, node: _Node, dev: PciDevice, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            return _device_column(node, dev, column)
        if role == Qt.ItemDataRole.DecorationRole and column == Column.DEVICE:
            return self._icons.get(device_kind(dev))
        if role == Qt.ItemDataRole.ForegroundRole and column == Column.VERDICT and node.badge:
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


def _device_column(node: _Node, dev: PciDevice, column: int) -> str | None:
    if column == Column.DEVICE:
        return str(device_name(dev))
    if column == Column.ADDRESS:
        return str(dev.address)
    if column == Column.IDS:
        return str(dev.ids) if dev.ids else None
    if column == Column.DRIVER:
        return dev.driver or "none"
    return node.note or None


KIND_FILTERS = {
    "all": None,
    "gpu": frozenset({"gpu"}),
    "nic": frozenset({"nic"}),
    "usb": frozenset({"usb"}),
    "storage": frozenset({"storage"}),
}
