"""The main window: navigation (Host, VMs, Readiness), menus and the busy indicator. The host it
shows is a ``HostSession``; the window hands that session's values to its pages."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent, QIcon, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from vfiodeck.gui.actions import ActionRegistry
from vfiodeck.gui.errors import show_error, show_exception
from vfiodeck.gui.host_session import HostSession
from vfiodeck.gui.jobs import Jobs
from vfiodeck.gui.navigation import NavigationList
from vfiodeck.gui.plain import plain_label
from vfiodeck.gui.settings import restore_window, save_window
from vfiodeck.resources import demo_host_path, demo_libvirt_xml, icon_path

if TYPE_CHECKING:
    from vfiodeck.gui.history_page import HistoryPage
    from vfiodeck.gui.host_page import HostPage
    from vfiodeck.gui.loading import LoadedHost
    from vfiodeck.gui.readiness_page import ReadinessPage
    from vfiodeck.gui.setup import SetupBanner
    from vfiodeck.gui.vms.page import VmsPage
    from vfiodeck.gui.window_setup import WindowSetup

log = logging.getLogger(__name__)

PAGES = ("Host", "VMs", "Readiness", "History")


def demo_uri() -> str:
    """The demo host's VMs: libvirt's in-process test driver on the bundled XML."""
    return f"test://{demo_libvirt_xml()}"


SNAPSHOT_FILTER = "Host snapshots (*.tar.gz *.tgz *.tar.bz2 *.tar.xz *.tar);;All files (*)"


class MainWindow(QMainWindow):
    host_loaded = Signal(object)  # LoadedHost
    load_failed = Signal(str)
    snapshot_saved = Signal(str)

    def __init__(self, uris: list[str] | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        # libvirt connections asked for with --connect; without, the VMs page follows the host:
        # qemu:///system for this computer, the bundled test-driver XML for the demo host.
        self._explicit_uris = list(uris or [])
        self.jobs = Jobs(self)
        self.registry = ActionRegistry()
        self.session = HostSession(self.jobs, self)
        self.session.busy_changed.connect(self._set_busy)
        self.session.loaded.connect(self._loaded)
        self.session.failed.connect(self._load_failed)
        self.session.saved.connect(self._saved)
        self.session.save_failed.connect(self._save_failed)

        self.nav = NavigationList()
        self.nav.setObjectName("navigation")
        self.nav.setAccessibleName("Pages")
        self.nav.addItems(list(PAGES))
        self.nav.setFixedWidth(130)
        self.stack = QStackedWidget()
        # Pages are built after the first paint (Host, Readiness) and once a host is shown (VMs):
        # the window shows at once and the worker scans meanwhile.
        self._host_page: HostPage | None = None
        self._readiness: ReadinessPage | None = None
        self._vms: VmsPage | None = None
        self.setup: WindowSetup | None = None
        self._first_paint = False
        self._saved_tab = 0
        self._deferred: Callable[[], None] | None = None
        self.after_vms_built: list[Callable[[VmsPage], None]] = []  # the command line's --show-domain-*
        # Plain label: touching the Qt namespace costs ~35 ms of PySide6 lazy loading before the paint.
        self._placeholder = QLabel("Reading the host…")
        self.stack.addWidget(self._placeholder)
        self.nav.currentRowChanged.connect(self._show_row)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.nav)
        self.right = QVBoxLayout()  # a banner of pending host changes goes above the pages
        self.right.setContentsMargins(0, 0, 0, 0)
        self.right.addWidget(self.stack, 1)
        layout.addLayout(self.right, 1)
        self.setCentralWidget(central)

        self.busy = QProgressBar()
        self.busy.setObjectName("busyIndicator")
        self.busy.setRange(0, 0)  # indeterminate
        self.busy.setMaximumWidth(160)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.status = plain_label("")
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.busy)

        self._build_menus()
        self._update_title()
        self._restore_settings()

    @property
    def loaded(self) -> LoadedHost | None:
        return self.session.current

    # -- menus ------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        add = self.registry.add
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = add(self, "&Open snapshot…", self.ask_open_snapshot, QKeySequence.StandardKey.Open)
        self.save_action = add(self, "&Save snapshot…", self.ask_save_snapshot, QKeySequence.StandardKey.Save)
        self.demo_action = add(self, "Open &demo host", self.open_demo, "Ctrl+D")
        self.live_action = add(self, "Open &this computer", self.open_live, "Ctrl+L")
        self.refresh_action = add(self, "&Refresh", self.refresh, QKeySequence.StandardKey.Refresh)
        self.quit_action = add(self, "&Quit", self.close, "Ctrl+Q")
        for action in (self.open_action, self.save_action, None, self.demo_action, self.live_action):
            file_menu.addSeparator() if action is None else file_menu.addAction(action)
        for action in (self.refresh_action, None, self.quit_action):
            file_menu.addSeparator() if action is None else file_menu.addAction(action)
        view_menu = bar.addMenu("&View")
        for i, name in enumerate(PAGES):
            view_menu.addAction(add(self, f"&{name}", functools.partial(self.show_page, i), f"Ctrl+{i + 1}"))
        view_menu.addSeparator()
        zoom = self._zoom
        for text, step, key in (
            ("Zoom &in", 1, QKeySequence.StandardKey.ZoomIn),
            ("Zoom &out", -1, QKeySequence.StandardKey.ZoomOut),
            ("&Fit topology to window", 0, "Ctrl+0"),
        ):
            view_menu.addAction(add(self, text, functools.partial(zoom, step), key))
        view_menu.addAction(add(self, "&Find device", self._focus_search, QKeySequence.StandardKey.Find))
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(add(self, "&About VFIO Deck", self.show_about, "F1"))

    def _zoom(self, step: int) -> None:
        self.host_page.zoom(step)

    def _focus_search(self) -> None:
        self.show_page(0)
        self.host_page.focus_search()

    def show_page(self, index: int) -> None:
        self.nav.setCurrentRow(index)

    # -- pages ------------------------------------------------------------------------------
    @property
    def host_page(self) -> HostPage:
        if self._host_page is None:
            from vfiodeck.gui.host_page import HostPage
            from vfiodeck.gui.readiness_page import ReadinessPage

            self._host_page = HostPage()
            self._readiness = ReadinessPage()
            self.stack.addWidget(self._host_page)
            self.stack.addWidget(self._readiness)
            self._host_page.demo_requested.connect(self.open_demo)
            self._readiness.rerun_requested.connect(self.refresh)  # checks run with the scan
            self.assign_action = self.registry.add(
                self._host_page, "&Assign to VM…", self.assign_selected, "Ctrl+Shift+A", local=True
            )
            self._host_page.add_device_action(self.assign_action)
            self._host_page.tab = self._saved_tab
            self.setTabOrder(self.nav, self._host_page.first_field)
            from vfiodeck.gui.window_setup import WindowSetup

            self.setup = WindowSetup(self)
            self.stack.addWidget(self.setup.history)
            self._show_row(self.nav.currentRow())
        return self._host_page

    @property
    def _banner(self) -> SetupBanner | None:
        return self.setup.banner if self.setup is not None else None

    def setup_selected(self) -> None:
        self.host_page.setFocus()  # builds the pages, and with them the setup
        assert self.setup is not None
        self.setup.setup_selected()

    @property
    def history_page(self) -> HistoryPage:
        self.host_page  # noqa: B018  built together
        assert self.setup is not None
        return self.setup.history

    @property
    def readiness_page(self) -> ReadinessPage:
        self.host_page  # noqa: B018  built together
        assert self._readiness is not None
        return self._readiness

    @property
    def vms_page(self) -> VmsPage:
        """Built on first visit, or once a host is shown: never before, so it never competes
        with the host scan for the first paint."""
        if self._vms is None:
            from vfiodeck.gui.vms.page import VmsPage

            self._vms = VmsPage(uris=self._vm_uris(), jobs=self.jobs, actions=self.registry)
            self.stack.addWidget(self._vms)
            if self.loaded is not None:
                self._vms.set_host(self.loaded.host)
            for hook in self.after_vms_built:
                hook(self._vms)
            self._show_row(self.nav.currentRow())
        return self._vms

    def _vm_uris(self) -> list[str]:
        if self._explicit_uris:
            return self._explicit_uris
        return [demo_uri()] if self.loaded is not None and self.loaded.demo else []

    def show_domain(self, name: str, what: str) -> None:
        """Open the VMs page on VM ``name``'s console, editor or graphs (the command line's
        --show-domain-*)."""
        from vfiodeck.gui.vms.show_domain import show_domain

        self.show_page(1)
        if self._vms is not None:
            show_domain(self._vms, name, what)
        else:
            self.after_vms_built.append(lambda page: show_domain(page, name, what))

    def assign_selected(self) -> None:
        """The keyboard and context-menu twin of dragging a device onto a VM."""
        addresses = self.host_page.current_addresses()
        if not addresses:
            self.status.setText("Select a device or a group first.")
            return
        self.assign_addresses(addresses)

    def assign_addresses(self, addresses: list[str]) -> None:
        if addresses:
            self.show_page(1)
            self.vms_page.assign_to_vm(addresses)

    def _show_row(self, row: int) -> None:
        if row == 1 and self._vms is None and self.loaded is not None:
            self.vms_page  # noqa: B018  first visit builds it
        pages = (self._host_page, self._vms, self._readiness, self.setup.history if self.setup else None)
        page = pages[row] if 0 <= row < len(pages) else None
        self.stack.setCurrentWidget(page if page is not None else self._placeholder)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        if not self._first_paint:
            self._first_paint = True
            QTimer.singleShot(0, self._after_first_paint)

    def _after_first_paint(self) -> None:
        self.setWindowIcon(QIcon(str(icon_path("vfio-deck"))))
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            deferred()
        self.host_page  # noqa: B018

    # -- loading ----------------------------------------------------------------------------
    def open_root(self, spec: str | None, demo: bool = False) -> None:
        """Scan a host root on a worker; the window stays responsive and shows a busy bar."""
        generation = self.session.begin()
        if not self._first_paint:
            # The scan's imports would compete with the first paint for the GIL: start after it.
            self._deferred = lambda: self.session.start(generation, spec, demo)
            return
        self.session.start(generation, spec, demo)

    def open_demo(self) -> None:
        self.open_root(str(demo_host_path()), demo=True)

    def open_live(self) -> None:
        self.open_root(None)

    def refresh(self) -> None:
        self.session.reload()

    def _loaded(self, result: LoadedHost) -> None:
        self.host_page.set_host(result.host, result.candidates, offer_demo=not result.demo)
        self.readiness_page.set_readiness(result.readiness)
        self.history_page.set_root(result.root)
        if self.setup is not None:
            self.setup.show_pending()
        self._update_title()
        groups = len(result.host.iommu.groups)
        self.status.setText(
            f"{len(result.host.pci_devices)} PCI devices, {groups} IOMMU groups, "
            f"{len(result.host.topology.cpus)} CPUs"
        )
        self.host_loaded.emit(result)
        # The VMs page follows the host, after the host page had its paint.
        QTimer.singleShot(0, lambda: self._show_vms_host(result))

    def _show_vms_host(self, result: LoadedHost) -> None:
        if self.loaded is not result:
            return
        page = self.vms_page
        if not self._explicit_uris:
            page.set_uris(self._vm_uris())
        page.set_host(result.host)

    def _load_failed(self, exc: BaseException) -> None:
        self.status.setText("Could not open the host")
        self.load_failed.emit(str(exc))
        show_exception(self, "Could not read the host", exc)

    def _set_busy(self, busy: bool, message: str = "") -> None:
        self.busy.setVisible(busy)
        if message:
            self.status.setText(message)

    @property
    def is_busy(self) -> bool:
        return self.session.is_busy

    def _update_title(self) -> None:
        what = self.loaded.title if self.loaded else "loading…"
        self.setWindowTitle(f"{what} — VFIO Deck")

    # -- snapshots --------------------------------------------------------------------------
    def ask_open_snapshot(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a host snapshot", str(Path.home()), SNAPSHOT_FILTER)
        if path:
            self.open_root(path)

    def ask_save_snapshot(self) -> None:
        if self.loaded is None:
            show_error(self, "No host is open yet.")
            return
        default = str(Path.home() / "vfio-deck-snapshot.tar.gz")
        path, _ = QFileDialog.getSaveFileName(self, "Save a host snapshot", default, SNAPSHOT_FILTER)
        if path:
            self.save_snapshot(Path(path))

    def save_snapshot(self, dest: Path) -> None:
        self.session.save_snapshot(dest)

    def _saved(self, dest: str) -> None:
        self.status.setText(f"Saved {dest}")
        self.snapshot_saved.emit(dest)

    def _save_failed(self, exc: BaseException) -> None:
        self.status.setText("Could not save the snapshot")
        show_exception(self, "Could not save the snapshot", exc)

    # -- about, settings --------------------------------------------------------------------
    def about_text(self) -> str:
        from vfiodeck.gui.about import about_text

        return about_text()

    def show_about(self) -> None:
        QMessageBox.about(self, "About VFIO Deck", self.about_text())

    def _restore_settings(self) -> None:
        page, self._saved_tab = restore_window(self, len(PAGES))
        self.show_page(page)

    def save_settings(self) -> None:
        tab = self._host_page.tab if self._host_page is not None else self._saved_tab
        save_window(self, self.nav.currentRow(), tab)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_settings()
        self.session.watch_live(False)
        if self._vms is not None:
            self._vms.shutdown()  # stop sampling; the connections close on their own queues
        super().closeEvent(event)
