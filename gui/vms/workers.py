"""Blocking calls (libvirt, sampling) on a QThreadPool, results back on the GUI thread as signals.

A ``Job`` owns a small QObject with ``done``/``failed`` signals. That QObject lives on the GUI thread,
so an emit from the worker is delivered queued: callbacks run on the GUI thread and may touch widgets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)


class Job(QRunnable):
    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._fn = fn
        self.signals = _Signals()
        self.setAutoDelete(False)  # the runner keeps it until its signal was delivered

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as err:  # every failure goes back to the caller, never into the pool
            log.debug("job failed: %s", err)
            self.signals.failed.emit(err)
            return
        self.signals.done.emit(result)


class JobRunner(QObject):
    """Starts jobs and keeps each alive until its result reached the GUI thread."""

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._running: set[Job] = set()

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_failed: Callable[[BaseException], None] | None = None,
    ) -> Job:
        job = Job(fn)
        self._running.add(job)

        def finish() -> None:
            self._running.discard(job)

        def done(result: object) -> None:
            finish()
            if on_done is not None:
                on_done(result)

        def failed(err: object) -> None:
            finish()
            if on_failed is not None and isinstance(err, BaseException):
                on_failed(err)

        job.signals.done.connect(done)
        job.signals.failed.connect(failed)
        self._pool.start(job)
        return job

    @property
    def busy(self) -> int:
        return len(self._running)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the pool is idle (tests and shutdown)."""
        return bool(self._pool.waitForDone(msecs))
