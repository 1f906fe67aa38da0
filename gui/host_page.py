"""The Host page: the IOMMU group map and the topology view, side by side with device details."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from vfiodeck.core.host.model import Candidate, HostModel
from vfiodeck.gui.details import DetailsPanel
from vfiodeck.gui.models.iommu_model import Column, IommuGroupModel, Role
from vfiodeck.gui.topology_view import TopologyView
from vfiodeck.resources import icon_path

KINDS = (("All devices", "all"), ("GPUs", "gpu"), ("Network", "nic"), ("USB", "usb"), ("Storage", "storage"))
ICON_KINDS = ("gpu", "audio", "usb", "nic", "storage", "bridge", "other")


def kind_icons() -> dict[str, QIcon]:
    return {kind: QIcon(str(icon_path(f"kind-{kind}"))) for kind in ICON_KINDS}


def no_iommu_text(host: HostModel) -> str:
    """Why a host shows no IOMMU groups, and what usually fixes it."""
    vendor = host.cpu.vendor or ""
    intel = (
        "<b>Intel VT-d</b> is switched off in the firmware (BIOS/UEFI setup), or the kernel was "
        "started without <code>intel_iommu=on</code>"
    )
    amd = (
        "<b>AMD IOMMU</b> (also called <b>AMD-Vi</b>) is switched off in the firmware (BIOS/UEFI setup), "
        "or the kernel was started without <code>amd_iommu=on</code> (on by default on most kernels)"
    )
    causes = [amd, intel] if vendor == "AuthenticAMD" else [intel, amd]
    where = "This computer" if host.is_live else "This host"
    return (
        f"<b>{where} shows no IOMMU groups</b>, so nothing can be passed through yet. Likely causes: "
        + "; or ".join(causes)
        + ". A virtual machine or container may also hide the IOMMU."
    )


class NoIommuBanner(QFrame):
    demo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noIommuBanner")
        self.setStyleSheet(
            "#noIommuBanner { background: #fff8e1; border: 1px solid #ffb300; border-radius: 4px; }"
        )
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.demo_button = QPushButton("Open the &demo host")
        self.demo_button.setObjectName("openDemoButton")
        self.demo_button.clicked.connect(self.demo_requested)
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.demo_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    def show_for(self, host: HostModel, offer_demo: bool) -> None:
        self.label.setText(no_iommu_text(host))
        self.demo_button.setVisible(offer_demo)
        self.show()

    @property
    def text(self) -> str:
        return self.label.text()


class HostPage(QWidget):
    demo_requested = Signal()
    device_selected = Signal(str)  # address, or "" when nothing is selected

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hostPage")
        self.host: HostModel | None = None
        self.candidates: tuple[Candidate, ...] = ()

        self.banner = NoIommuBanner()
        self.banner.demo_requested.connect(self.demo_requested)

        self.kind_box = QComboBox()
        self.kind_box.setObjectName("kindFilter")
        for label, kind in KINDS:
            self.kind_box.addItem(label, kind)
        self.search = QLineEdit()
        self.search.setObjectName("searchBox")
        self.search.setPlaceholderText("Search name, vendor, id, address, driver")
        self.search.setClearButtonEnabled(True)
        kind_label = QLabel("&Show:")
        kind_label.setBuddy(self.kind_box)
        search_label = QLabel("Searc&h:")
        search_label.setBuddy(self.search)
        bar = QHBoxLayout()
        bar.addWidget(kind_label)
        bar.addWidget(self.kind_box)
        bar.addSpacing(12)
        bar.addWidget(search_label)
        bar.addWidget(self.search, 1)

        self.model = IommuGroupModel(self)
        self.model.set_icons(kind_icons())
        self.proxy: QAbstractItemModel = self.model  # the model filters itself; the old name stays
        # Groups the user folded (or that hold only bridges), by group id: kept across filters
        # and reloads of the same host instead of being worked out again from the tree.
        self.collapsed_groups: set[int | None] = set()
        self._fold_bridges = True
        self._restoring = False
        self.tree = QTreeView()
        self.tree.setObjectName("groupTree")
        self.tree.setAccessibleName("IOMMU groups")
        self.tree.setModel(self.model)
        self._size_columns()
        self.tree.expanded.connect(lambda index: self._group_folded(index, False))
        self.tree.collapsed.connect(lambda index: self._group_folded(index, True))
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.selectionModel().selectionChanged.connect(self._tree_selection_changed)

        self.topology = TopologyView()
        self.topology.selected.connect(self._topology_selected)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("hostTabs")
        self.tabs.addTab(self.tree, "IOMMU &groups")
        self.tabs.addTab(self.topology, "&Topology")

        self.details = DetailsPanel()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.tabs)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([800, 360])
        self.splitter = splitter

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)

        self.kind_box.currentIndexChanged.connect(self._kind_changed)
        self.search.textChanged.connect(self._search_changed)
        self.setTabOrder(self.kind_box, self.search)
        self.setTabOrder(self.search, self.tabs)
        self.setTabOrder(self.tabs, self.tree)
        self.setTabOrder(self.tree, self.details)

    # -- content ----------------------------------------------------------------------------
    def set_host(
        self, host: HostModel | None, candidates: tuple[Candidate, ...] = (), offer_demo: bool = True
    ) -> None:
        selected = self.selected_address()
        if host is None or self.host is None or host.source != self.host.source:
            self.collapsed_groups = set()  # another host: its own defaults
            self._fold_bridges = True
        self.host = host
        self.candidates = candidates
        self.model.set_host(host, candidates)
        self.topology.set_host(host, candidates)
        self._expand()
        if host is not None and not host.iommu.enabled:
            self.banner.show_for(host, offer_demo)
        else:
            self.banner.hide()
        if selected and host is not None and host.device(selected) is not None:
            self.select_address(selected)  # a refresh keeps the selection
        else:
            self.details.show_nothing()

    def _size_columns(self) -> None:
        """Widths from the header's policy and the font, never from measuring every cell: an
        address, an id pair and a driver name have known lengths; the verdict takes the rest."""
        header = self.tree.header()
        metrics = self.tree.fontMetrics()
        pad = 3 * metrics.averageCharWidth()
        samples = {Column.ADDRESS: "0000:00:00.0", Column.IDS: "0000:0000", Column.DRIVER: "vfio-pci "}
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.tree.setColumnWidth(Column.DEVICE, 330)
        for column, sample in samples.items():
            self.tree.setColumnWidth(column, metrics.horizontalAdvance(sample) + pad)

    def _expand(self) -> None:
        """Expand what the user left open. With a filter on, every match shows. Without, groups
        keep their state; bridge-only groups start folded: they hold nothing to pass, and a Ryzen
        board has a dozen of them above the groups that matter."""
        self._restoring = True
        try:
            if self._fold_bridges and self.host is not None:
                self._fold_bridges = False
                self.collapsed_groups |= self.model.bridge_groups()
            # Right after the model's reset the view's layout is pending, so expand() only
            # records the row; one layout follows. (collapse() after expandAll() relaid the
            # tree once per call.)
            folded = set() if self.model.active else self.collapsed_groups
            for index in self.model.to_expand(folded):
                self.tree.expand(index)
        finally:
            self._restoring = False

    def _group_folded(self, index: QModelIndex, folded: bool) -> None:
        if self._restoring or self.model.active or index.parent().isValid():
            return
        group = index.data(Role.GROUP)
        if folded:
            self.collapsed_groups.add(group)
        else:
            self.collapsed_groups.discard(group)

    def _kind_changed(self) -> None:
        self.model.set_kind(str(self.kind_box.currentData()))
        self._expand()

    def _search_changed(self, text: str) -> None:
        self.model.set_search(text)
        self._expand()

    # -- selection --------------------------------------------------------------------------
    def selected_address(self) -> str | None:
        indexes = self.tree.selectionModel().selectedRows()
        if not indexes:
            return None
        value = indexes[0].data(Role.ADDRESS)
        return str(value) if value else None

    def select_address(self, address: str) -> bool:
        """Select a device's row (clearing filters that hide it); False when it has no row."""
        if self.host is None or self.host.device(address) is None:
            return False
        index = self.model.index_for(address)
        if not index.isValid():
            self.kind_box.setCurrentIndex(0)
            self.search.clear()
            index = self.model.index_for(address)
        if not index.isValid():
            return False
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    def _tree_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        address = self.selected_address()
        self._show_details(address)
        self.topology.select_device(address)

    def _topology_selected(self, key: str) -> None:
        if key.startswith("pci:"):
            address = key[4:]
            self.tree.selectionModel().blockSignals(True)
            try:
                self.select_address(address)
            finally:
                self.tree.selectionModel().blockSignals(False)
            self.tree.viewport().update()
            self._show_details(address)
        else:
            self.details.setPlainText(self.topology.tooltip_for(key))

    def _show_details(self, address: str | None) -> None:
        if address and self.host is not None:
            self.details.show_device(self.host, address, self.candidates)
        else:
            self.details.show_nothing()
        self.device_selected.emit(address or "")

    # -- what the window asks of this page ------------------------------------------------------
    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def zoom(self, step: int) -> None:
        """+1 zooms the topology in, -1 out, 0 fits it to the page."""
        if step > 0:
            self.topology.zoom_in()
        elif step < 0:
            self.topology.zoom_out()
        else:
            self.topology.fit()

    def current_addresses(self) -> list[str]:
        """Every function the current row stands for (a group's, or a device's), [] when none."""
        index = self.tree.currentIndex()
        addresses = index.data(int(Role.ADDRESSES)) if index.isValid() else None
        return list(addresses) if addresses else []

    def add_device_action(self, action: QAction) -> None:
        """An action on the current device: in the tree's context menu and on its shortcut."""
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.tree.addAction(action)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    @property
    def tab(self) -> int:
        return int(self.tabs.currentIndex())

    @tab.setter
    def tab(self, index: int) -> None:
        self.tabs.setCurrentIndex(index)

    @property
    def first_field(self) -> QWidget:
        """Where Tab goes from the page list."""
        return self.kind_box
