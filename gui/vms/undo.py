"""Undo for the VMs page, on the persistent definition history (``core/vm/history.py``).

Every define of an existing VM is a compare-and-swap there: it goes ahead only when the inactive
definition is still the text the preview was computed from, otherwise it is refused with the diff
(someone ran ``virsh edit`` or virt-manager meanwhile). Undo is the same swap backwards. The history
outlives the window; the stack shows the entries of the open connections *and* the host shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from vfiodeck.core.vm.history import DefinitionChangedError, History, HistoryEntry, apply_define
from vfiodeck.core.vm.history import undo as undo_entry
from vfiodeck.gui import errors
from vfiodeck.gui.vms import dialogs

if TYPE_CHECKING:
    from vfiodeck.gui.vms.page import VmsPage


def show_stale(page: VmsPage, title: str, err: DefinitionChangedError) -> None:
    """A refused compare-and-swap: say so, and show what changed (the preview, then the definition now)."""
    page.status.setText(f"{title}: {err}")
    dialogs.show_refused(page, title, str(err), err.diff or "(the definition is gone)")


class UndoStack(QObject):
    changed = Signal()

    def __init__(self, page: VmsPage) -> None:
        super().__init__(page)
        self.page = page
        self.entries: list[HistoryEntry] = []

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def host(self) -> str:
        return self.page.host.source if self.page.host is not None else ""

    @property
    def can_undo(self) -> bool:
        return bool(self.entries)

    def tooltip(self) -> str:
        return f"Undo: {self.entries[-1].what} (Ctrl+Z)" if self.entries else "Nothing to undo"

    def reload(self) -> None:
        """Read the history (a small file) off the GUI thread for the open connections and this host."""
        uris, host = list(self.page.connections.controllers), self.host

        def read() -> list[HistoryEntry]:
            history = History()
            return sorted((e for u in uris for e in history.entries(u, host)), key=lambda e: e.at)

        self.page.runner.run(read, self._loaded)

    def _loaded(self, entries: list[HistoryEntry]) -> None:
        self.entries = list(entries)
        self.changed.emit()

    def push(self, entry: HistoryEntry) -> None:
        self.entries.append(entry)
        self.changed.emit()

    def forget(self, uri: str, name: str) -> None:
        """A VM deleted here has nothing left to undo in this window."""
        self.entries = [e for e in self.entries if (e.uri, e.vm) != (uri, name)]
        self.changed.emit()

    def undo(self) -> None:
        if not self.entries or self.page.connections.get(self.entries[-1].uri) is None:
            return
        entry = self.entries.pop()  # at once: a second Ctrl+Z must not undo the same change twice
        self.changed.emit()

        def done(_result: object) -> None:
            self.page.status.setText(f"Undone: {entry.what}.")
            self.page.refresh(entry.uri)

        def failed(err: BaseException) -> None:
            self.entries.append(entry)
            self.changed.emit()
            if isinstance(err, DefinitionChangedError):
                show_stale(self.page, "Could not undo", err)
                return
            self.page.status.setText(f"Could not undo: {errors.describe(err)[0]}")
            errors.show_exception(self.page, "Could not undo", err)

        ctrl = self.page.connections.get(entry.uri)
        assert ctrl is not None
        ctrl.run(lambda hv: undo_entry(hv, entry), done, failed)

    def define(self, uri: str, name: str, old_xml: str, new_xml: str, what: str) -> None:
        """Apply a previewed change as a compare-and-swap and make it undoable."""
        host = self.host

        def done(entry: HistoryEntry) -> None:
            self.push(entry)
            self.page.status.setText(f"{what}. Undo with Ctrl+Z.")
            self.page.refresh(uri)

        def failed(err: BaseException) -> None:
            if isinstance(err, DefinitionChangedError):
                show_stale(self.page, f"Not applied to {name}", err)
                self.page.refresh(uri)
            else:
                self.page.failed(uri, f"Could not change “{name}”", err)

        ctrl = self.page.connections.get(uri)
        if ctrl is not None:
            ctrl.run(lambda hv: apply_define(hv, name, old_xml, new_xml, host=host, what=what), done, failed)
