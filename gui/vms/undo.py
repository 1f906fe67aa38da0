"""Compare-and-swap defines and the undo stack built on them.

Every define of an existing VM re-reads its inactive definition in the job and goes ahead only when
it is still the text the user saw in the preview; otherwise it is refused with the diff between the
two (someone ran ``virsh edit`` or virt-manager meanwhile). Undo is the same swap backwards: it
restores the old text only while the definition is still what our change left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.domainxml import diff
from vfiodeck.core.vm.errors import VmError
from vfiodeck.gui import errors
from vfiodeck.gui.vms import dialogs

if TYPE_CHECKING:
    from vfiodeck.gui.vms.page import VmsPage


class StaleDefinitionError(VmError):
    def __init__(self, name: str, changes: str) -> None:
        super().__init__(f"“{name}” was changed outside VFIO Deck since it was read", detail=changes)
        self.name = name
        self.diff = changes


def define_if_unchanged(hv: Hypervisor, name: str, expected: str, new_xml: str) -> str:
    """Define ``new_xml`` only while ``name``'s inactive XML is still ``expected``. Blocking.
    Returns the definition as libvirt stored it (what a later undo compares against)."""
    current = hv.inactive_xml(name)
    if current != expected:
        raise StaleDefinitionError(name, diff(expected, current, f"{name}.xml"))
    hv.define(new_xml)
    return hv.inactive_xml(name)


@dataclass(frozen=True)
class UndoEntry:
    uri: str
    name: str
    before: str  # the inactive definition before the change
    after: str  # the definition the change left, as libvirt stored it
    what: str  # "Assign GeForce GTX 1080 to win11", for the Undo button's tooltip


def show_stale(page: VmsPage, title: str, err: StaleDefinitionError) -> None:
    page.status.setText(f"{title}: {err}.")
    intro = (
        f"Nothing was changed: {err}. This is what changed (our preview, then the definition now); "
        "look again and retry."
    )
    dialogs.show_refused(page, title, intro, err.diff)


class UndoStack(QObject):
    changed = Signal()

    def __init__(self, page: VmsPage) -> None:
        super().__init__(page)
        self.page = page
        self.entries: list[UndoEntry] = []

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def can_undo(self) -> bool:
        return bool(self.entries)

    def tooltip(self) -> str:
        return f"Undo: {self.entries[-1].what} (Ctrl+Z)" if self.entries else "Nothing to undo"

    def push(self, entry: UndoEntry) -> None:
        self.entries.append(entry)
        self.changed.emit()

    def forget(self, uri: str, name: str) -> None:
        """A deleted VM has nothing to undo."""
        self.entries = [e for e in self.entries if (e.uri, e.name) != (uri, name)]
        self.changed.emit()

    def undo(self) -> None:
        if not self.entries or self.page.connections.get(self.entries[-1].uri) is None:
            return
        entry = self.entries.pop()  # at once: a second Ctrl+Z must not undo the same change twice
        self.changed.emit()

        def done(_xml: object) -> None:
            self.page.status.setText(f"Undone: {entry.what}.")
            self.page.refresh(entry.uri)

        def failed(err: BaseException) -> None:
            if isinstance(err, StaleDefinitionError):
                show_stale(self.page, "Could not undo", err)
                return
            self.entries.append(entry)
            self.changed.emit()
            self.page.status.setText(f"Could not undo: {errors.describe(err)[0]}")
            errors.show_exception(self.page, "Could not undo", err)

        ctrl = self.page.connections.get(entry.uri)
        assert ctrl is not None
        ctrl.run(lambda hv: define_if_unchanged(hv, entry.name, entry.after, entry.before), done, failed)

    def define(self, uri: str, name: str, old_xml: str, new_xml: str, what: str) -> None:
        """Apply a previewed change as a compare-and-swap and make it undoable."""

        def done(after: object) -> None:
            self.push(UndoEntry(uri, name, old_xml, str(after), what))
            self.page.status.setText(f"{what}. Undo with Ctrl+Z.")
            self.page.refresh(uri)

        def failed(err: BaseException) -> None:
            if isinstance(err, StaleDefinitionError):
                show_stale(self.page, f"Not applied to {name}", err)
                self.page.refresh(uri)
            else:
                self.page.failed(uri, f"Could not change “{name}”", err)

        ctrl = self.page.connections.get(uri)
        if ctrl is not None:
            ctrl.run(lambda hv: define_if_unchanged(hv, name, old_xml, new_xml), done, failed)
