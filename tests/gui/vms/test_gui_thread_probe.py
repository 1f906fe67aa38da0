"""No libvirt call on the GUI thread: a real test-driver connection wrapped in a proxy that records the
thread of every call (and of the calls on the domains it hands out), across connect, lifecycle
events, a device drop, a dropped link and close."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import libvirt
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.gui.vms.conftest import Recorder
from vfiodeck.core.host.model import HostModel
from vfiodeck.core.vm.connection import open_connection
from vfiodeck.gui.vms.domain_model import make_pci_mime
from vfiodeck.gui.vms.page import VmsPage


class Probe:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bool]] = []  # (libvirt method, on the GUI thread)
        self.real: list[libvirt.virConnect] = []
        self._lock = threading.Lock()

    def record(self, name: str) -> None:
        with self._lock:
            self.calls.append((name, threading.current_thread() is threading.main_thread()))

    def opener(self, uri: str) -> Any:
        self.record("open")
        conn = open_connection(uri)
        self.real.append(conn)
        return _Proxy(conn, self)

    @property
    def on_gui_thread(self) -> list[str]:
        return [name for name, gui in self.calls if gui]

    @property
    def names(self) -> set[str]:
        return {name for name, _gui in self.calls}


class _Proxy:
    """Stands in for a virConnect or virDomain: every method call is recorded, then forwarded."""

    def __init__(self, target: Any, probe: Probe) -> None:
        self._target = target
        self._probe = probe

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self._probe.record(name)
            return _wrap(attr(*args, **kwargs), self._probe)

        return call


def _wrap(value: Any, probe: Probe) -> Any:
    if isinstance(value, libvirt.virDomain | libvirt.virStoragePool | libvirt.virStorageVol):
        return _Proxy(value, probe)
    if isinstance(value, list):
        return [_wrap(v, probe) for v in value]
    return value


def _until(qtbot: QtBot, test: Callable[[], bool]) -> None:
    qtbot.waitUntil(test, timeout=20000)


def test_no_libvirt_call_on_the_gui_thread(
    qtbot: QtBot, libvirt_uri: str, x399: HostModel, recorder: Recorder
) -> None:
    probe = Probe()
    page = VmsPage(uris=[libvirt_uri], opener=probe.opener)
    qtbot.addWidget(page)
    page.set_host(x399)
    _until(qtbot, lambda: page.model.rowCount() == 2)
    ctrl = page.controllers[libvirt_uri]
    _until(qtbot, lambda: ctrl.watching)

    # An action whose lifecycle event comes back through libvirt's event loop.
    page.select("gaming")
    page.acts.destroy_action.trigger()
    _until(qtbot, lambda: page.model.find_name("gaming").info.state.value == "shut off")

    # A drop: plan on the queue, confirm, compare-and-swap define on the queue.
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == "gaming")
    page.proxy.dropMimeData(
        make_pci_mime(["0000:08:00.0"]), Qt.DropAction.CopyAction, -1, -1, page.proxy.index(row, 0)
    )
    _until(qtbot, lambda: page.model.find_name("gaming").devices == ("0000:08:00.0", "0000:08:00.1"))

    # The link drops (closed under our feet); the page notices, releases and reconnects.
    ctrl._backoff = type(ctrl._backoff)(initial=0.05, maximum=0.05)
    probe.real[-1].close()
    ctrl.refresh()
    _until(qtbot, lambda: len(probe.real) == 2 and page.banner_text(libvirt_uri) == "")
    _until(qtbot, lambda: page.model.rowCount() == 2 and ctrl.watching)

    page.shutdown()
    assert page.runner.wait()
    assert recorder.errors == []
    assert {
        "open",
        "domainEventRegisterAny",
        "domainEventDeregisterAny",
        "close",
        "defineXMLFlags",
    } <= probe.names
    assert probe.on_gui_thread == []
