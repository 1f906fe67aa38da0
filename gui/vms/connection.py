"""One libvirt connection as the page sees it: connect, list, follow events, reconnect with backoff.

Every libvirt call (connect, event registration and release, the domain list, actions, close) is a
job on this connection's own serial queue in ``gui/jobs.py``: calls on one connection never overlap,
and none runs on the GUI thread, where a dead remote would freeze the window. Lifecycle events arrive
on libvirt's event-loop thread and are re-emitted through a Qt signal, which hops to the GUI thread
before anything is touched. Polling runs as well, slowly when events work and faster when they don't.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

import libvirt
from PySide6.QtCore import QObject, QTimer, Signal

from vfiodeck.core.vm.connection import (
    DEFAULT_BACKOFF,
    Backoff,
    Hypervisor,
    open_connection,
)
from vfiodeck.core.vm.errors import ConnectionFailedError, ConnectionLostError, VmError, unreachable_message
from vfiodeck.core.vm.events import EventSubscription, LifecycleEvent
from vfiodeck.core.vm.inventory import DomainRow as DomainRow
from vfiodeck.core.vm.inventory import inventory
from vfiodeck.gui.jobs import Failed, Jobs

log = logging.getLogger(__name__)
_T = TypeVar("_T")

POLL_WITH_EVENTS_MS = 15000  # events carry the news; the poll only notices a dead connection
POLL_WITHOUT_EVENTS_MS = 3000


class LinkState(str, Enum):
    CONNECTING = "connecting"
    UP = "up"
    DOWN = "down"


def read_rows(hv: Hypervisor) -> tuple[DomainRow, ...]:
    """``inventory(hv)``, where a failure on a link that is no longer alive is a lost connection."""
    try:
        return inventory(hv)
    except VmError as err:
        if not hv.is_alive():
            raise ConnectionLostError(f"The connection to {hv.uri} was lost.", detail=str(err)) from err
        raise


class ConnectionController(QObject):
    """Owns one ``Hypervisor``. Emits ``rows_changed(uri, rows)`` and ``state_changed(uri, state, text)``.
    ``run`` is the only way to reach the connection: it queues a job on this connection's queue."""

    rows_changed = Signal(str, object)
    state_changed = Signal(str, str, str)
    _event_arrived = Signal(object)  # emitted on libvirt's thread, delivered on ours
    _link_lost = Signal(str)  # libvirt's close callback or keepalive, from libvirt's thread

    def __init__(
        self,
        uri: str,
        jobs: Jobs,
        *,
        events: bool = True,
        backoff: Backoff = DEFAULT_BACKOFF,
        opener: Callable[[str], libvirt.virConnect] = open_connection,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.uri = uri
        self.hv = Hypervisor(uri, events=events, opener=opener, on_lost=self._link_lost.emit)
        self._jobs = jobs
        self._backoff = backoff
        self._attempt = 0
        self._subscription: EventSubscription | None = None  # touched only on the queue
        self.watching = False
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
        self._link_lost.connect(lambda reason: self.lost(ConnectionLostError(reason)))

    def run(
        self,
        fn: Callable[[Hypervisor], _T],
        on_done: Callable[[Any], None] | None = None,
        on_failed: Failed | None = None,
    ) -> None:
        """Run ``fn(hv)`` on this connection's queue; the callbacks run on the GUI thread."""
        hv = self.hv
        self._jobs.run(lambda: fn(hv), on_done, on_failed, queue=self.uri)

    # -- connecting -------------------------------------------------------------------------
    def connect_now(self) -> None:
        if self._closed:
            return
        self._retry.stop()
        self._set_state(LinkState.CONNECTING, f"Connecting to {self.uri}…")

        def work(hv: Hypervisor) -> tuple[tuple[DomainRow, ...], bool]:
            self._release(hv)
            hv.connect()
            try:
                self._subscription = hv.watch(self._event_arrived.emit)
            except VmError as err:
                log.info("no lifecycle events on %s: %s", self.uri, err)
            return read_rows(hv), self._subscription is not None

        self.run(work, self._on_connected, self._on_down)

    def _release(self, hv: Hypervisor) -> None:
        """On the queue: drop the event registration, then the connection (a no-op when closed)."""
        subscription, self._subscription = self._subscription, None
        hv.unwatch(subscription)
        hv.close()

    def _on_connected(self, result: tuple[tuple[DomainRow, ...], bool]) -> None:
        if self._closed:
            return
        rows, self.watching = result
        self._attempt = 0
        self._set_state(LinkState.UP, f"Connected to {self.uri}")
        self._poll.start(POLL_WITH_EVENTS_MS if self.watching else POLL_WITHOUT_EVENTS_MS)
        self.rows_changed.emit(self.uri, rows)

    def _on_down(self, err: BaseException) -> None:
        if self._closed:
            return
        self._poll.stop()
        self.watching = False
        self.run(self._release)  # queued: the deregistration may wait on a dead link, not on us
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

        def work(hv: Hypervisor) -> tuple[DomainRow, ...]:
            if not hv.is_alive():
                raise ConnectionLostError(f"The connection to {self.uri} was lost.")
            return read_rows(hv)

        self.run(work, self._on_rows, self._on_refresh_failed)

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
        if isinstance(err, ConnectionLostError | ConnectionFailedError):
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
        """Stop timers and queue the release and close: the window never waits on the network."""
        if self._closed:
            return
        self._closed = True
        self._poll.stop()
        self._retry.stop()
        self.run(self._release)
