"""The main window on real hosts: demo, listing-built roots, hwloc captures, the live host."""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from tests.gui.conftest import WAIT_MS, host_load
from tests.hostbuilder import LISTINGS_DIR, build_root_from_listing
from vfiodeck.core.host.layout import BoxKind
from vfiodeck.gui import errors as gui_errors
from vfiodeck.gui import main_window as main_window_module
from vfiodeck.gui.main_window import MainWindow
from vfiodeck.gui.models.iommu_model import Role
from vfiodeck.gui.settings import settings_path
from vfiodeck.resources import demo_host_path

HWLOC = Path(__file__).resolve().parents[1] / "fixtures" / "hwloc"


class Errors:
    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []

    def __call__(self, _parent: object, summary: str, details: str = "") -> None:
        self.shown.append((summary, details))


@pytest.fixture
def shown_errors(monkeypatch: pytest.MonkeyPatch) -> Errors:
    """No modal error box in tests: record what would have been shown."""
    recorder = Errors()
    monkeypatch.setattr(gui_errors, "show_error", recorder)
    monkeypatch.setattr(main_window_module, "show_error", recorder)
    return recorder


@pytest.fixture
def window(qtbot: QtBot, shown_errors: Errors) -> Iterator[MainWindow]:
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    yield win
    win.jobs.wait()


def open_and_wait(qtbot: QtBot, win: MainWindow, spec: str | None, demo: bool = False) -> None:
    with host_load(qtbot, win):
        win.open_root(spec, demo=demo)
    assert not win.is_busy


def listing_root(tmp_path: Path, prefix: str) -> Path:
    (path,) = sorted(LISTINGS_DIR.glob(f"{prefix}*.txt"))
    return build_root_from_listing(path, tmp_path / prefix)


def visible_addresses(win: MainWindow) -> list[str]:
    proxy = win.host_page.proxy
    out: list[str] = []

    def walk(parent: object) -> None:
        for row in range(proxy.rowCount(parent)):  # type: ignore[arg-type]
            index = proxy.index(row, 0, parent)  # type: ignore[arg-type]
            if index.data(Role.ADDRESS):
                out.append(index.data(Role.ADDRESS))
            walk(index)

    from PySide6.QtCore import QModelIndex

    walk(QModelIndex())
    return out


def test_window_paints_before_the_scan_ends(qtbot: QtBot, window: MainWindow) -> None:
    window.open_demo()
    assert window.is_busy  # the scan runs on a worker: the window is already up, with a busy bar
    assert window.busy.isVisible()
    assert window.windowTitle() == "loading… — VFIO Deck"
    qtbot.waitUntil(lambda: not window.is_busy, timeout=WAIT_MS)
    assert not window.busy.isVisible()


def test_demo_host_groups_and_title(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, str(demo_host_path()), demo=True)
    assert window.windowTitle() == "demo host (demo-host.tar.gz) — VFIO Deck"
    page = window.host_page
    assert page.model.rowCount() == 40
    assert not page.banner.isVisible()
    assert "40 IOMMU groups" in window.status.text()


def test_select_device_shows_details(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, str(demo_host_path()), demo=True)
    page = window.host_page
    assert page.select_address("0000:08:00.0")
    text = page.details.toPlainText()
    assert "GeForce GTX 1080" in text
    assert "10de:1b80" in text
    assert "0300" in text  # class
    assert "IOMMU group 14: 2 members" in text
    assert "08:00.1 GP104 High Definition Audio Controller (its function)" in text
    assert "GeForce GTX 1080 at 08:00.0 can be passed alone" in text
    assert "vfio-pci.ids (by vendor:device id, at boot) for 10de:10f0, 10de:1b80" in text
    assert "NUMA node\n0" in text
    # the topology view follows: the GPU's node and its cores light up
    assert page.topology.selected_key == "pci:0000:08:00.0"
    assert "node:0" in page.topology.lit


def test_blocked_device_names_its_blockers(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, str(demo_host_path()), demo=True)
    page = window.host_page
    page.select_address("0000:04:00.0")
    text = page.details.toPlainText()
    assert "needs its blockers: group 13 also holds 01:00.0 USB controller" in text
    assert "05:00.0 Dual Band Wireless-AC 3168NGW [Stone Peak] (blocker)" in text
    assert "02:00.0 300 Series Chipset PCIe Port (bridge, never blocks)" in text


