"""libvirt lifecycle events on a daemon thread, handed to plain Python callbacks.

libvirt wants one event loop per process, registered before any connection opens:
``ensure_event_loop()`` registers the default implementation once and runs it on a daemon thread.
Callbacks run on that thread: the GUI must hop to its own thread (a queued signal) before touching
widgets, and a callback must return quickly, because it holds up every other event.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import libvirt

log = logging.getLogger(__name__)


class LifecycleKind(str, Enum):
    """virDomainEventType, in libvirt's order (0..8)."""

    DEFINED = "defined"
    UNDEFINED = "undefined"
    STARTED = "started"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    STOPPED = "stopped"
    SHUTDOWN = "shutdown"
    PMSUSPENDED = "pmsuspended"
    CRASHED = "crashed"
    UNKNOWN = "unknown"

    @classmethod
    def from_libvirt(cls, value: int) -> LifecycleKind:
        order = list(cls)[:-1]
        return order[value] if 0 <= value < len(order) else cls.UNKNOWN


@dataclass(frozen=True)
class LifecycleEvent:
    name: str
    uuid: str
    kind: LifecycleKind
    detail: int  # the per-kind reason code (e.g. VIR_DOMAIN_EVENT_STOPPED_DESTROYED)


LifecycleCallback = Callable[[LifecycleEvent], None]

_loop_lock = threading.Lock()
_loop_thread: threading.Thread | None = None


def _run_loop() -> None:
    while True:
        if libvirt.virEventRunDefaultImpl() < 0:
            log.error("libvirt event loop iteration failed")


def ensure_event_loop() -> None:
    """Register libvirt's default event loop and start its thread, once per process. Safe to call
    from any thread, any number of times. Must run before the connections that want events open."""
    global _loop_thread
    with _loop_lock:
        if _loop_thread is not None:
            return
        libvirt.virEventRegisterDefaultImpl()
        thread = threading.Thread(target=_run_loop, name="libvirt-events", daemon=True)
        thread.start()
        _loop_thread = thread


def event_loop_running() -> bool:
    return _loop_thread is not None and _loop_thread.is_alive()


class _Hub:
    """The one libvirt lifecycle registration of a connection, fanned out to many Python callbacks:
    libvirt refuses a second registration of the same callback on one connection."""

    def __init__(self, conn: libvirt.virConnect) -> None:
        self.conn = conn
        self.callbacks: dict[int, LifecycleCallback] = {}
        self.libvirt_id: int | None = None

    def dispatch(
        self, _conn: libvirt.virConnect, dom: libvirt.virDomain, event: int, detail: int, _opaque: object
    ) -> None:
        with _hubs_lock:
            callbacks = list(self.callbacks.values())
        if not callbacks:
            return
        try:
            value = LifecycleEvent(dom.name(), dom.UUIDString(), LifecycleKind.from_libvirt(event), detail)
        except libvirt.libvirtError:
            log.exception("could not read the domain of a lifecycle event")
            return
        for callback in callbacks:
            try:
                callback(value)
            except Exception:
                # An exception must not reach libvirt's loop: it would only print and lose the others.
                log.exception("lifecycle callback failed")


_hubs_lock = threading.Lock()
_hubs: dict[int, _Hub] = {}  # by id() of the connection object; the hub keeps that object alive
_next_token = 0


class EventSubscription:
    """One lifecycle callback; ``cancel()`` removes it (idempotent, never raises)."""

    def __init__(self, hub: _Hub, token: int) -> None:
        self._hub = hub
        self._token: int | None = token

    @property
    def active(self) -> bool:
        return self._token is not None

    def cancel(self) -> None:
        with _hubs_lock:
            token, self._token = self._token, None
            if token is None:
                return
            self._hub.callbacks.pop(token, None)
            if self._hub.callbacks:
                return
            _hubs.pop(id(self._hub.conn), None)
            libvirt_id, self._hub.libvirt_id = self._hub.libvirt_id, None
        if libvirt_id is not None:
            try:
                self._hub.conn.domainEventDeregisterAny(libvirt_id)
            except libvirt.libvirtError:
                pass  # the connection is gone, and the registration with it


def release_connection(conn: libvirt.virConnect) -> None:
    """Drop every lifecycle callback of ``conn`` and its libvirt registration. Call it before the
    connection closes: a registration that outlives its connection can crash libvirt's event loop
    thread when the loop next dispatches (seen as a segfault in virEventRunDefaultImpl)."""
    with _hubs_lock:
        hub = _hubs.pop(id(conn), None)
        if hub is None:
            return
        hub.callbacks.clear()
        libvirt_id, hub.libvirt_id = hub.libvirt_id, None
    if libvirt_id is not None:
        try:
            conn.domainEventDeregisterAny(libvirt_id)
        except libvirt.libvirtError:
            pass  # the connection is already gone, and the registration with it


def subscribe_lifecycle(conn: libvirt.virConnect, callback: LifecycleCallback) -> EventSubscription | None:
    """Call ``callback`` for every lifecycle event of every domain on ``conn``. Returns None when the
    driver does not deliver events (then poll instead). Exceptions from ``callback`` are logged, not
    raised into libvirt's loop."""
    global _next_token
    with _hubs_lock:
        hub = _hubs.get(id(conn))
        if hub is None:
            hub = _Hub(conn)
            try:
                lifecycle = libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE
                hub.libvirt_id = int(conn.domainEventRegisterAny(None, lifecycle, hub.dispatch, None))
            except libvirt.libvirtError as err:
                log.info("lifecycle events unavailable, polling instead: %s", err)
                return None
            _hubs[id(conn)] = hub
        _next_token += 1
        hub.callbacks[_next_token] = callback
        return EventSubscription(hub, _next_token)
