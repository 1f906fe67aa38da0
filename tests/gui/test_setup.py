"""The guided setup in the window: plan with per-file diffs, apply, the reboot banner, History."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.core.hostchanges.conftest import CONFIG, DEBIAN, HostRootBuilder, snapshot
from tests.gui.conftest import host_load
from vfiodeck.core.hostchanges import pending
from vfiodeck.gui.main_window import MainWindow

GPU = "0000:2b:00.0"


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@pytest.fixture
def root(tmp_path: Path) -> HostRootBuilder:
    built = HostRootBuilder(tmp_path / "host", "b550m")
    built.put("/etc/default/grub", CONFIG / "grub/debian12-default.grub").put("/etc/os-release", DEBIAN)
    built.put(
        "/etc/initramfs-tools/modules", CONFIG / "initramfs/initramfs-tools/debian12-etc-modules.modules"
    )
    built.put(
        "/etc/initramfs-tools/initramfs.conf", CONFIG / "initramfs/initramfs-tools/debian12-initramfs.conf"
    )
    built.put("/proc/sys/kernel/random/boot_id", "first-boot\n")
    return built


@pytest.fixture
def window(qtbot: QtBot, root: HostRootBuilder) -> Iterator[MainWindow]:
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    with host_load(qtbot, win):
        win.open_root(str(root.path))
    yield win
    win.jobs.wait()


def test_setup_plans_applies_and_asks_for_a_reboot(
    qtbot: QtBot, window: MainWindow, root: HostRootBuilder
) -> None:
    original = snapshot(root.path)
    assert window.host_page.select_address(GPU)
    window.setup_selected()
    assert window.setup is not None
    dialog = window.setup.dialog
    qtbot.waitUntil(lambda: dialog.plan is not None)
    assert dialog.plan is not None
    paths = [dialog.files.item(i).text() for i in range(dialog.files.count())]
    assert "create: /etc/default/grub.d/zz-vfio-deck.cfg" in paths
    assert "edit: /etc/initramfs-tools/modules" in paths
    assert "+GRUB_CMDLINE_LINUX_DEFAULT=" in dialog.diff.toPlainText()
    assert "update-grub" in dialog.commands.text()
    assert dialog.apply_button.isEnabled()
    assert snapshot(root.path) == original  # planning writes nothing
    with qtbot.waitSignal(dialog.applied, timeout=30000):
        dialog.apply_button.click()
    assert "Reboot to finish" in dialog.status.text()
    state = pending.load()
    assert state is not None
    assert state.functions[0] == GPU
    assert window._banner is not None
    assert window._banner.isVisible()
    assert "Reboot to finish" in window._banner.label.text()
    assert snapshot(root.path) != original

    history = window.history_page
    qtbot.waitUntil(lambda: history.tree.topLevelItemCount() == 1)
    history.tree.setCurrentItem(history.tree.topLevelItem(0))
    assert history.undo_button.isEnabled()
    with qtbot.waitSignal(history.undone, timeout=30000):
        history.undo_button.click()
    assert snapshot(root.path) == original


def test_banner_survives_a_restart_and_checks_after_the_reboot(
    qtbot: QtBot, root: HostRootBuilder, tmp_path: Path
) -> None:
    pending.save(
        pending.Pending(str(root.path), GPU, (GPU, "0000:2b:00.1"), ("iommu=pt",), "first-boot", "x")
    )
    root.put("/proc/sys/kernel/random/boot_id", "second-boot\n")
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    with host_load(qtbot, win):
        win.open_root(str(root.path))
    assert win._banner is not None
    text = win._banner.label.text()
    assert "not ready" in text
    assert "/proc/cmdline lacks iommu=pt" in text
    assert not win._banner.vm_button.isVisible()
    win.jobs.wait()


def test_after_the_reboot_a_bound_device_offers_a_vm(qtbot: QtBot, tmp_path: Path) -> None:
    # z690's published lspci -nnk: the RX 560 (04:00.0/.1) is on vfio-pci
    root = HostRootBuilder(tmp_path / "z690", "z690").put("/proc/sys/kernel/random/boot_id", "after\n")
    functions = ("0000:04:00.0", "0000:04:00.1")
    pending.save(pending.Pending(str(root.path), functions[0], functions, (), "before", "x"))
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    with host_load(qtbot, win):
        win.open_root(str(root.path))
    assert win._banner is not None
    assert "ready to pass through" in win._banner.label.text()
    assert win._banner.vm_button.isVisible()
    win._banner.dismiss()
    assert pending.load() is None
    assert not win._banner.isVisible()
    win.jobs.wait()
