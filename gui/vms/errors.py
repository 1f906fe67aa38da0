"""The VMs page's errors go through the window's one error box (``vfiodeck.gui.errors.show_error``):
a plain-language summary, libvirt's own text folded under "Details"."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from vfiodeck.core.vm.errors import VmError
from vfiodeck.gui import errors as app_errors


def describe(err: BaseException) -> tuple[str, str]:
    """(summary, details): a VmError's sentence and libvirt's raw text; anything else as it reads."""
    if isinstance(err, VmError):
        return str(err), err.detail if err.detail != str(err) else ""
    return str(err) or type(err).__name__, ""


def show_error(parent: QWidget | None, summary: str, details: str = "") -> None:
    app_errors.show_error(parent, summary, details)


def show_exception(parent: QWidget | None, intro: str, err: BaseException) -> None:
    summary, details = describe(err)
    show_error(parent, f"{intro}: {summary}" if intro else summary, details)
