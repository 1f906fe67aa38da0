"""Passing host devices to a VM and taking them back: a drop, "Assign device…", the host view's
"Assign to VM…" and "Remove from VM…" all plan the same way, show the diff, and apply it as a
compare-and-swap (``undo.py``). Blockers (other devices of the IOMMU group) are taken only when the
user ticks the box that names them. A running VM may get a PCI function now and at its next start
(hot-plug), all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from vfiodeck.core.plan.assign import NoteKind, Proposal, XmlChange, propose_assign, propose_remove
from vfiodeck.core.text import cards
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.history import DefinitionChangedError, HistoryEntry
from vfiodeck.core.vm.hotplug import HotplugRefusedError, hotplug
from vfiodeck.core.vm.inventory import DomainRow, read_definitions
from vfiodeck.gui import errors
from vfiodeck.gui.vms import dialogs, vm_dialogs
from vfiodeck.gui.vms.foreign_host import accepts_host
from vfiodeck.gui.vms.undo import show_stale

if TYPE_CHECKING:
    from vfiodeck.gui.vms.page import VmsPage


class Assigning:
    def __init__(self, page: VmsPage) -> None:
        self.page = page

    def allowed_on(self, uri: str) -> bool:
        host = self.page.host
        return host is not None and accepts_host(uri, host.is_live)

    def allowed(self, row: DomainRow) -> bool:
        return self.allowed_on(row.uri)

    def _label(self, address: str) -> str:
        return self.page.model.device_label(address)

    def on_dropped(self, key: object, addresses: object) -> None:
        model = self.page.model
        row = model.row_at(model.find(key)) if isinstance(key, tuple) else None
        if row is not None and isinstance(addresses, list):
            self.assign(row, addresses)

    # -- assign ----------------------------------------------------------------------------
    def assign(self, row: DomainRow, addresses: Sequence[str], take_blockers: bool = False) -> None:
        """Plan passing ``addresses`` to ``row``'s VM; confirm the diff; apply; make it undoable."""
        host, page, name = self.page.host, self.page, row.info.name
        if host is None:
            page.status.setText("The host is still being read: try again in a moment.")
            return
        if not self.allowed(row):
            page.status.setText(f"Not assigned: the host shown is not where “{name}” runs.")
            return

        def work(hv: Hypervisor) -> Proposal:
            return propose_assign(host, read_definitions(hv, name), name, addresses, take_blockers)

        page.run(row.uri, work, lambda p: self._review(row, addresses, p), f"Could not change “{name}”")

    def _review(self, row: DomainRow, addresses: Sequence[str], proposal: Proposal) -> None:
        name, page = row.info.name, self.page
        needed = proposal.note(NoteKind.BLOCKERS_NEEDED)
        if needed is not None:
            page.status.setText(f"Not assigned to “{name}”: {proposal.refused}")
            blockers = [self._label(b) for b in needed.devices]
            if dialogs.ask_take_blockers(page, name, proposal.refused or "", blockers):
                self.assign(row, addresses, take_blockers=True)
            return
        change = proposal.change
        if proposal.refused is not None or change is None:
            page.status.setText(f"Not assigned to “{name}”: {proposal.refused}")
            errors.show_error(page, f"Can't pass that to “{name}”: {proposal.refused}")
            return
        if not change.changes:
            page.status.setText(
                f"“{name}” already passes {', '.join(self._label(a) for a in proposal.functions)}."
            )
            return
        what = ", ".join(self._label(a) for a in change.addresses) or "the devices' ids"
        intro = [f"Pass {what} to “{name}”."]
        for note in proposal.notes:
            if note.kind is NoteKind.HIDE_HYPERVISOR:
                done = "also hides" if note.applied else "does not hide"
                intro.append(f"The change {done} the hypervisor from the guest: {note.text}")
            elif note.kind is not NoteKind.ALREADY_PASSED:
                intro.append(f"⚠ {note.text}")
        when = vm_dialogs.When.NEXT_START
        if row.info.state.is_active and change.addresses:
            answer = vm_dialogs.ask_when(page, name, what)
            if answer is None:
                return
            when = answer
        if when is vm_dialogs.When.NEXT_START and row.info.state.is_active:
            intro.append("The VM is running: the change takes effect at its next start.")
        if dialogs.confirm_diff(page, f"Assign to {name}", "\n".join(intro), change.diff):
            self._apply(row, change, f"Assign {what} to {name}", when, attach=True)

    def _apply(
        self, row: DomainRow, change: XmlChange, what: str, when: vm_dialogs.When, attach: bool
    ) -> None:
        name, page = row.info.name, self.page
        if when is vm_dialogs.When.NEXT_START:
            page.undo_stack.define(row.uri, name, change.old_xml, change.new_xml, what)
            return

        def done(entry: HistoryEntry | None) -> None:
            if entry is not None:
                page.undo_stack.push(entry)  # undo restores the definition (the next start), not live
            page.status.setText(f"{what}: done, now and at the next start.")
            page.refresh(row.uri)

        def failed(err: BaseException) -> None:
            if isinstance(err, DefinitionChangedError):
                show_stale(page, f"Not applied to {name}", err)
            elif isinstance(err, HotplugRefusedError):
                page.status.setText(f"{what}: refused, nothing changed.")
                errors.show_error(page, str(err), err.detail)
            else:
                page.failed(row.uri, f"Could not change “{name}”", err)
            page.refresh(row.uri)

        host = page.undo_stack.host

        def work(hv: Hypervisor) -> HistoryEntry | None:
            return hotplug(hv, name, change, attach, host=host, what=what)

        page.connections.controllers[row.uri].run(work, done, failed)

    # -- choosing --------------------------------------------------------------------------
    def assign_device_dialog(self) -> None:
        row = self.page.selected_row()
        host = self.page.host
        if row is None or host is None or not self.allowed(row):
            return
        candidates = host.candidates  # computed once per scan, off the GUI thread
        labels = [
            f"{self._label(c.device)}  ({c.kind.value}, "
            f"{'alone' if c.isolated else 'shares its IOMMU group'})"
            for c in candidates
        ]
        choice = dialogs.ask_choice(
            self.page, "Assign device", f"Pass which device to “{row.info.name}”?", labels
        )
        if choice is not None:
            self.assign(row, candidates[choice].functions)

    def assign_to_vm(self, addresses: Sequence[str]) -> None:
        """The Host view's "Assign to VM…": ask which VM, then assign as a drop would."""
        rows = [r for r in self.page.model.rows() if self.allowed(r)]
        if not rows:
            self.page.status.setText("No VM here can take this host's devices.")
            return
        choice = dialogs.ask_choice(
            self.page, "Assign to VM", "Pass to which VM?", [r.info.name for r in rows]
        )
        if choice is not None:
            self.assign(rows[choice], addresses)

    # -- remove ----------------------------------------------------------------------------
    def remove_device_dialog(self) -> None:
        row = self.page.selected_row()
        if row is None or not row.devices:
            return
        slots = list(cards(row.devices))
        choice = dialogs.ask_choice(
            self.page,
            "Remove from VM",
            f"Take which device off “{row.info.name}”?",
            [self._label(s) for s in slots],
        )
        if choice is not None:
            self.remove(row, [slots[choice]])

    def remove(self, row: DomainRow, addresses: Sequence[str]) -> None:
        host, page, name = self.page.host, self.page, row.info.name

        def work(hv: Hypervisor) -> XmlChange | None:
            return propose_remove(host, read_definitions(hv, name), name, addresses).change

        def review(change: XmlChange | None) -> None:
            if change is None or not change.changes:
                return
            what = ", ".join(self._label(a) for a in change.addresses)
            when = vm_dialogs.When.NEXT_START
            if row.info.state.is_active:
                answer = vm_dialogs.ask_when(page, name, what, removing=True)
                if answer is None:
                    return
                when = answer
            if dialogs.confirm_diff(page, f"Remove from {name}", f"Take {what} off “{name}”.", change.diff):
                self._apply(row, change, f"Remove {what} from {name}", when, attach=False)

        page.run(row.uri, work, review, f"Could not change “{name}”")
