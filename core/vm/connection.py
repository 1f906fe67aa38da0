"""A libvirt connection with plain values out and translated errors: the only place that calls libvirt
for the domain list and lifecycle actions.

API (every method may block on the network: call it from a worker thread, never the GUI thread):
- ``Hypervisor(uri, events=True, on_lost=None)``; ``connect()`` (gives up after ``OPEN_TIMEOUT`` s),
  ``close()`` (releases event registrations first), ``is_alive()``, ``link_lost`` (libvirt's close
  callback or keepalive said the link died; ``on_lost(reason)`` hears it on libvirt's event thread).
- ``watch(callback) -> EventSubscription | None`` registers lifecycle events, ``unwatch(subscription)``
  deregisters them: both libvirt RPCs, so both belong on the worker as well.
- Domains: ``list_domains``, ``domain_info``, ``define``, ``undefine``, ``start``, ``shutdown``,
  ``destroy``, ``reboot``, ``inactive_xml``.
Connections to a daemon (``qemu:///system``, ``qemu+ssh://`` and friends; not the in-process test
driver) get libvirt keepalives (``KEEPALIVE_INTERVAL`` s, ``KEEPALIVE_COUNT`` misses), so a daemon or
peer that stops answering fails calls with ``ConnectionLostError`` instead of blocking forever.
``_conn`` is swapped only under a lock, so a worker and the GUI's close never race.

Every method raises a ``VmError`` subclass (see ``errors.py``), never a raw ``libvirtError``.
libvirt connections are thread-safe, so one ``Hypervisor`` may be shared by the stats sampler and
the action workers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

import libvirt

from vfiodeck.core.vm.errors import (
    ConnectionFailedError,
    ConnectionLostError,
    VmPermissionError,
    translate,
)
from vfiodeck.core.vm.events import (
    EventSubscription,
    LifecycleCallback,
    ensure_event_loop,
    release_connection,
    subscribe_lifecycle,
)

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class DomainState(str, Enum):
    """libvirt's virDomainState, named for people."""

    NOSTATE = "no state"
    RUNNING = "running"
    BLOCKED = "blocked"
    PAUSED = "paused"
    SHUTTING_DOWN = "shutting down"
    SHUTOFF = "shut off"
    CRASHED = "crashed"
    PMSUSPENDED = "suspended"

    @classmethod
    def from_libvirt(cls, value: int) -> DomainState:
        order = list(cls)  # same order as VIR_DOMAIN_NOSTATE .. VIR_DOMAIN_PMSUSPENDED (0..7)
        return order[value] if 0 <= value < len(order) else cls.NOSTATE

    @property
    def is_active(self) -> bool:
        return self not in (DomainState.SHUTOFF, DomainState.NOSTATE, DomainState.CRASHED)


@dataclass(frozen=True)
class DomainInfo:
    name: str
    uuid: str
    state: DomainState
    vcpus: int
    memory_kib: int  # the configured maximum (virDomainInfo.maxMem)
    autostart: bool
    persistent: bool


