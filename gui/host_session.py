"""The host the window shows: loading it on a worker, dropping stale loads, following udev while live,
and writing it to a snapshot. The window only listens to the signals and hands values to its pages.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from vfiodeck.gui.jobs import Jobs

if TYPE_CHECKING:
    from vfiodeck.gui.loading import LoadedHost
    from vfiodeck.gui.udev_watch import PciWatcher

log = logging.getLogger(__name__)


class HostSession(QObject):
    """``busy_changed(busy, message)`` brackets every load and save; ``loaded(LoadedHost)`` and
    ``failed(exc)`` report only the newest load; ``saved(path)``/``save_failed(exc)`` a snapshot."""

    busy_changed = Signal(bool, str)
    loaded = Signal(object)
    failed = Signal(object)
    saved = Signal(str)
    save_failed = Signal(object)

    def __init__(self, jobs: Jobs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.current: LoadedHost | None = None
        self._generation = 0  # a newer load makes an older one's result stale
        self._pending = 0
        self.watcher: PciWatcher | None = None

    @property
    def is_busy(self) -> bool:
        return self._pending > 0

    def _busy(self, busy: bool, message: str = "") -> None:
        self._pending = max(self._pending + (1 if busy else -1), 0)
        self.busy_changed.emit(self._pending > 0, message)

    # -- loading ----------------------------------------------------------------------------
    def begin(self) -> int:
        """Announce a load (the window may start it later, after its first paint)."""
        self._generation += 1
        self._busy(True, "Reading the host…")
        return self._generation

    def start(self, generation: int, spec: str | None, demo: bool = False) -> None:
        from vfiodeck.gui.loading import load_host

        self.jobs.run(
            lambda: load_host(spec, demo),
            lambda result: self._loaded(generation, result),
            lambda exc: self._failed(generation, exc),
        )

    def open(self, spec: str | None, demo: bool = False) -> None:
        self.start(self.begin(), spec, demo)

    def reload(self) -> None:
        if self.current is not None:
            self.open(self.current.spec, self.current.demo)

    def _loaded(self, generation: int, result: LoadedHost) -> None:
        self._busy(False)
        if generation != self._generation:
            return
        self.current = result
        self.watch_live(result.root.live)
        self.loaded.emit(result)

    def _failed(self, generation: int, exc: BaseException) -> None:
        self._busy(False)
        if generation == self._generation:
            self.failed.emit(exc)

    # -- udev -------------------------------------------------------------------------------
    def watch_live(self, live: bool) -> None:
        """Reload on PCI hotplug and bind/unbind, but only while the live host is shown."""
        from vfiodeck.gui.udev_watch import PciWatcher

        if live and self.watcher is None:
            watcher = PciWatcher(self)
            if watcher.start():
                watcher.changed.connect(self.reload)
                self.watcher = watcher
        elif not live and self.watcher is not None:
            self.watcher.stop()
            self.watcher.deleteLater()
            self.watcher = None

    # -- snapshots --------------------------------------------------------------------------
    def save_snapshot(self, dest: Path) -> None:
        if self.current is None:
            return
        root = self.current.root

        def write() -> Path:
            from vfiodeck.core.snapshot import write_snapshot

            write_snapshot(root, dest)
            return dest

        self._busy(True, f"Writing {dest.name}…")
        self.jobs.run(write, self._saved, self._save_failed)

    def _saved(self, dest: Path) -> None:
        self._busy(False)
        self.saved.emit(str(dest))

    def _save_failed(self, exc: BaseException) -> None:
        self._busy(False)
        self.save_failed.emit(exc)