def test_kind_filter_and_search(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, str(demo_host_path()), demo=True)
    page = window.host_page
    page.kind_box.setCurrentIndex(page.kind_box.findData("gpu"))
    assert visible_addresses(window) == ["0000:08:00.0", "0000:08:00.1", "0000:43:00.0", "0000:43:00.1"]
    page.kind_box.setCurrentIndex(page.kind_box.findData("storage"))
    assert "0000:41:00.0" in visible_addresses(window)
    page.kind_box.setCurrentIndex(page.kind_box.findData("all"))
    qtbot.keyClicks(page.search, "1060")
    assert visible_addresses(window) == ["0000:43:00.0", "0000:43:00.1"]
    page.search.clear()
    assert len(visible_addresses(window)) == 67


def test_listing_hosts_open(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    for prefix, groups in (("b550m-msi", 20), ("z690", 36), ("b550-asrock", None)):
        root = listing_root(tmp_path, prefix)
        open_and_wait(qtbot, window, str(root))
        host = window.host_page.host
        assert host is not None
        assert window.host_page.model.rowCount() == len(host.iommu.groups)
        if groups is not None:
            assert len(host.iommu.groups) == groups
        assert window.windowTitle().startswith(root.name)
    # b550-asrock (ACS override on) is open now: every candidate can be passed alone
    assert window.host_page.candidates
    assert all(c.isolated for c in window.host_page.candidates)


def test_topology_click_selects_device_and_thread(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, str(demo_host_path()), demo=True)
    page = window.host_page
    page.tabs.setCurrentWidget(page.topology)
    view = page.topology
    view.resetTransform()
    layout = view.topology
    assert layout is not None

    def click(key: str) -> None:
        box = layout.box(key)
        assert box is not None
        view.centerOn(box.x + box.w / 2, box.y + box.h / 2)
        point = view.mapFromScene(box.x + box.w / 2, box.y + box.h - 3)
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(point.x(), point.y()))

    click("pci:0000:43:00.0")
    assert view.selected_key == "pci:0000:43:00.0"
    assert "GeForce GTX 1060 6GB" in page.details.toPlainText()
    assert page.selected_address() == "0000:43:00.0"
    assert "node:1" in view.lit
    node1 = next(n for n in page.host.topology.numa_nodes if n.id == 1)  # type: ignore[union-attr]
    assert {f"cpu:{c}" for c in node1.cpus} <= view.lit

    click("cpu:3")
    assert view.selected_key == "cpu:3"
    cpu3 = next(c for c in page.host.topology.cpus if c.id == 3)  # type: ignore[union-attr]
    assert len(cpu3.siblings) == 2
    assert {f"cpu:{s}" for s in cpu3.siblings} <= view.lit
    assert "SMT sibling" in page.details.toPlainText()
    assert [b for b in layout.boxes if b.kind is BoxKind.PU and b.key in view.lit] != []


def test_topology_zoom_and_fit(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, str(HWLOC / "128arm-2pa2n8cluster4co" / "128arm-2pa2n8cluster4co.tar.bz2"))
    page = window.host_page
    page.tabs.setCurrentWidget(page.topology)
    view = page.topology
    assert view.topology is not None
    assert len([b for b in view.topology.boxes if b.kind is BoxKind.PU]) == 128
    view.fit()
    fitted = view.zoom
    assert fitted < 1.0  # the 128-thread drawing is wider than the window
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.zoom > fitted
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert view.zoom < fitted
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert view.zoom == pytest.approx(fitted)


def test_host_without_iommu_shows_the_banner(qtbot: QtBot, window: MainWindow) -> None:
    # A capture of a QEMU guest without a virtual IOMMU: no groups, as on most first boots.
    open_and_wait(qtbot, window, str(HWLOC / "2pa-pcidomain32bits" / "2pa-pcidomain32bits.tar.bz2"))
    page = window.host_page
    assert "2pa-pcidomain32bits" in window.windowTitle()
    assert page.banner.isVisible()
    text = page.banner.text
    for words in ("no IOMMU groups", "Intel VT-d", "AMD IOMMU", "AMD-Vi", "intel_iommu=on", "amd_iommu=on"):
        assert words in text
    assert page.banner.demo_button.isVisible()
    with host_load(qtbot, window):
        qtbot.mouseClick(page.banner.demo_button, Qt.MouseButton.LeftButton)
    assert window.loaded is not None
    assert window.loaded.demo
    assert not page.banner.isVisible()


