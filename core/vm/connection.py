"""A libvirt connection with plain values out and translated errors: the only place that calls libvirt
for the domain list and lifecycle actions.

Every method raises a ``VmError`` subclass (see ``errors.py``), never a raw ``libvirtError``. Calls block:
the GUI runs them on worker threads. libvirt connections are thread-safe, so one ``Hypervisor`` may be
shared by the stats sampler and the action workers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

import libvirt

from vfiodeck.core.vm.errors import (
    ConnectionFailedError,
    ConnectionLostError,
    VmError,
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


def open_connection(uri: str) -> libvirt.virConnect:
    """Open ``uri`` read-write. Raises ``ConnectionFailedError`` (or ``VmPermissionError``) whose message
    names the URI and says what to try."""
    _silence_libvirt_stderr()
    try:
        return libvirt.open(uri)
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
    ) -> None:
        self.uri = uri
        self.events = events
        self._opener = opener
        self._conn: libvirt.virConnect | None = None

    # -- connection -------------------------------------------------------------------------------

    def connect(self) -> None:
        # The default event loop must exist before the connection opens, or libvirt never
        # dispatches its events (and remote keepalives) for it.
        if self.events:
            ensure_event_loop()
        self._conn = self._opener(self.uri)

    @property
    def conn(self) -> libvirt.virConnect:
        if self._conn is None:
            raise ConnectionLostError(f"Not connected to {self.uri}.")
        return self._conn

    def is_alive(self) -> bool:
        """False when the connection is closed, dropped, or was never opened. Never raises."""
        if self._conn is None:
            return False
        try:
            return bool(self._conn.isAlive())
        except libvirt.libvirtError:
            return False

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            release_connection(conn)
            try:
                conn.close()
            except libvirt.libvirtError:
                pass  # already dead: closing is all we wanted

    def reconnect(
        self,
        backoff: Backoff = DEFAULT_BACKOFF,
        max_attempts: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[int, float, VmError], None] | None = None,
    ) -> bool:
        """Reopen the connection, waiting ``backoff.delay(n)`` between failed attempts. ``on_retry``
        hears each failure (attempt, next delay, error) so the window can say "retrying in N s".
        Returns False once ``max_attempts`` failed (None: keep trying)."""
        self.close()
        attempt = 0
        while max_attempts is None or attempt < max_attempts:
            try:
                self.connect()
                return True
            except VmError as err:
                delay = backoff.delay(attempt)
                attempt += 1
                log.info("reconnect to %s failed (attempt %d): %s", self.uri, attempt, err.detail or err)
                if on_retry is not None:
                    on_retry(attempt, delay, err)
                if max_attempts is not None and attempt >= max_attempts:
                    break
                sleep(delay)
        return False

    def watch(self, callback: LifecycleCallback) -> EventSubscription | None:
        """Lifecycle events for every domain, delivered on the event-loop thread. None when events are
        switched off or the driver refuses them: poll ``list_domains()`` then."""
        if not self.events:
            return None
        return subscribe_lifecycle(self.conn, callback)

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
