"""The main window: navigation (Host, VMs, Readiness), menus, the busy indicator, host loading."""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QIcon,
    QKeySequence,
    QPaintEvent,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from vfiodeck.gui.errors import show_error, show_exception
from vfiodeck.gui.mime import PCI_MIME
from vfiodeck.gui.plain import plain_label
from vfiodeck.gui.settings import open_settings
from vfiodeck.gui.worker import Jobs
from vfiodeck.resources import demo_host_path, demo_libvirt_xml, icon_path

if TYPE_CHECKING:
    from vfiodeck.gui.history_page import HistoryPage
    from vfiodeck.gui.host_page import HostPage
    from vfiodeck.gui.loading import LoadedHost
    from vfiodeck.gui.readiness_page import ReadinessPage
    from vfiodeck.gui.setup import SetupBanner
    from vfiodeck.gui.vms.page import VmsPage

log = logging.getLogger(__name__)

PAGES = ("Host", "VMs", "Readiness", "History")


def demo_uri() -> str:
    """The demo host's VMs: libvirt's in-process test driver on the bundled XML."""
    return f"test://{demo_libvirt_xml()}"


class NavigationList(QListWidget):
    """The page list. Dragging a device over a page's name opens that page, so a device dragged
    from the Host page can be dropped on a VM in the VMs page."""

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)

    def _hover(self, pos: QPoint) -> bool:
        item = self.itemAt(pos)
        if item is None:
            return False
        self.setCurrentItem(item)
        return True

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasFormat(PCI_MIME):
            self._hover(event.position().toPoint())
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if event.mimeData().hasFormat(PCI_MIME):
            self._hover(event.position().toPoint())
            # Accepted only to keep the switch going; dropping here does nothing.
            event.setDropAction(Qt.DropAction.IgnoreAction)
            event.accept()
        else:
            event.ignore()


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
        self.loaded: LoadedHost | None = None
        self._generation = 0  # a newer load makes an older one's result stale
        self._pending = 0
        self._watcher: object | None = None

        self.nav = NavigationList()
        self.nav.setObjectName("navigation")
        self.nav.setAccessibleName("Pages")
        self.nav.addItems(list(PAGES))
        self.nav.setFixedWidth(130)
        self.stack = QStackedWidget()
        # The pages (item models, topology, core imports) are built right after the first paint:
        # the window shows at once and the worker scans meanwhile.
        self._pages: tuple[HostPage, VmsPage, ReadinessPage, HistoryPage] | None = None
        self._banner: SetupBanner | None = None
        self._first_paint = False
        self._saved_tab = 0
        self._deferred: Callable[[], None] | None = None
        # Plain label: touching the Qt namespace costs ~35 ms of PySide6 lazy loading before the paint.
        self.stack.addWidget(QLabel("Reading the host…"))
        self.nav.currentRowChanged.connect(self._show_row)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.nav)
        self._right = QVBoxLayout()
        self._right.setContentsMargins(0, 0, 0, 0)
        self._right.addWidget(self.stack, 1)
        layout.addLayout(self._right, 1)
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

    # -- menus ------------------------------------------------------------------------------
    def _action(
        self, text: str, slot: object, shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = self._action(
            "&Open snapshot…", self.ask_open_snapshot, QKeySequence.StandardKey.Open
        )
        self.save_action = self._action(
            "&Save snapshot…", self.ask_save_snapshot, QKeySequence.StandardKey.Save
        )
        self.demo_action = self._action("Open &demo host", self.open_demo, "Ctrl+D")
        self.live_action = self._action("Open &this computer", self.open_live, "Ctrl+L")
        self.refresh_action = self._action("&Refresh", self.refresh, QKeySequence.StandardKey.Refresh)
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q")
        for action in (
            self.open_action,
            self.save_action,
            None,
            self.demo_action,
            self.live_action,
            self.refresh_action,
            None,
            self.quit_action,
        ):
            if action is None:
                file_menu.addSeparator()
            else:
                file_menu.addAction(action)
        view_menu = bar.addMenu("&View")
        for i, name in enumerate(PAGES):
            view_menu.addAction(
                self._action(f"&{name}", lambda _c=False, i=i: self.show_page(i), f"Ctrl+{i + 1}")
            )
        view_menu.addSeparator()
        view_menu.addAction(
            self._action(
                "Zoom &in", lambda: self.host_page.topology.zoom_in(), QKeySequence.StandardKey.ZoomIn
            )
        )
        view_menu.addAction(
            self._action(
                "Zoom &out", lambda: self.host_page.topology.zoom_out(), QKeySequence.StandardKey.ZoomOut
            )
        )
        view_menu.addAction(
            self._action("&Fit topology to window", lambda: self.host_page.topology.fit(), "Ctrl+0")
        )
        view_menu.addAction(self._action("&Find device", self._focus_search, QKeySequence.StandardKey.Find))
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&About VFIO Deck", self.show_about, "F1"))

    def _focus_search(self) -> None:
        self.show_page(0)
        self.host_page.search.setFocus()
        self.host_page.search.selectAll()

    def show_page(self, index: int) -> None:
        self.nav.setCurrentRow(index)

    # -- pages, built after the first paint ------------------------------------------------
    def _build_pages(self) -> tuple[HostPage, VmsPage, ReadinessPage, HistoryPage]:
        if self._pages is not None:
            return self._pages
        from vfiodeck.gui.history_page import HistoryPage
        from vfiodeck.gui.host_page import HostPage
        from vfiodeck.gui.readiness_page import ReadinessPage
        from vfiodeck.gui.setup import SetupBanner
        from vfiodeck.gui.vms.page import VmsPage

        pages = (HostPage(), VmsPage(uris=self._vm_uris()), ReadinessPage(), HistoryPage(self.jobs))
        self._banner = SetupBanner()
        self._banner.create_vm.connect(self._assign_addresses)
        self._right.insertWidget(0, self._banner)
        self._pages = pages
        placeholder = self.stack.widget(0)
        for page in pages:
            self.stack.addWidget(page)
        self.stack.removeWidget(placeholder)
        placeholder.deleteLater()
        pages[0].demo_requested.connect(self.open_demo)
        pages[2].rerun_requested.connect(self.refresh)  # checks run with the scan: re-read the host
        tree = pages[0].tree
        tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        tree.customContextMenuRequested.connect(self._tree_menu)
        assign = self._action("&Assign to VM…", self.assign_selected, "Ctrl+Shift+A")
        assign.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        tree.addAction(assign)
        self.assign_action = assign
        setup = self._action("Set up &passthrough…", self.setup_selected, "Ctrl+Shift+P")
        setup.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        tree.addAction(setup)
        self.setup_action = setup
        pages[0].tabs.setCurrentIndex(self._saved_tab)
        self.setTabOrder(self.nav, pages[0].kind_box)
        self._show_row(self.nav.currentRow())
        return pages

    def _vm_uris(self) -> list[str]:
        if self._explicit_uris:
            return self._explicit_uris
        return [demo_uri()] if self.loaded is not None and self.loaded.demo else []

    def assign_selected(self) -> None:
        """The keyboard and context-menu twin of dragging a device onto a VM."""
        from vfiodeck.gui.models.iommu_model import Role

        index = self.host_page.tree.currentIndex()
        addresses = self.host_page.proxy.data(index, int(Role.ADDRESSES)) if index.isValid() else None
        if not addresses:
            self.status.setText("Select a device or a group first.")
            return
        self._assign_addresses(list(addresses))

    def _assign_addresses(self, addresses: list[str]) -> None:
        if addresses:
            self.show_page(1)
            self.vms_page.assign_to_vm(addresses)

    def setup_selected(self) -> None:
        """The guided setup for the selected device's candidate."""
        from vfiodeck.gui.setup import SetupDialog

        address = self.host_page.selected_address()
        if address is None or self.loaded is None:
            self.status.setText("Select a device first.")
            return
        self.setup_dialog = SetupDialog(self.loaded, address, self.jobs, self)
        self.setup_dialog.applied.connect(self._setup_applied)
        self.setup_dialog.show()

    def _setup_applied(self, state: object) -> None:
        from vfiodeck.core.hostchanges import pending

        assert isinstance(state, pending.Pending)
        pending.save(state)
        self.show_banner(state)
        self.history_page.refresh()

    def show_banner(self, state: object) -> None:
        if self._banner is not None:
            self._banner.show_state(state, self.loaded)  # type: ignore[arg-type]

    def _tree_menu(self, pos: QPoint) -> None:
        tree = self.host_page.tree
        if not tree.indexAt(pos).isValid():
            return
        menu = QMenu(tree)
        menu.addAction(self.assign_action)
        menu.addAction(self.setup_action)
        menu.exec(tree.viewport().mapToGlobal(pos))

    @property
    def host_page(self) -> HostPage:
        return self._build_pages()[0]

    @property
    def vms_page(self) -> VmsPage:
        return self._build_pages()[1]

    @property
    def readiness_page(self) -> ReadinessPage:
        return self._build_pages()[2]

    @property
    def history_page(self) -> HistoryPage:
        return self._build_pages()[3]

    def _show_row(self, row: int) -> None:
        if self._pages is not None and 0 <= row < len(self._pages):
            self.stack.setCurrentWidget(self._pages[row])

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
        self._build_pages()

    # -- loading ----------------------------------------------------------------------------
    def open_root(self, spec: str | None, demo: bool = False) -> None:
        """Scan a host root on a worker; the window stays responsive and shows a busy bar."""
        self._generation += 1
        generation = self._generation
        self._set_busy(True, "Reading the host…")
        if not self._first_paint:
            # The scan's imports would compete with the first paint for the GIL: start after it.
            self._deferred = lambda: self._start_load(generation, spec, demo)
            return
        self._start_load(generation, spec, demo)

    def _start_load(self, generation: int, spec: str | None, demo: bool) -> None:
        from vfiodeck.gui.loading import load_host

        self.jobs.start(
            lambda: load_host(spec, demo),
            lambda result: self._loaded(generation, result),
            lambda exc: self._load_failed(generation, exc),
        )

    def open_demo(self) -> None:
        self.open_root(str(demo_host_path()), demo=True)

    def open_live(self) -> None:
        self.open_root(None)

    def refresh(self) -> None:
        if self.loaded is not None:
            self.open_root(self.loaded.spec, self.loaded.demo)

    def _loaded(self, generation: int, result: LoadedHost) -> None:
        self._set_busy(False)
        if generation != self._generation:
            return
        self.loaded = result
        self.host_page.set_host(result.host, result.candidates, offer_demo=not result.demo)
        if not self._explicit_uris:
            self.vms_page.set_uris(self._vm_uris())
        self.vms_page.set_host(result.host)
        self.readiness_page.set_readiness(result.readiness)
        self.history_page.set_root(result.root)
        self._show_pending()
        self._update_title()
        groups = len(result.host.iommu.groups)
        self.status.setText(
            f"{len(result.host.pci_devices)} PCI devices, {groups} IOMMU groups, "
            f"{len(result.host.topology.cpus)} CPUs"
        )
        self._watch_live(result.root.live)
        self.host_loaded.emit(result)

    def _show_pending(self) -> None:
        from vfiodeck.core.hostchanges import pending

        self._build_pages()
        self.show_banner(pending.load())

    def _load_failed(self, generation: int, exc: BaseException) -> None:
        self._set_busy(False)
        if generation != self._generation:
            return
        self.status.setText("Could not open the host")
        self.load_failed.emit(str(exc))
        show_exception(self, "Could not read the host", exc)

    def _set_busy(self, busy: bool, message: str = "") -> None:
        self._pending += 1 if busy else -1
        self._pending = max(self._pending, 0)
        self.busy.setVisible(self._pending > 0)
        if message:
            self.status.setText(message)

    @property
    def is_busy(self) -> bool:
        return self._pending > 0

    def _update_title(self) -> None:
        what = self.loaded.title if self.loaded else "loading…"
        self.setWindowTitle(f"{what} — VFIO Deck")

    def _watch_live(self, live: bool) -> None:
        """Refresh on PCI hotplug and bind/unbind, but only while showing the live host."""
        from vfiodeck.gui.udev_watch import PciWatcher

        if live and self._watcher is None:
            watcher = PciWatcher(self)
            if watcher.start():
                watcher.changed.connect(self.refresh)
                self._watcher = watcher
        elif not live and isinstance(self._watcher, PciWatcher):
            self._watcher.stop()
            self._watcher.deleteLater()
            self._watcher = None

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
        if self.loaded is None:
            return
        root = self.loaded.root

        def write() -> Path:
            from vfiodeck.core.snapshot import write_snapshot

            write_snapshot(root, dest)
            return dest

        self._set_busy(True, f"Writing {dest.name}…")
        self.jobs.start(write, self._saved, self._save_failed)

    def _saved(self, dest: Path) -> None:
        self._set_busy(False)
        self.status.setText(f"Saved {dest}")
        self.snapshot_saved.emit(str(dest))

    def _save_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.status.setText("Could not save the snapshot")
        show_exception(self, "Could not save the snapshot", exc)

    # -- about, settings --------------------------------------------------------------------
    def about_text(self) -> str:
        from importlib.metadata import PackageNotFoundError, version

        import PySide6
        from PySide6.QtCore import qVersion

        def dist(name: str) -> str:
            try:
                return version(name)
            except PackageNotFoundError:
                return "not installed"

        from vfiodeck.core import __version__

        return (
            f"<h3>VFIO Deck {__version__}</h3>"
            "<p>See, check, assign and run VFIO/IOMMU passthrough.</p>"
            f"<p>Python {platform.python_version()}<br>PySide6 {PySide6.__version__}, Qt {qVersion()}<br>"
            f"pyudev {dist('pyudev')}<br>libvirt-python {dist('libvirt-python')}<br>"
            f"pyqtgraph {dist('pyqtgraph')}</p><p>GPL-3.0-or-later</p>"
        )

    def show_about(self) -> None:
        QMessageBox.about(self, "About VFIO Deck", self.about_text())

    def _restore_settings(self) -> None:
        settings = open_settings()
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 760)
        self.show_page(_int(settings.value("window/page"), 0, len(PAGES) - 1))
        self._saved_tab = _int(settings.value("host/tab"), 0, 1)

    def save_settings(self) -> None:
        settings = open_settings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/page", self.nav.currentRow())
        tab = self._pages[0].tabs.currentIndex() if self._pages else self._saved_tab
        settings.setValue("host/tab", tab)
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_settings()
        if self._watcher is not None:
            self._watch_live(False)
        if self._pages is not None:
            self._pages[1].shutdown()  # stop sampling and close libvirt connections
        super().closeEvent(event)


def _int(value: object, low: int, high: int) -> int:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return low
    return min(max(number, low), high)