def test_bad_root_is_one_line_without_traceback(
    qtbot: QtBot, window: MainWindow, shown_errors: Errors
) -> None:
    with qtbot.waitSignal(window.load_failed, timeout=WAIT_MS):
        window.open_root("/nonexistent/host")
    assert shown_errors.shown == [("/nonexistent/host: no such file or directory", "")]


def test_open_snapshot_from_the_menu(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture = HWLOC / "40intel64-2g2n4c+pcilocality" / "40intel64-2g2n4c+pcilocality.tar.bz2"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(capture), ""))
    with host_load(qtbot, window):
        window.open_action.trigger()
    assert window.windowTitle() == "40intel64-2g2n4c+pcilocality.tar.bz2 — VFIO Deck"
    assert window.host_page.banner.isVisible()  # a capture without groups says so too
    assert not window.host_page.banner.demo_button.isHidden()
    tray = window.host_page.topology.topology.box("tray:unknown")  # type: ignore[union-attr]
    assert tray is not None  # numa_node -1 devices


def test_save_snapshot_then_reopen(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    open_and_wait(qtbot, window, str(demo_host_path()), demo=True)
    dest = tmp_path / "saved.tar.gz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), ""))
    with qtbot.waitSignal(window.snapshot_saved, timeout=WAIT_MS):
        window.save_action.trigger()
    assert tarfile.is_tarfile(dest)
    before = window.host_page.host
    open_and_wait(qtbot, window, str(dest))
    after = window.host_page.host
    assert before is not None
    assert after is not None
    assert [d.address for d in after.pci_devices] == [d.address for d in before.pci_devices]
    assert after.iommu.groups == before.iommu.groups
    assert window.windowTitle() == "saved.tar.gz — VFIO Deck"


def test_geometry_and_view_persist(qtbot: QtBot, shown_errors: Errors, isolated_settings: Path) -> None:
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    first.resize(700, 500)  # inside the offscreen screen (800x600): restoreGeometry clamps to it
    first.show_page(1)
    first.host_page.tabs.setCurrentIndex(1)
    first.close()
    assert settings_path().is_file()
    assert settings_path().is_relative_to(isolated_settings)
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.nav.currentRow() == 1
    vms = second.vms_page  # builds the pages, as the first paint does
    assert second.stack.currentWidget() is vms
    assert second.host_page.tabs.currentIndex() == 1
    assert (second.size().width(), second.size().height()) == (700, 500)


def test_every_action_has_a_key(window: MainWindow) -> None:
    for menu_action in window.menuBar().actions():
        assert "&" in menu_action.text()
        for action in menu_action.menu().actions():  # type: ignore[union-attr]
            if action.isSeparator():
                continue
            assert "&" in action.text() or not action.shortcut().isEmpty(), action.text()
    assert window.refresh_action.shortcut().toString() == "F5"
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"


def test_about_names_versions(window: MainWindow) -> None:
    import PySide6

    text = window.about_text()
    assert f"PySide6 {PySide6.__version__}" in text
    assert "VFIO Deck" in text
    assert "pyudev" in text


def test_udev_events_are_debounced(qtbot: QtBot) -> None:
    from vfiodeck.gui.udev_watch import PciWatcher

    watcher = PciWatcher(debounce_ms=50)
    seen: list[int] = []
    watcher.changed.connect(lambda: seen.append(1))
    watcher.note_event("usb", "add")  # not PCI: ignored
    watcher.note_event("pci", "change")  # not a hotplug or driver change: ignored
    with qtbot.waitSignal(watcher.changed, timeout=WAIT_MS):
        for _ in range(5):
            watcher.note_event("pci", "unbind")
        watcher.note_event("pci", "bind")
    assert seen == [1]


@pytest.mark.host
def test_live_host_starts_the_watcher(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, None)
    watcher = window.session.watcher
    assert watcher is not None  # the kernel source works even where no udevd runs
    open_and_wait(qtbot, window, str(demo_host_path()), demo=True)
    assert window.session.watcher is None


def test_refresh_rescans_and_keeps_selection(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, str(demo_host_path()), demo=True)
    window.host_page.select_address("0000:43:00.0")
    first = window.host_page.host
    with host_load(qtbot, window):
        window.refresh_action.trigger()
    assert window.host_page.host is not first
    assert window.host_page.selected_address() == "0000:43:00.0"
    assert "GeForce GTX 1060 6GB" in window.host_page.details.toPlainText()
