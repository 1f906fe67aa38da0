"""Blocking work off the GUI thread: a QRunnable whose result comes back as a queued signal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class JobSignals(QObject):
    """Lives in the GUI thread; the worker emits, so the slots run there (queued connection)."""

    done = Signal(object)
    failed = Signal(object)  # the exception


class Job(QRunnable):
    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = JobSignals()
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # noqa: BLE001  any failure must reach the window, not kill the thread
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


class Jobs(QObject):
    """Starts jobs and keeps their signal objects alive until they report."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: set[JobSignals] = set()
        self.pool = QThreadPool.globalInstance()

    def start(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_failed: Callable[[BaseException], None],
    ) -> JobSignals:
        job = Job(fn)
        signals = job.signals
        self._running.add(signals)
        signals.done.connect(on_done)
        signals.failed.connect(on_failed)
        signals.done.connect(lambda _r, s=signals: self._running.discard(s))
        signals.failed.connect(lambda _e, s=signals: self._running.discard(s))
        self.pool.start(job)
        return signals

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)
