"""The window's one job runner: blocking work off the GUI thread, results back as queued signals.

Jobs go to a named *queue*. A queue runs its jobs one at a time, in order (Vorta's ``SiteWorker``):
every libvirt call of one connection (connect, event registration, actions, close) goes to the
queue named after its URI, so calls on a connection never overlap and a slow remote holds up only
its own queue. Jobs without a queue (host scans, snapshots) run on the shared pool.

Each job owns a small QObject living on the GUI thread; the worker emits on it, so ``on_done`` and
``on_failed`` run on the GUI thread and may touch widgets. The runner keeps a job until its signal
was delivered, so results never reach a deleted object.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class JobSignals(QObject):
    done = Signal(object)
    failed = Signal(object)  # the exception


class Job(QRunnable):
    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._fn = fn
        self.signals = JobSignals()
        self.setAutoDelete(False)  # the runner holds it until its result was delivered

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as err:  # every failure goes back to the caller, never into the pool
            log.debug("job failed: %r", err)
            self.signals.failed.emit(err)
            return
        self.signals.done.emit(result)


class Jobs(QObject):
    """Starts jobs on named serial queues (or the shared pool) and tracks what still runs."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool.globalInstance()
        self._queues: dict[str, QThreadPool] = {}
        self._running: set[Job] = set()

    def queue(self, name: str) -> QThreadPool:
        """The serial queue ``name``: a pool of exactly one thread runs its jobs in FIFO order."""
        pool = self._queues.get(name)
        if pool is None:
            pool = QThreadPool(self)
            pool.setMaxThreadCount(1)
            pool.setObjectName(f"queue {name}")
            self._queues[name] = pool
        return pool

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Done | None = None,
        on_failed: Failed | None = None,
        *,
        queue: str | None = None,
    ) -> Job:
        job = Job(fn)
        self._running.add(job)

        def done(result: object) -> None:
            self._running.discard(job)
            if on_done is not None:
                on_done(result)

        def failed(err: object) -> None:
            self._running.discard(job)
            if on_failed is not None and isinstance(err, BaseException):
                on_failed(err)
            elif isinstance(err, BaseException):
                log.warning("background job failed: %s", err)

        job.signals.done.connect(done)
        job.signals.failed.connect(failed)
        (self.queue(queue) if queue is not None else self.pool).start(job)
        return job

    # The old name, kept for code that started jobs with ``jobs.start(fn, done, failed)``.
    def start(self, fn: Callable[[], Any], on_done: Done, on_failed: Failed) -> Job:
        return self.run(fn, on_done, on_failed)

    @property
    def busy(self) -> int:
        """How many jobs have not reported yet."""
        return len(self._running)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every queue and the pool are idle (tests, and the window's last moments)."""
        ok = all(pool.waitForDone(msecs) for pool in self._queues.values())
        return bool(self.pool.waitForDone(msecs)) and ok
