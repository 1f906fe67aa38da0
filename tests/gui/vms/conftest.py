"""VMs page fixtures: a libvirt test-driver host copied per test (never test:///default) and the page."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from vfiodeck.core.host.model import HostModel
from vfiodeck.gui import errors
from vfiodeck.gui.vms import dialogs, vm_dialogs
from vfiodeck.gui.vms.page import VmsPage

HOST_XML = Path(__file__).with_name("host-vms.xml")


@pytest.fixture
def libvirt_uri(tmp_path: Path) -> str:
    path = tmp_path / "host.xml"
    shutil.copy(HOST_XML, path)
    return "test://" + str(path)


class Recorder:
    """Stands in for the page's modal dialogs: records what they were asked and answers."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.diffs: list[str] = []
        self.preflight: list[tuple[str, list[str]]] = []
        self.blockers: list[list[str]] = []
        self.refused: list[str] = []
        self.asked_when: list[str] = []
        self.deletes: list[tuple[str, list[str]]] = []
        self.accept_diff = True
        self.take_blockers = False
        self.when: vm_dialogs.When | None = vm_dialogs.When.NEXT_START
        self.delete_disks: list[str] | None = []  # None: cancel
        self.force_off = True
        self.on_confirm: Callable[[], None] | None = None  # runs while the diff is "on screen"

    def show_error(self, _parent: object, summary: str, details: str = "") -> None:
        self.errors.append(summary)

    def confirm_diff(self, _parent: object, _title: str, intro: str, diff: str) -> bool:
        self.diffs.append(intro + "\n" + diff)
        if self.on_confirm is not None:
            self.on_confirm()
        return self.accept_diff

    def show_refused(self, _parent: object, _title: str, intro: str, diff: str) -> None:
        self.refused.append(intro + "\n" + diff)

    def ask_when(self, _parent: object, vm: str, what: str, removing: bool = False) -> object:
        self.asked_when.append(f"{vm}: {what}")
        return self.when

    def ask_delete(self, _parent: object, vm: str, disks: list[str]) -> list[str] | None:
        self.deletes.append((vm, list(disks)))
        return self.delete_disks

    def confirm_force_off(self, _parent: object, _vm: str) -> bool:
        return self.force_off

    def show_preflight(self, _parent: object, _vm: str, issues: list[object]) -> None:
        self.preflight.append((_vm, [getattr(i, "title", "") for i in issues]))

    def ask_take_blockers(self, _parent: object, _vm: str, _reason: str, blockers: list[str]) -> bool:
        self.blockers.append(list(blockers))
        return self.take_blockers


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    monkeypatch.setattr(errors, "show_error", rec.show_error)
    monkeypatch.setattr(dialogs, "confirm_diff", rec.confirm_diff)
    monkeypatch.setattr(dialogs, "show_preflight", rec.show_preflight)
    monkeypatch.setattr(dialogs, "ask_take_blockers", rec.ask_take_blockers)
    monkeypatch.setattr(dialogs, "show_refused", rec.show_refused)
    monkeypatch.setattr(vm_dialogs, "ask_when", rec.ask_when)
    monkeypatch.setattr(vm_dialogs, "ask_delete", rec.ask_delete)
    monkeypatch.setattr(vm_dialogs, "confirm_force_off", rec.confirm_force_off)
    return rec


@pytest.fixture
def x399(listing_host: Callable[[str], HostModel]) -> HostModel:
    return listing_host("x399")


@pytest.fixture
def page(qtbot: QtBot, libvirt_uri: str, x399: HostModel, recorder: Recorder) -> Iterator[VmsPage]:
    vms = VmsPage(uris=[libvirt_uri])
    qtbot.addWidget(vms)
    vms.set_host(x399)
    qtbot.waitUntil(lambda: vms.model.rowCount() == 2)
    yield vms
    vms.shutdown()
    vms.runner.wait()


@pytest.fixture(scope="session")
def demo_host() -> HostModel:
    """The bundled demo host: the X399's PCI devices with a two-node Xeon topology."""
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.host.scan import scan_host
    from vfiodeck.resources import demo_host_path

    return scan_host(HostRoot.open(demo_host_path()))
