"""Passing host devices to a VM and taking them back: a drop, "Assign device…", the host view's
"Assign to VM…" and "Remove from VM…" all plan the same way, show the diff, and apply it as a
compare-and-swap (``undo.py``). Blockers (other devices of the IOMMU group) are taken only when the
user ticks the box that names them. A running VM may get a PCI function now and at its next start
(hot-plug), all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from vfiodeck.core.host.candidates import find_candidates
from vfiodeck.core.plan.assign import (
    HIDE_HYPERVISOR_WHY,
    AssignPlan,
    XmlChange,
    assign_change,
    plan_assign_many,
    remove_change,
)
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.domainxml import DomainXml, DomainXmlError
from vfiodeck.core.vm.errors import VmError
from vfiodeck.gui import errors
from vfiodeck.gui.vms import dialogs, vm_dialogs
from vfiodeck.gui.vms.connection import DomainRow, accepts_host
from vfiodeck.gui.vms.hotplug import HotplugRefusedError, hotplug
from vfiodeck.gui.vms.undo import StaleDefinitionError, show_stale

if TYPE_CHECKING:
    from vfiodeck.gui.vms.page import VmsPage


def read_domains(hv: Hypervisor, name: str) -> dict[str, DomainXml]:
    """Every definition on ``hv`` by name, for the planner's "already in another VM" check. Blocking.
    Another VM that vanished or does not parse is left out; ``name`` itself must be read."""
    domains = {name: DomainXml.parse(hv.inactive_xml(name))}
    for info in hv.list_domains():
        if info.name != name:
            try:
                domains[info.name] = DomainXml.parse(hv.inactive_xml(info.name))
            except (VmError, DomainXmlError):
                continue
    return domains


def _slots(addresses: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(a.rsplit(".", 1)[0] + ".0" for a in addresses))


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

        def work(hv: Hypervisor) -> tuple[AssignPlan, XmlChange | None]:
            domains = read_domains(hv, name)
            plan = plan_assign_many(host, domains, name, addresses, take_blockers=take_blockers)
            if not plan.ok:
                return plan, None
            hide = plan.hide_hypervisor_advised  # shown in the diff and named in the intro
            return plan, assign_change(plan, domains[name].original, hide_hypervisor=hide)

        page.run(row.uri, work, lambda r: self._review(row, addresses, *r), f"Could not change “{name}”")

    def _review(
        self, row: DomainRow, addresses: Sequence[str], plan: AssignPlan, change: XmlChange | None
    ) -> None:
        name, page = row.info.name, self.page
        if plan.blocked:
            page.status.setText(f"Not assigned to “{name}”: {plan.refused}")
            blockers = [self._label(b) for b in plan.blockers]
            if dialogs.ask_take_blockers(page, name, plan.refused or "", blockers):
                self.assign(row, addresses, take_blockers=True)
            return
        if plan.refused is not None or change is None:
            page.status.setText(f"Not assigned to “{name}”: {plan.refused}")
            errors.show_error(page, f"Can't pass that to “{name}”: {plan.refused}")
            return
        if not change.changes:
            page.status.setText(
                f"“{name}” already passes {', '.join(self._label(a) for a in plan.functions)}."
            )
            return
        what = ", ".join(self._label(a) for a in change.addresses) or "the devices' ids"
        intro = [f"Pass {what} to “{name}”."]
        for warning in plan.warnings:
            if warning == HIDE_HYPERVISOR_WHY:
                intro.append(f"The change also hides the hypervisor from the guest: {warning}")
            else:
                intro.append(f"⚠ {warning}")
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

        def done(_after: object) -> None:
            page.status.setText(f"{what}: done, now and at the next start.")
            page.refresh(row.uri)

        def failed(err: BaseException) -> None:
            if isinstance(err, StaleDefinitionError):
                show_stale(page, f"Not applied to {name}", err)
            elif isinstance(err, HotplugRefusedError):
                page.status.setText(f"{what}: refused, nothing changed.")
                errors.show_error(page, str(err), err.detail)
            else:
                page.failed(row.uri, f"Could not change “{name}”", err)
            page.refresh(row.uri)

        page.connections.controllers[row.uri].run(lambda hv: hotplug(hv, name, change, attach), done, failed)

    # -- choosing --------------------------------------------------------------------------
    def assign_device_dialog(self) -> None:
        row = self.page.selected_row()
        host = self.page.host
        if row is None or host is None or not self.allowed(row):
            return
        candidates = find_candidates(host)
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
        slots = _slots(row.devices)
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

        def review(change: XmlChange) -> None:
            if not change.changes:
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

        page.run(
            row.uri,
            lambda hv: remove_change(host, hv.inactive_xml(name), addresses),
            review,
            f"Could not change “{name}”",
        )
