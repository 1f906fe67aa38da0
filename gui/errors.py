"""One way to show errors: ``show_error(parent, summary, details)``, and an excepthook.

Expected errors (``VfioDeckError``: a bad root, a refused permission) show their one-line message
as it is. Only an unexpected exception puts a traceback in the dialog's "details" area.
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


def show_exception(parent: QWidget | None, what: str, exc: BaseException) -> None:
    """``what`` failed because of ``exc``: a user message for our errors, a traceback otherwise."""
    from vfiodeck.core.errors import VfioDeckError  # lazy: keeps the window's first paint fast

    if isinstance(exc, VfioDeckError):
        show_error(parent, str(exc))
        return
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    show_error(parent, f"{what}: {exc}", details)


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
