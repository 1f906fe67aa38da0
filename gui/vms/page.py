"""The VMs page: connections, the VM list, lifecycle buttons, device assignment with a diff and undo,
the new-VM wizard and live graphs.

No libvirt call runs on the GUI thread: every action is a job (``workers.JobRunner``) whose result
comes back as a queued signal. The graphs module (and pyqtgraph with it) is imported only when the
graphs are first shown, because startup time matters.

Run on its own: ``python -m vfiodeck.gui.vms.page --demo``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from vfiodeck.core.host.candidates import find_candidates
from vfiodeck.core.host.model import HostModel
from vfiodeck.core.plan.assign import (
    HIDE_HYPERVISOR_WHY,
    AssignPlan,
    XmlChange,
    assign_change,
    plan_assign_many,
    remove_change,
)
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.domainxml import DomainXml, DomainXmlError
from vfiodeck.core.vm.errors import ConnectionFailedError, ConnectionLostError, VmError
from vfiodeck.core.vm.preflight import PreflightIssue, preflight_issues
from vfiodeck.gui.plain import plain_label
from vfiodeck.gui.vms import dialogs, errors
from vfiodeck.gui.vms.connection import ConnectionController, DomainRow, LinkState
from vfiodeck.gui.vms.domain_model import ROW_ROLE, SORT_ROLE, Column, DomainModel
from vfiodeck.gui.vms.workers import JobRunner

if TYPE_CHECKING:
    from vfiodeck.gui.vms.graphs import GraphsPanel

log = logging.getLogger(__name__)
DEFAULT_URI = "qemu:///system"


@dataclass(frozen=True)
class UndoEntry:
    uri: str
    name: str
    previous_xml: str  # the inactive definition before the change
    what: str  # "Assign GeForce GTX 1080 to win11", for the Undo button's tooltip


class VmTable(QTableView):
    """The VM list; a drop of PCI addresses on a row goes to the model's ``dropMimeData``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropOverwriteMode(True)  # drop *on* a row, never between rows
        self.setSortingEnabled(True)
        self.setAlternatingRowColors(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(Column.DEVICES, QHeaderView.ResizeMode.Stretch)


class VmsPage(QWidget):
    """The VMs page. ``uris``: libvirt connections to open (default qemu:///system); the page opens
    them once the event loop runs, so ``set_uris`` right after construction replaces them."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        uris: Sequence[str] | None = None,
        events: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("vmsPage")
        self.host: HostModel | None = None
        self.events = events
        self.runner = JobRunner(parent=self)
        self.controllers: dict[str, ConnectionController] = {}
        self.undo_stack: list[UndoEntry] = []
        self.model = DomainModel(self)
        self.model.devices_dropped.connect(self._on_dropped)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self._graphs: GraphsPanel | None = None
        self._build()
        self._pending_uris: list[str] | None = list(uris) if uris is not None else [DEFAULT_URI]
        QTimer.singleShot(0, self._open_pending)

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.toolbar = QToolBar("VMs")
        layout.addWidget(self.toolbar)
        self.banners = QVBoxLayout()
        layout.addLayout(self.banners)
        self._banner_labels: dict[str, QLabel] = {}
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.view = VmTable()
        self.view.setModel(self.proxy)
        self.view.sortByColumn(Column.NAME, Qt.SortOrder.AscendingOrder)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.doubleClicked.connect(lambda _i: self.show_graphs(True))
        self.splitter.addWidget(self.view)
        self.graph_host = QWidget()
        QVBoxLayout(self.graph_host).setContentsMargins(0, 0, 0, 0)
        self.graph_host.hide()
        self.splitter.addWidget(self.graph_host)
        layout.addWidget(self.splitter, 1)
        bottom = QHBoxLayout()
        self.status = plain_label("Drag a device from the Host view onto a VM to pass it through.")
        self.status.setWordWrap(True)
        bottom.addWidget(self.status, 1)
        layout.addLayout(bottom)
        self._make_actions()

    def _action(
        self, text: str, slot: Callable[[], object], shortcut: str | None = None, tip: str = ""
    ) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(lambda _checked=False: slot())
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        if tip:
            action.setToolTip(tip)
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        self.start_action = self._action(
            "Start", self.start_selected, "Ctrl+Return", "Pre-flight, then start"
        )
        self.stop_action = self._action(
            "Shut down", self.shutdown_selected, None, "Ask the guest to power off"
        )
        self.destroy_action = self._action("Force off", self.destroy_selected, None, "Pull the plug")
        self.reboot_action = self._action("Reboot", self.reboot_selected)
        self.assign_action = self._action("Assign device…", self.assign_device_dialog, "Ctrl+D")
        self.remove_action = self._action("Remove from VM…", self.remove_device_dialog, "Ctrl+Shift+D")
        self.undo_action = self._action("Undo", self.undo, "Ctrl+Z", "Restore the previous definition")
        self.new_action = self._action("New VM…", self.new_vm, "Ctrl+N")
        self.connect_action = self._action("Add connection…", self.add_connection_dialog)
        self.graphs_action = self._action("Graphs", lambda: self.show_graphs(self.graphs_action.isChecked()))
        self.graphs_action.setCheckable(True)
        for action in (self.start_action, self.stop_action, self.destroy_action, self.reboot_action):
            self.toolbar.addAction(action)
        self.toolbar.addSeparator()
        for action in (self.assign_action, self.remove_action, self.undo_action):
            self.toolbar.addAction(action)
        self.toolbar.addSeparator()
        for action in (self.new_action, self.connect_action, self.graphs_action):
            self.toolbar.addAction(action)
        self._selection_changed()

    # -- connections -----------------------------------------------------------------------
    def set_uris(self, uris: Sequence[str]) -> None:
        """Open exactly these connections (the window's ``--connect``); [] keeps the default."""
        wanted = list(dict.fromkeys(uris)) or [DEFAULT_URI]
        if self._pending_uris is not None:
            self._pending_uris = wanted
            return
        for uri in list(self.controllers):
            if uri not in wanted:
                self.remove_connection(uri)
        for uri in wanted:
            self.add_connection(uri)

    def _open_pending(self) -> None:
        uris, self._pending_uris = self._pending_uris, None
        for uri in uris or ():
            self.add_connection(uri)

    def add_connection(self, uri: str) -> ConnectionController:
        if self._pending_uris is not None:
            self._open_pending()
        if uri in self.controllers:
            return self.controllers[uri]
        ctrl = ConnectionController(uri, self.runner, events=self.events, parent=self)
        ctrl.rows_changed.connect(self._on_rows)
        ctrl.state_changed.connect(self._on_link_state)
        self.controllers[uri] = ctrl
        ctrl.connect_now()
        return ctrl

    def remove_connection(self, uri: str) -> None:
        ctrl = self.controllers.pop(uri, None)
        if ctrl is not None:
            ctrl.close()
        self.model.clear_connection(uri)
        self._on_link_state(uri, LinkState.UP.value, "")

    def add_connection_dialog(self) -> None:
        uri = dialogs.ask_connection_uri(self)
        if uri:
            self.add_connection(uri)

    def _on_rows(self, uri: str, rows: object) -> None:
        if uri in self.controllers and isinstance(rows, tuple):
            self.model.set_domains(uri, rows)
            self._selection_changed()
            if self._graphs is not None:
                self._graphs.set_vm(self.selected_row())

    def _on_link_state(self, uri: str, state: str, message: str) -> None:
        banner = self._banner_labels.get(uri)
        if state != LinkState.DOWN.value:
            if banner is not None:
                banner.hide()
            return
        if banner is None:
            banner = QLabel()
            banner.setWordWrap(True)
            banner.setTextFormat(Qt.TextFormat.PlainText)
            banner.setStyleSheet(
                "QLabel { background: #fff3cd; color: #5c4400; border: 1px solid #e0c36a;"
                " border-radius: 4px; padding: 6px; }"
            )
            self.banners.addWidget(banner)
            self._banner_labels[uri] = banner
        banner.setText(message)
        banner.show()

    def banner_text(self, uri: str) -> str:
        banner = self._banner_labels.get(uri)
        return banner.text() if banner is not None and not banner.isHidden() else ""

    # -- host ------------------------------------------------------------------------------
    def set_host(self, model: HostModel | None) -> None:
        self.host = model
        self.model.set_host(model)
        if self._graphs is not None:
            self._graphs.set_host(model)

    # -- selection -------------------------------------------------------------------------
    def selected_row(self) -> DomainRow | None:
        indexes = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        if not indexes:
            return None
        row = self.proxy.data(indexes[0], ROW_ROLE)
        return row if isinstance(row, DomainRow) else None

    def select(self, name: str) -> None:
        for r in range(self.proxy.rowCount()):
            index = self.proxy.index(r, 0)
            if self.proxy.data(index) == name:
                self.view.selectRow(r)
                return

    def _selection_changed(self, *_args: object) -> None:
        row = self.selected_row()
        active = row is not None and row.info.state.is_active
        self.start_action.setEnabled(row is not None and not active)
        for action in (self.stop_action, self.destroy_action, self.reboot_action):
            action.setEnabled(active)
        self.assign_action.setEnabled(row is not None and self.host is not None)
        self.remove_action.setEnabled(row is not None and bool(row.devices))
        self.undo_action.setEnabled(bool(self.undo_stack))
        self.undo_action.setToolTip(
            f"Undo: {self.undo_stack[-1].what} (Ctrl+Z)" if self.undo_stack else "Nothing to undo"
        )
        if self._graphs is not None:
            self._graphs.set_vm(row)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if index.isValid():
            self.view.selectRow(index.row())
        menu = QMenu(self)
        for action in (self.start_action, self.stop_action, self.destroy_action, self.reboot_action):
            menu.addAction(action)
        menu.addSeparator()
        for action in (self.assign_action, self.remove_action, self.undo_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.new_action)
        menu.exec(self.view.viewport().mapToGlobal(pos))

    # -- running actions -------------------------------------------------------------------
    def _hv(self, row: DomainRow) -> Hypervisor | None:
        ctrl = self.controllers.get(row.uri)
        return ctrl.hv if ctrl is not None else None

    def _run(
        self, row: DomainRow, fn: Callable[[Hypervisor], Any], done: Callable[[Any], None], intro: str
    ) -> None:
        hv = self._hv(row)
        if hv is None:
            return
        self.runner.run(lambda: fn(hv), done, lambda err: self._failed(row, intro, err))

    def _failed(self, row: DomainRow, intro: str, err: BaseException) -> None:
        ctrl = self.controllers.get(row.uri)
        if isinstance(err, ConnectionLostError | ConnectionFailedError) and ctrl is not None:
            ctrl.lost(err)
        elif ctrl is not None:
            ctrl.refresh()  # a vanished VM, or a state that changed behind our back
        self.status.setText(f"{intro}: {errors.describe(err)[0]}")
        errors.show_exception(self, intro, err)

    def _lifecycle(self, verb: str, call: Callable[[Hypervisor, str], None]) -> None:
        row = self.selected_row()
        if row is None:
            return
        name = row.info.name

        def done(_result: object) -> None:
            self.status.setText(f"{verb} “{name}”.")
            self._refresh(row.uri)

        self._run(row, lambda hv: call(hv, name), done, f"Could not {verb.lower()} “{name}”")

    def shutdown_selected(self) -> None:
        self._lifecycle("Shut down", Hypervisor.shutdown)

    def destroy_selected(self) -> None:
        self._lifecycle("Force off", Hypervisor.destroy)

    def reboot_selected(self) -> None:
        self._lifecycle("Reboot", Hypervisor.reboot)

    def _refresh(self, uri: str) -> None:
        ctrl = self.controllers.get(uri)
        if ctrl is not None:
            ctrl.refresh()

    def start_selected(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.start(row)

    def start(self, row: DomainRow) -> None:
        """Pre-flight on a worker; a clean pre-flight starts the VM, problems are listed with fixes."""
        host = self.host
        running = self.model.running_devices(row.uri)
        name = row.info.name

        def work(hv: Hypervisor) -> tuple[PreflightIssue, ...]:
            root = host.root if host is not None else None
            issues = preflight_issues(host, root, hv.inactive_xml(name), running)
            if not issues:
                hv.start(name)
            return issues

        def done(issues: tuple[PreflightIssue, ...]) -> None:
            if issues:
                self.status.setText(f"“{name}” was not started: {issues[0].title}.")
                dialogs.show_preflight(self, name, issues)
            else:
                self.status.setText(f"Started “{name}”.")
            self._refresh(row.uri)

        self._run(row, work, done, f"Could not start “{name}”")

    # -- assignment ------------------------------------------------------------------------
    def _on_dropped(self, key: object, addresses: object) -> None:
        row = self.model.row_at(self.model.find(key)) if isinstance(key, tuple) else None
        if row is not None and isinstance(addresses, list):
            self.assign(row, addresses)

    def assign(self, row: DomainRow, addresses: Sequence[str], take_blockers: bool = False) -> None:
        """Plan passing ``addresses`` to ``row``'s VM; confirm the diff; define; push an undo entry."""
        host = self.host
        if host is None:
            self.status.setText("The host is still being read: try again in a moment.")
            return
        name = row.info.name

        def work(hv: Hypervisor) -> tuple[AssignPlan, XmlChange | None]:
            domains = read_domains(hv, name)
            plan = plan_assign_many(host, domains, name, addresses, take_blockers=take_blockers)
            if not plan.ok:
                return plan, None
            # Advised only for a GeForce whose VM does not hide it yet; the diff shows it, undo reverts it.
            hide = plan.hide_hypervisor_advised
            return plan, assign_change(plan, domains[name].original, hide_hypervisor=hide)

        self._run(
            row,
            work,
            lambda result: self._review_assign(row, addresses, *result),
            f"Could not change “{name}”",
        )

    def _review_assign(
        self, row: DomainRow, addresses: Sequence[str], plan: AssignPlan, change: XmlChange | None
    ) -> None:
        name = row.info.name
        label = self.model.device_label
        if plan.blocked:
            self.status.setText(f"Not assigned to “{name}”: {plan.refused}")
            blockers = [label(b) for b in plan.blockers]
            if dialogs.ask_take_blockers(self, name, plan.refused or "", blockers):
                self.assign(row, addresses, take_blockers=True)
            return
        if plan.refused is not None or change is None:
            self.status.setText(f"Not assigned to “{name}”: {plan.refused}")
            errors.show_error(self, f"Can't pass that to “{name}”: {plan.refused}")
            return
        if not change.changes:
            self.status.setText(f"“{name}” already passes {', '.join(label(a) for a in plan.functions)}.")
            return
        what = ", ".join(label(a) for a in change.addresses) or "the devices' ids"
        intro = [f"Pass {what} to “{name}”."]
        for warning in plan.warnings:
            if warning == HIDE_HYPERVISOR_WHY:
                intro.append(f"The change also hides the hypervisor from the guest: {warning}")
            else:
                intro.append(f"⚠ {warning}")
        if row.info.state.is_active:
            intro.append("The VM is running: the change takes effect at its next start.")
        if dialogs.confirm_diff(self, f"Assign to {name}", "\n".join(intro), change.diff):
            self._define(row, change, f"Assign {what} to {name}")

    def _define(self, row: DomainRow, change: XmlChange, what: str) -> None:
        def done(_info: object) -> None:
            self.undo_stack.append(UndoEntry(row.uri, row.info.name, change.old_xml, what))
            self.status.setText(f"{what}. Undo with Ctrl+Z.")
            self._selection_changed()
            self._refresh(row.uri)

        self._run(row, lambda hv: hv.define(change.new_xml), done, f"Could not change “{row.info.name}”")

    def assign_device_dialog(self) -> None:
        row = self.selected_row()
        if row is None or self.host is None:
            return
        candidates = find_candidates(self.host)
        labels = [
            f"{self.model.device_label(c.device)}  ({c.kind.value}, "
            f"{'alone' if c.isolated else 'shared group'})"
            for c in candidates
        ]
        choice = dialogs.ask_choice(self, "Assign device", f"Pass which device to “{row.info.name}”?", labels)
        if choice is not None:
            self.assign(row, candidates[choice].functions)

    def assign_to_vm(self, addresses: Sequence[str]) -> None:
        """The Host view's "Assign to VM…": ask which VM, then assign as a drop would."""
        rows = self.model.rows()
        choice = dialogs.ask_choice(self, "Assign to VM", "Pass to which VM?", [r.info.name for r in rows])
        if choice is not None:
            self.assign(rows[choice], addresses)

    def remove_device_dialog(self) -> None:
        row = self.selected_row()
        if row is None or not row.devices:
            return
        slots = list(dict.fromkeys(a.rsplit(".", 1)[0] + ".0" for a in row.devices))
        choice = dialogs.ask_choice(
            self,
            "Remove from VM",
            f"Take which device off “{row.info.name}”?",
            [self.model.device_label(s) for s in slots],
        )
        if choice is not None:
            self.remove(row, [slots[choice]])

    def remove(self, row: DomainRow, addresses: Sequence[str]) -> None:
        host = self.host
        name = row.info.name

        def work(hv: Hypervisor) -> XmlChange:
            return remove_change(host, hv.inactive_xml(name), addresses)

        def review(change: XmlChange) -> None:
            if not change.changes:
                return
            what = ", ".join(self.model.device_label(a) for a in change.addresses)
            if dialogs.confirm_diff(self, f"Remove from {name}", f"Take {what} off “{name}”.", change.diff):
                self._define(row, change, f"Remove {what} from {name}")

        self._run(row, work, review, f"Could not change “{name}”")

    def undo(self) -> None:
        """Restore the inactive definition from before the last change."""
        if not self.undo_stack:
            return
        ctrl = self.controllers.get(self.undo_stack[-1].uri)
        if ctrl is None:
            return
        entry = self.undo_stack.pop()  # at once: a second Ctrl+Z must not undo the same change twice
        self._selection_changed()

        def done(_info: object) -> None:
            self.status.setText(f"Undone: {entry.what}.")
            ctrl.refresh()

        def failed(err: BaseException) -> None:
            self.undo_stack.append(entry)
            self._selection_changed()
            self.status.setText(f"Could not undo: {errors.describe(err)[0]}")
            errors.show_exception(self, "Could not undo", err)

        self.runner.run(lambda: ctrl.hv.define(entry.previous_xml), done, failed)

    # -- wizard and graphs -----------------------------------------------------------------
    def new_vm(self) -> None:
        from vfiodeck.gui.vms.wizard import NewVmWizard

        ups = [u for u, c in self.controllers.items() if c.state is LinkState.UP]
        if not ups:
            errors.show_error(self, "No libvirt connection is up: connect first, then create the VM.")
            return
        row = self.selected_row()
        uri = row.uri if row is not None and row.uri in ups else ups[0]
        wizard = NewVmWizard(self.controllers[uri].hv, self.host, self.runner, self)
        wizard.defined.connect(lambda _name: self._refresh(uri))
        wizard.open()
        self.wizard = wizard

    def show_graphs(self, visible: bool) -> None:
        self.graphs_action.setChecked(visible)
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
        """Stop timers and close connections (the window calls this when it closes)."""
        if self._graphs is not None:
            self._graphs.set_active(False)
        for uri in list(self.controllers):
            self.controllers.pop(uri).close()


def read_domains(hv: Hypervisor, name: str) -> dict[str, DomainXml]:
    """Every definition on ``hv`` by name, for the planner's "already in another VM" check. Blocking.
    Another VM that vanished or does not parse is left out; ``name`` itself must be read."""
    domains = {name: DomainXml.parse(hv.inactive_xml(name))}
    for info in hv.list_domains():
        if info.name == name:
            continue
        try:
            domains[info.name] = DomainXml.parse(hv.inactive_xml(info.name))
        except (VmError, DomainXmlError) as err:
            log.info("not checking %s for shared devices: %s", info.name, err)
    return domains


# -- standalone ---------------------------------------------------------------------------------
def _demo_uri() -> str:
    from vfiodeck.resources import demo_libvirt_xml

    return "test://" + str(demo_libvirt_xml())


def _demo_host() -> HostModel:
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.host.scan import scan_host
    from vfiodeck.resources import demo_host_path

    return scan_host(HostRoot.open(demo_host_path()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vfiodeck.gui.vms.page", description=__doc__)
    parser.add_argument("--demo", action="store_true", help="the demo host and the demo libvirt VMs")
    parser.add_argument(
        "--connect", action="append", default=[], metavar="URI", help="libvirt URI (repeatable)"
    )
    parser.add_argument("--root", type=Path, help="host root to scan (default: this machine)")
    args = parser.parse_args(argv)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    uris = list(args.connect) or ([_demo_uri()] if args.demo else [DEFAULT_URI])
    page = VmsPage(uris=uris)
    if args.demo:
        page.set_host(_demo_host())
    else:
        from vfiodeck.core.host.root import HostRoot
        from vfiodeck.core.host.scan import scan_host

        page.set_host(scan_host(HostRoot.open(args.root or Path("/"))))
    page.setWindowTitle("VFIO Deck: VMs")
    page.resize(1200, 760)
    page.show()
    app.aboutToQuit.connect(page.shutdown)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
