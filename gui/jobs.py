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
    done = Signal(object, object)  # the job, its result
    failed = Signal(object, object)  # the job, the exception


class Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], on_done: Done | None, on_failed: Failed | None) -> None:
        super().__init__()
        self._fn = fn
        self.on_done = on_done
        self.on_failed = on_failed
        self.signals = JobSignals()
        self.setAutoDelete(False)  # the runner holds it until its result was delivered

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as err:  # every failure goes back to the caller, never into the pool
            log.debug("job failed: %r", err)
            self.signals.failed.emit(self, err)
            return
        self.signals.done.emit(self, result)


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
        job = Job(fn, on_done, on_failed)
        self._running.add(job)
        # Bound methods of this QObject: Qt drops the connection when the runner (and the page
        # owning it) is deleted, so a late result never reaches a deleted widget.
        job.signals.done.connect(self._done)
        job.signals.failed.connect(self._failed)
        (self.queue(queue) if queue is not None else self.pool).start(job)
        return job

    def _done(self, job: Job, result: object) -> None:
        self._running.discard(job)
        if job.on_done is not None:
            job.on_done(result)

    def _failed(self, job: Job, err: object) -> None:
        self._running.discard(job)
        if not isinstance(err, BaseException):
            return
        if job.on_failed is not None:
            job.on_failed(err)
        else:
            log.warning("background job failed: %s", err)

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
