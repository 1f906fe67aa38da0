"""The VMs page: layout and wiring. What the buttons do lives in one module per concept:
``lifecycle`` (start with pre-flight, shut down, force off, reboot, delete, console), ``assigning``
(drop, assign, remove, hot-plug), ``editing`` (the XML editor), ``undo`` (compare-and-swap undo),
``connections`` (which libvirt connections are open) and ``wizard`` (a new VM).

No libvirt call runs on the GUI thread: every one is a job on its connection's queue
(``gui/jobs.py``) whose result comes back as a queued signal. The graphs module (and pyqtgraph with
it) is imported only when the graphs are first shown, because startup time matters.

Run on its own: ``python -m vfiodeck.gui.vms.standalone --demo``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import libvirt
from PySide6.QtCore import QPoint, QSortFilterProxyModel, Qt, QTimer
from PySide6.QtWidgets import QMenu, QSplitter, QToolBar, QVBoxLayout, QWidget

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.vm.connection import Hypervisor, open_connection
from vfiodeck.core.vm.errors import ConnectionFailedError, ConnectionLostError
from vfiodeck.core.vm.inventory import DomainRow
from vfiodeck.gui import errors
from vfiodeck.gui.actions import ActionRegistry
from vfiodeck.gui.jobs import Jobs
from vfiodeck.gui.plain import plain_label
from vfiodeck.gui.vms import dialogs
from vfiodeck.gui.vms.assigning import Assigning
from vfiodeck.gui.vms.banners import Banners
from vfiodeck.gui.vms.connection import LinkState
from vfiodeck.gui.vms.connections import DEFAULT_URI, ConnectionSet, remember_uri
from vfiodeck.gui.vms.domain_model import ROW_ROLE, SORT_ROLE, Column, DomainModel
from vfiodeck.gui.vms.editing import Editing
from vfiodeck.gui.vms.foreign_host import foreign_host_note
from vfiodeck.gui.vms.lifecycle import Lifecycle
from vfiodeck.gui.vms.table import VmTable
from vfiodeck.gui.vms.undo import UndoStack
from vfiodeck.gui.vms.vm_actions import VmActions

if TYPE_CHECKING:
    from vfiodeck.gui.vms.graphs import GraphsPanel

__all__ = ["DEFAULT_URI", "VmsPage"]


class VmsPage(QWidget):
    """``uris``: libvirt connections to open (default qemu:///system, plus those the user added);
    the page opens them once the event loop runs, so ``set_uris`` right after construction wins."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        uris: Sequence[str] | None = None,
        events: bool = True,
        jobs: Jobs | None = None,
        actions: ActionRegistry | None = None,
        opener: Callable[[str], libvirt.virConnect] = open_connection,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("vmsPage")
        self.host: HostModel | None = None
        self.runner = jobs if jobs is not None else Jobs(self)
        self.connections = ConnectionSet(self.runner, events=events, opener=opener, parent=self)
        self.connections.rows_changed.connect(self._on_rows)
        self.connections.state_changed.connect(self._on_link_state)
        self.model = DomainModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.undo_stack = UndoStack(self)
        self.lifecycle = Lifecycle(self)
        self.assigning = Assigning(self)
        self.editing = Editing(self)
        self.model.devices_dropped.connect(self.assigning.on_dropped)
        self.undo_stack.changed.connect(self._selection_changed)
        self._graphs: GraphsPanel | None = None
        self._build(actions if actions is not None else ActionRegistry())
        self._pending_uris: list[str] | None = list(uris) if uris is not None else []
        QTimer.singleShot(0, self._open_pending)

    @property
    def controllers(self) -> dict[str, Any]:
        return self.connections.controllers

    # -- layout ----------------------------------------------------------------------------
    def _build(self, registry: ActionRegistry) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.toolbar = QToolBar("VMs")
        layout.addWidget(self.toolbar)
        self.banners = Banners()
        layout.addWidget(self.banners)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.view = VmTable()
        self.view.setModel(self.proxy)
        self.view.sortByColumn(Column.NAME, Qt.SortOrder.AscendingOrder)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.activated_row.connect(self.lifecycle.open_console)
        self.splitter.addWidget(self.view)
        self.graph_host = QWidget()
        QVBoxLayout(self.graph_host).setContentsMargins(0, 0, 0, 0)
        self.graph_host.hide()
        self.splitter.addWidget(self.graph_host)
        layout.addWidget(self.splitter, 1)
        self.status = plain_label("Drag a device from the Host view onto a VM to pass it through.")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.acts = VmActions(self, registry)
        self.acts.fill_toolbar(self.toolbar)
        self._selection_changed()

    # -- connections -----------------------------------------------------------------------
    def set_uris(self, uris: Sequence[str]) -> None:
        """Open exactly these connections (the window's ``--connect``); [] keeps the default."""
        if self._pending_uris is not None:
            self._pending_uris = list(uris)
            return
        self.connections.set_uris(uris)

    def _open_pending(self) -> None:
        uris, self._pending_uris = self._pending_uris, None  # None once opened
        if uris is not None:
            self.connections.set_uris(uris)

    def add_connection_dialog(self) -> None:
        uri = dialogs.ask_connection_uri(self)
        if uri:
            remember_uri(uri)  # the next start opens it again
            self._open_pending()
            self.connections.add(uri)

    def _on_rows(self, uri: str, rows: object) -> None:
        if isinstance(rows, tuple) and (uri in self.controllers or not rows):
            self.model.set_domains(uri, rows)
            self._selection_changed()

    def _on_link_state(self, uri: str, state: str, message: str) -> None:
        self.banners.show_text(uri, message if state == LinkState.DOWN.value else "")
        self._show_foreign_note()
        if state == LinkState.UP.value:
            self.undo_stack.reload()  # the history outlives the window

    def banner_text(self, uri: str) -> str:
        return self.banners.text(uri)

    # -- host ------------------------------------------------------------------------------
    def set_host(self, model: HostModel | None) -> None:
        self.host = model
        self.model.set_host(model)
        self._show_foreign_note()
        self.undo_stack.reload()  # undo steps belong to the host they were made on
        if self._graphs is not None:
            self._graphs.set_host(model)
        self._selection_changed()

    def _show_foreign_note(self) -> None:
        self.banners.show_text("foreign", foreign_host_note(self.host, list(self.controllers)))

    # -- selection -------------------------------------------------------------------------
    def selected_row(self) -> DomainRow | None:
        indexes = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        row = self.proxy.data(indexes[0], ROW_ROLE) if indexes else None
        return row if isinstance(row, DomainRow) else None

    def select(self, name: str) -> bool:
        for r in range(self.proxy.rowCount()):
            if self.proxy.data(self.proxy.index(r, 0)) == name:
                self.view.selectRow(r)
                return True
        return False

    def _selection_changed(self, *_args: object) -> None:
        row = self.selected_row()
        tip = self.undo_stack.tooltip() if self.undo_stack.can_undo else None
        self.acts.update(row, row is not None and self.assigning.allowed(row), tip)
        if self._graphs is not None:
            self._graphs.set_vm(row)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if index.isValid():
            self.view.selectRow(index.row())
        menu = QMenu(self)
        self.acts.fill_menu(menu)
        menu.exec(self.view.viewport().mapToGlobal(pos))

    # -- running jobs ----------------------------------------------------------------------
    def run(self, uri: str, fn: Callable[[Hypervisor], Any], done: Callable[[Any], None], intro: str) -> None:
        """``fn(hv)`` on ``uri``'s queue; a failure is shown as "intro: why" and refreshes the list."""
        ctrl = self.connections.get(uri)
        if ctrl is not None:
            ctrl.run(fn, done, lambda err: self.failed(uri, intro, err))

    def failed(self, uri: str, intro: str, err: BaseException) -> None:
        ctrl = self.connections.get(uri)
        if isinstance(err, ConnectionLostError | ConnectionFailedError) and ctrl is not None:
            ctrl.lost(err)
        elif ctrl is not None:
            ctrl.refresh()  # a vanished VM, or a state that changed behind our back
        self.status.setText(f"{intro}: {errors.describe(err)[0]}")
        errors.show_exception(self, intro, err)

    def refresh(self, uri: str) -> None:
        ctrl = self.connections.get(uri)
        if ctrl is not None:
            ctrl.refresh()

    def assign_to_vm(self, addresses: Sequence[str]) -> None:
        self.assigning.assign_to_vm(addresses)

    # -- wizard and graphs -----------------------------------------------------------------
    def new_vm(self) -> None:
        from vfiodeck.gui.vms.wizard import open_wizard

        self.wizard = open_wizard(self)

    def show_graphs(self, visible: bool) -> None:
        self.acts.graphs_action.setChecked(visible)
        if visible and self._graphs is None:
            from vfiodeck.gui.vms.graphs import GraphsPanel

            self._graphs = GraphsPanel(self.controllers, self.runner, self.graph_host)
            self._graphs.set_host(self.host)
            layout = self.graph_host.layout()
            assert layout is not None
            layout.addWidget(self._graphs)
            self.splitter.setSizes([260, 520])
        if self._graphs is not None:
            self._graphs.set_vm(self.selected_row())
            self._graphs.set_active(visible)
        self.graph_host.setVisible(visible)

    @property
    def graphs(self) -> GraphsPanel | None:
        return self._graphs

    def shutdown(self) -> None:
        """Stop timers and queue each connection's close (the window calls this when it closes)."""
        if self._graphs is not None:
            self._graphs.set_active(False)
        self.connections.close_all()