@dataclass(frozen=True)
class Backoff:
    """Reconnection delays: ``initial * factor**attempt``, capped at ``maximum`` seconds. Pure, so the
    schedule can be tested and shown ("retrying in 8 s") without waiting."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 60.0

    def delay(self, attempt: int) -> float:
        if attempt <= 0:
            return self.initial
        # min() before the power would overflow: a long outage reaches huge attempt numbers.
        delay = self.initial
        for _ in range(attempt):
            delay *= self.factor
            if delay >= self.maximum:
                return self.maximum
        return delay


DEFAULT_BACKOFF = Backoff()

_handler_lock = threading.Lock()
_handler_installed = False


def _silence_libvirt_stderr() -> None:
    """libvirt prints every error to stderr by default; we report them ourselves, translated."""
    global _handler_installed
    with _handler_lock:
        if not _handler_installed:
            libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
            _handler_installed = True


OPEN_TIMEOUT = 30.0  # seconds; an ssh password prompt nobody answers, a daemon that hangs
KEEPALIVE_INTERVAL = 5  # seconds between keepalive probes to the daemon
KEEPALIVE_COUNT = 3  # probes without an answer before libvirt closes the connection


def is_remote(uri: str) -> bool:
    """A URI with a transport or a host name: its calls cross a network."""
    scheme, _, rest = uri.partition("://")
    return "+" in scheme or not rest.startswith("/")


def talks_to_a_daemon(uri: str) -> bool:
    """Everything but the test driver, which runs inside this process (and refuses keepalives)."""
    return not uri.startswith("test:")


def _open_with_timeout(uri: str, timeout: float) -> libvirt.virConnect:
    """libvirt.open can block without end on a hung daemon; wait at most ``timeout`` seconds. A late
    connection is closed by the opening thread itself."""
    result: dict[str, object] = {}
    given_up = threading.Event()

    def opener() -> None:
        try:
            conn = libvirt.open(uri)
        except libvirt.libvirtError as err:
            result["error"] = err
            return
        if given_up.is_set():
            conn.close()
        else:
            result["conn"] = conn

    thread = threading.Thread(target=opener, name=f"libvirt-open {uri}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        given_up.set()
        late = result.pop("conn", None)  # finished between the join and the flag
        if isinstance(late, libvirt.virConnect):
            late.close()
        raise ConnectionFailedError(
            f"Can't open the libvirt connection {uri}: no answer within {timeout:g} s."
        )
    error = result.get("error")
    if isinstance(error, libvirt.libvirtError):
        raise error
    conn = result["conn"]
    assert isinstance(conn, libvirt.virConnect)
    return conn


def open_connection(uri: str, timeout: float = OPEN_TIMEOUT) -> libvirt.virConnect:
    """Open ``uri`` read-write. Raises ``ConnectionFailedError`` (or ``VmPermissionError``) whose message
    names the URI and says what to try."""
    _silence_libvirt_stderr()
    try:
        return _open_with_timeout(uri, timeout)
    except libvirt.libvirtError as err:
        translated = translate(err)
        if isinstance(translated, VmPermissionError):
            raise translated from err
        hint = str(translated) if isinstance(translated, ConnectionFailedError) else translated.detail
        raise ConnectionFailedError(
            f"Can't open the libvirt connection {uri}. {hint}", detail=translated.detail, code=translated.code
        ) from err


class Hypervisor:
    """One libvirt connection: domain list, define/undefine, lifecycle actions, reconnection.

    ``events=False`` is the no-events switch: no event loop is started and ``watch()`` returns None,
    so the caller polls ``list_domains()`` instead.
    """

    def __init__(
        self,
        uri: str,
        *,
        events: bool = True,
        opener: Callable[[str], libvirt.virConnect] = open_connection,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self.uri = uri
        self.events = events
        self._opener = opener
        self._on_lost = on_lost
        self._lock = threading.RLock()
        self._conn: libvirt.virConnect | None = None
        self.link_lost: str | None = None  # why the link died (close callback), None while it is fine

    # -- connection -------------------------------------------------------------------------------

    def connect(self) -> None:
        # The default event loop must exist before the connection opens, or libvirt never
        # dispatches its events (and remote keepalives) for it.
        daemon = talks_to_a_daemon(self.uri)
        if self.events or daemon:
            ensure_event_loop()  # keepalives and the close callback need the loop too
        conn = self._opener(self.uri)
        if daemon:
            try:
                conn.setKeepAlive(KEEPALIVE_INTERVAL, KEEPALIVE_COUNT)
            except libvirt.libvirtError as err:
                log.info("no keepalive on %s: %s", self.uri, err)
        try:
            conn.registerCloseCallback(self._closed_by_libvirt, None)
        except libvirt.libvirtError as err:
            log.info("no close callback on %s: %s", self.uri, err)
        with self._lock:
            old, self._conn = self._conn, conn
            self.link_lost = None
        if old is not None:
            self._release(old)

    _CLOSE_REASONS = {0: "an error", 1: "end of file", 2: "keepalive timeout", 3: "client request"}

    def _closed_by_libvirt(self, _conn: libvirt.virConnect, reason: int, _opaque: object) -> None:
        text = f"The link to {self.uri} was lost ({self._CLOSE_REASONS.get(reason, 'unknown reason')})."
        if reason == 3:
            return  # our own close()
        self.link_lost = text
        log.info("%s", text)
        if self._on_lost is not None:
            try:
                self._on_lost(text)
            except Exception:
                log.exception("on_lost callback failed")

    @property
    def conn(self) -> libvirt.virConnect:
        conn = self._conn
        if conn is None:
            raise ConnectionLostError(f"Not connected to {self.uri}.")
        if self.link_lost is not None:
            raise ConnectionLostError(self.link_lost)
        return conn

    def is_alive(self) -> bool:
        """False when the connection is closed, dropped, or was never opened. Never raises."""
        conn = self._conn
        if conn is None or self.link_lost is not None:
            return False
        try:
            return bool(conn.isAlive())
        except libvirt.libvirtError:
            return False

    def close(self) -> None:
        """Release the event registrations and close. Blocks on a remote link: call from a worker."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            self._release(conn)

    @staticmethod
    def _release(conn: libvirt.virConnect) -> None:
        release_connection(conn)
        try:
            conn.unregisterCloseCallback()
        except libvirt.libvirtError:
            pass
        try:
            conn.close()
        except libvirt.libvirtError:
            pass  # already dead: closing is all we wanted

    def watch(self, callback: LifecycleCallback) -> EventSubscription | None:
        """Lifecycle events for every domain, delivered on the event-loop thread. None when events are
        switched off or the driver refuses them: poll ``list_domains()`` then."""
        if not self.events:
            return None
        return subscribe_lifecycle(self.conn, callback)

    @staticmethod
    def unwatch(subscription: EventSubscription | None) -> None:
        """Deregister (a libvirt RPC on the last subscription of a connection): call from a worker."""
        if subscription is not None:
            subscription.cancel()

    # -- domains ----------------------------------------------------------------------------------

    def list_domains(self) -> tuple[DomainInfo, ...]:
        """Every defined or running domain, sorted by name. A domain that vanishes while being read
        is left out rather than failing the whole list."""
        try:
            domains = self.conn.listAllDomains(0)
        except libvirt.libvirtError as err:
            raise translate(err) from err
        infos: list[DomainInfo] = []
        for dom in domains:
            try:
                infos.append(_domain_info(dom))
            except libvirt.libvirtError as err:
                if err.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise translate(err) from err
        return tuple(sorted(infos, key=lambda i: i.name))

    def domain_info(self, name: str) -> DomainInfo:
        return self._call(name, _domain_info)

    def define(self, xml: str, validate: bool = True) -> DomainInfo:
        """Define (or redefine) a persistent domain. ``validate`` checks it against libvirt's schema."""
        flags = libvirt.VIR_DOMAIN_DEFINE_VALIDATE if validate else 0
        try:
            dom = self.conn.defineXMLFlags(xml, flags)
            return _domain_info(dom)
        except libvirt.libvirtError as err:
            raise translate(err) from err

    def undefine(self, name: str, keep_nvram: bool = True) -> None:
        """Remove the definition. UEFI VMs keep their NVRAM file unless ``keep_nvram`` is False."""

        def undefine(dom: libvirt.virDomain) -> None:
            flag = libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM if keep_nvram else libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
            try:
                dom.undefineFlags(flag)
            except libvirt.libvirtError as err:
                # Drivers without NVRAM support (the test driver) refuse the flag: nothing to keep.
                if err.get_error_code() not in (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT):
                    raise
                dom.undefine()

        self._call(name, undefine)

    def start(self, name: str) -> None:
        self._call(name, lambda dom: dom.create())

    def shutdown(self, name: str) -> None:
        """Ask the guest to power off (ACPI); it may take a while or ignore it."""
        self._call(name, lambda dom: dom.shutdown())

    def destroy(self, name: str) -> None:
        """Pull the plug."""
        self._call(name, lambda dom: dom.destroy())

    def reboot(self, name: str) -> None:
        self._call(name, lambda dom: dom.reboot(0))

    def inactive_xml(self, name: str) -> str:
        """The persistent definition (what the next start uses), not the live one."""
        return self._call(name, lambda dom: str(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)))

    def _call(self, name: str, action: Callable[[libvirt.virDomain], _T]) -> _T:
        try:
            return action(self.conn.lookupByName(name))
        except libvirt.libvirtError as err:
            raise translate(err, domain=name) from err


def _domain_info(dom: libvirt.virDomain) -> DomainInfo:
    state, max_mem, _mem, vcpus, _cpu_time = dom.info()
    return DomainInfo(
        name=dom.name(),
        uuid=dom.UUIDString(),
        state=DomainState.from_libvirt(state),
        vcpus=vcpus,
        memory_kib=max_mem,
        autostart=bool(dom.autostart()),
        persistent=bool(dom.isPersistent()),
    )
