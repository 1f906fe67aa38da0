"""Live host: PCI hotplug and driver bind/unbind events from pyudev, debounced into one signal.

Both netlink sources are opened when possible: "udev" is what a desktop normally delivers, and
"kernel" is what works where no udevd runs (containers, this project's CI). A burst of events (a
GPU and its audio function rebinding) becomes one ``changed`` after a quiet period.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

log = logging.getLogger(__name__)

WATCHED_ACTIONS = frozenset({"add", "remove", "bind", "unbind"})
DEBOUNCE_MS = 700


class PciWatcher(QObject):
    changed = Signal()

    def __init__(self, parent: QObject | None = None, debounce_ms: int = DEBOUNCE_MS) -> None:
        super().__init__(parent)
        self._monitors: list[Any] = []
        self._notifiers: list[QSocketNotifier] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self.changed)

    @property
    def sources(self) -> list[str]:
        return [str(getattr(m, "_vfiodeck_source", "?")) for m in self._monitors]

    def start(self) -> bool:
        """Open the monitors; False (and a log line) when none could be opened."""
        if self._monitors:
            return True
        try:
            import pyudev
        except ImportError:
            log.info("pyudev is not installed: no live refresh")
            return False
        try:
            context = pyudev.Context()
        except Exception as exc:  # noqa: BLE001  libudev missing or broken: the window still works
            log.info("no udev context: %s", exc)
            return False
        for source in ("udev", "kernel"):
            try:
                monitor = pyudev.Monitor.from_netlink(context, source=source)
                monitor.start()
            except Exception as exc:  # noqa: BLE001  e.g. no permission for a netlink group
                log.info("udev monitor %s unavailable: %s", source, exc)
                continue
            monitor._vfiodeck_source = source
            notifier = QSocketNotifier(monitor.fileno(), QSocketNotifier.Type.Read, self)
            notifier.activated.connect(lambda _sock, m=monitor: self._drain(m))
            self._monitors.append(monitor)
            self._notifiers.append(notifier)
        return bool(self._monitors)

    def stop(self) -> None:
        for notifier in self._notifiers:
            notifier.setEnabled(False)
            notifier.deleteLater()
        self._notifiers.clear()
        self._monitors.clear()  # closing is left to pyudev's finalizer
        self._timer.stop()

    def _drain(self, monitor: Any) -> None:
        while True:
            try:
                device = monitor.poll(timeout=0)
            except Exception as exc:  # noqa: BLE001  a malformed message must not stop the watcher
                log.debug("udev poll failed: %s", exc)
                return
            if device is None:
                return
            self.note_event(device.subsystem, device.action)

    def note_event(self, subsystem: str | None, action: str | None) -> None:
        """One event seen; restart the quiet-period timer when it concerns PCI."""
        if subsystem == "pci" and action in WATCHED_ACTIONS:
            self._timer.start()
