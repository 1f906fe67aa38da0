"""The page's set of libvirt connections: which are open, which the user added (kept in the
settings, so they come back on the next start), and their signals merged into one pair."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libvirt
from PySide6.QtCore import QObject, Signal

from vfiodeck.core.vm.connection import open_connection
from vfiodeck.gui.jobs import Jobs
from vfiodeck.gui.settings import open_settings
from vfiodeck.gui.vms.connection import ConnectionController, LinkState

DEFAULT_URI = "qemu:///system"
_KEY = "vms/connections"


def saved_uris() -> list[str]:
    value = open_settings().value(_KEY, [])
    if isinstance(value, str):  # QSettings gives a one-element list back as a plain string
        value = [value]
    return [str(v) for v in value if str(v)] if isinstance(value, list) else []


def remember_uri(uri: str) -> None:
    settings = open_settings()
    uris = saved_uris()
    if uri not in uris:
        settings.setValue(_KEY, [*uris, uri])
        settings.sync()


def forget_uri(uri: str) -> None:
    settings = open_settings()
    settings.setValue(_KEY, [u for u in saved_uris() if u != uri])
    settings.sync()


class ConnectionSet(QObject):
    rows_changed = Signal(str, object)  # uri, rows
    state_changed = Signal(str, str, str)  # uri, LinkState value, message

    def __init__(
        self,
        jobs: Jobs,
        *,
        events: bool = True,
        opener: Callable[[str], libvirt.virConnect] = open_connection,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.events = events
        self.opener = opener
        self.controllers: dict[str, ConnectionController] = {}

    def get(self, uri: str) -> ConnectionController | None:
        return self.controllers.get(uri)

    def up(self) -> list[str]:
        return [u for u, c in self.controllers.items() if c.state is LinkState.UP]

    def add(self, uri: str) -> ConnectionController:
        if uri in self.controllers:
            return self.controllers[uri]
        ctrl = ConnectionController(uri, self.jobs, events=self.events, opener=self.opener, parent=self)
        ctrl.rows_changed.connect(self.rows_changed)
        ctrl.state_changed.connect(self.state_changed)
        self.controllers[uri] = ctrl
        ctrl.connect_now()
        return ctrl

    def remove(self, uri: str) -> None:
        ctrl = self.controllers.pop(uri, None)
        if ctrl is not None:
            ctrl.close()
        self.rows_changed.emit(uri, ())
        self.state_changed.emit(uri, LinkState.UP.value, "")

    def set_uris(self, uris: Sequence[str]) -> None:
        """Open exactly ``uris`` plus the ones the user added earlier; [] means qemu:///system."""
        wanted = list(dict.fromkeys([*(uris or [DEFAULT_URI]), *saved_uris()]))
        for uri in list(self.controllers):
            if uri not in wanted:
                self.remove(uri)
        for uri in wanted:
            self.add(uri)

    def close_all(self) -> None:
        for uri in list(self.controllers):
            self.controllers.pop(uri).close()
