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


class EventSubscription:
    """One registered lifecycle callback; ``cancel()`` removes it (idempotent, never raises)."""

    def __init__(self, conn: libvirt.virConnect, callback_id: int) -> None:
        self._conn = conn
        self._id: int | None = callback_id

    @property
    def active(self) -> bool:
        return self._id is not None

    def cancel(self) -> None:
        callback_id, self._id = self._id, None
        if callback_id is None:
            return
        try:
            self._conn.domainEventDeregisterAny(callback_id)
        except libvirt.libvirtError:
            pass  # the connection is gone, and the registration with it


def subscribe_lifecycle(conn: libvirt.virConnect, callback: LifecycleCallback) -> EventSubscription | None:
    """Call ``callback`` for every lifecycle event of every domain on ``conn``. Returns None when the
    driver does not deliver events (then poll instead). Exceptions from ``callback`` are logged, not
    raised into libvirt's loop."""

    def on_event(
        _conn: libvirt.virConnect, dom: libvirt.virDomain, event: int, detail: int, _opaque: object
    ) -> None:
        try:
            callback(LifecycleEvent(dom.name(), dom.UUIDString(), LifecycleKind.from_libvirt(event), detail))
        except Exception:
            log.exception("lifecycle callback failed")

    try:
        callback_id = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_event, None)
    except libvirt.libvirtError as err:
        log.info("lifecycle events unavailable, polling instead: %s", err)
        return None
    return EventSubscription(conn, int(callback_id))
