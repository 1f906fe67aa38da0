"""The window's one error channel: ``show_error(parent, summary, details)``, ``describe`` and an excepthook.

Expected errors (``VfioDeckError``: a bad root, a refused permission; ``VmError``: libvirt's refusal
translated) show their one-line message as it is, with libvirt's own text folded under "Details".
Only an unexpected exception puts a traceback there. Background pollers log; they never call this.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)


def show_error(parent: QWidget | None, summary: str, details: str = "") -> None:
    """A modal error box: ``summary`` as the text, ``details`` (if any) folded away."""
    log.warning("%s %s", summary, details)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("VFIO Deck")
    box.setTextFormat(Qt.TextFormat.PlainText)  # the summary may quote a file name or a device name
    box.setText(summary)
    if details:
        box.setDetailedText(details)
    box.exec()


def describe(err: BaseException) -> tuple[str, str]:
    """(summary, details): our errors' sentence and libvirt's raw text; a traceback for anything else."""
    from vfiodeck.core.errors import VfioDeckError  # lazy: keeps the window's first paint fast
    from vfiodeck.core.vm.errors import VmError

    if isinstance(err, VmError):
        return str(err), err.detail if err.detail != str(err) else ""
    if isinstance(err, VfioDeckError):
        return str(err), ""
    details = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    return str(err) or type(err).__name__, details


def show_exception(parent: QWidget | None, what: str, exc: BaseException) -> None:
    """``what`` failed because of ``exc``: "what: sentence", details folded away. A host error
    (a bad root, a refused read) already names what failed and shows alone."""
    from vfiodeck.core.errors import VfioDeckError
    from vfiodeck.core.vm.errors import VmError

    summary, details = describe(exc)
    if isinstance(exc, VfioDeckError) and not isinstance(exc, VmError):
        what = ""
    show_error(parent, f"{what}: {summary}" if what else summary, details)


def install_excepthook(parent_getter: object = None) -> None:
    """Route uncaught exceptions of Qt slots to ``show_exception`` instead of stderr only."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        log.error("uncaught exception", exc_info=(kind, exc, tb))
        parent = parent_getter() if callable(parent_getter) else None
        show_exception(parent, "Unexpected error", exc.with_traceback(tb))

    sys.excepthook = hook
