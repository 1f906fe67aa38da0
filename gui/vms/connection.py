"""One libvirt connection as the page sees it: connect, list, follow events, reconnect with backoff.

All libvirt calls run as jobs on the thread pool. Lifecycle events arrive on libvirt's event-loop
thread and are re-emitted through a Qt signal, which hops to the GUI thread before anything is
touched. Polling runs as well, slowly when events work and faster when they don't.
"""

from __future__ import annotations

import logging
from enum import Enum

from PySide6.QtCore import QObject, QTimer, Signal

from vfiodeck.core.vm.connection import DEFAULT_BACKOFF, Backoff, Hypervisor
from vfiodeck.core.vm.errors import ConnectionFailedError, ConnectionLostError, VmError, unreachable_message
from vfiodeck.core.vm.events import EventSubscription, LifecycleEvent
from vfiodeck.core.vm.inventory import DomainRow as DomainRow
from vfiodeck.core.vm.inventory import inventory as read_rows
from vfiodeck.gui.vms.workers import JobRunner

log = logging.getLogger(__name__)

POLL_WITH_EVENTS_MS = 15000  # events carry the news; the poll only notices a dead connection
POLL_WITHOUT_EVENTS_MS = 3000


class LinkState(str, Enum):
    CONNECTING = "connecting"
    UP = "up"
    DOWN = "down"


class ConnectionController(QObject):
    """Owns one ``Hypervisor``. Emits ``rows_changed(uri, rows)`` and ``state_changed(uri, state, text)``."""

    rows_changed = Signal(str, object)
    state_changed = Signal(str, str, str)
    _event_arrived = Signal(object)  # emitted on libvirt's thread, delivered on ours

    def __init__(
        self,
        uri: str,
        runner: JobRunner,
        *,
        events: bool = True,
        backoff: Backoff = DEFAULT_BACKOFF,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.uri = uri
        self.hv = Hypervisor(uri, events=events)
        self._runner = runner
        self._backoff = backoff
        self._attempt = 0
        self._subscription: EventSubscription | None = None
        self.state = LinkState.CONNECTING
        self.message = f"Connecting to {uri}…"
        self._closed = False
        self._refreshing = False
        self._refresh_again = False
        self._poll = QTimer(self)
        self._poll.timeout.connect(self.refresh)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self.connect_now)
        self._event_arrived.connect(self._on_event)

    # -- connecting -------------------------------------------------------------------------
    def connect_now(self) -> None:
        if self._closed:
            return
        self._retry.stop()
        self._set_state(LinkState.CONNECTING, f"Connecting to {self.uri}…")

        def work() -> tuple[DomainRow, ...]:
            self.hv.close()
            self.hv.connect()
            return read_rows(self.hv)

        self._runner.run(work, self._on_connected, self._on_down)

    def _on_connected(self, rows: object) -> None:
        if self._closed:
            return
        self._attempt = 0
        self._subscribe()
        self._set_state(LinkState.UP, f"Connected to {self.uri}")
        self._poll.start(POLL_WITH_EVENTS_MS if self._subscription else POLL_WITHOUT_EVENTS_MS)
        self.rows_changed.emit(self.uri, rows)

    def _subscribe(self) -> None:
        if self._subscription is not None:
            self._subscription.cancel()
        try:
            self._subscription = self.hv.watch(self._event_arrived.emit)
        except VmError as err:
            log.info("no lifecycle events on %s: %s", self.uri, err)
            self._subscription = None

    def _on_down(self, err: BaseException) -> None:
        if self._closed:
            return
        self._poll.stop()
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        delay = self._backoff.delay(self._attempt)
        self._attempt += 1
        self._set_state(LinkState.DOWN, f"{unreachable_message(self.uri, err)} Retrying in {delay:g} s.")
        self._retry.start(int(delay * 1000))

    # -- refreshing -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the domain list (coalesced: one read at a time, one more if asked meanwhile)."""
        if self._closed or self.state is not LinkState.UP:
            return
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing = True

        def work() -> tuple[DomainRow, ...]:
            if not self.hv.is_alive():
                raise ConnectionLostError(f"The connection to {self.uri} was lost.")
            return read_rows(self.hv)

        self._runner.run(work, self._on_rows, self._on_refresh_failed)

    def _on_rows(self, rows: object) -> None:
        self._refreshing = False
        if self._closed:
            return
        self.rows_changed.emit(self.uri, rows)
        if self._refresh_again:
            self._refresh_again = False
            self.refresh()

    def _on_refresh_failed(self, err: BaseException) -> None:
        self._refreshing = False
        self._refresh_again = False
        if isinstance(err, ConnectionLostError | ConnectionFailedError) or not self.hv.is_alive():
            self.rows_changed.emit(self.uri, ())
            self._on_down(err)
        else:
            log.info("refresh of %s failed: %s", self.uri, err)

    def _on_event(self, event: object) -> None:
        if isinstance(event, LifecycleEvent):
            log.debug("%s: %s %s", self.uri, event.name, event.kind.value)
        self.refresh()

    def lost(self, err: BaseException) -> None:
        """An action found the connection dead: show it and start reconnecting."""
        if self.state is LinkState.UP:
            self.rows_changed.emit(self.uri, ())
            self._on_down(err)

    # -- state ------------------------------------------------------------------------------
    def _set_state(self, state: LinkState, message: str) -> None:
        self.state = state
        self.message = message
        self.state_changed.emit(self.uri, state.value, message)

    def close(self) -> None:
        self._closed = True
        self._poll.stop()
        self._retry.stop()
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
        self.hv.close()
