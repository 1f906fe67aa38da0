"""What the VMs page does to a VM as a whole: start (after the pre-flight), shut down, force off
(confirmed), reboot, delete (with or without its disks, confirmed), and open its console."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QProcess

from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.inventory import DomainRow
from vfiodeck.core.vm.preflight import PreflightIssue, preflight_issues
from vfiodeck.core.vm.removal import delete_vm, disk_images
from vfiodeck.gui.vms import dialogs, vm_dialogs

if TYPE_CHECKING:
    from vfiodeck.gui.vms.page import VmsPage

INSTALL_VIEWER = "sudo apt install virt-viewer    (Fedora: sudo dnf install virt-viewer)"


class Lifecycle:
    def __init__(self, page: VmsPage) -> None:
        self.page = page

    def _selected(self) -> DomainRow | None:
        return self.page.selected_row()

    def _simple(self, verb: str, call: Callable[[Hypervisor, str], None]) -> None:
        row = self._selected()
        if row is None:
            return
        name = row.info.name

        def done(_result: object) -> None:
            self.page.status.setText(f"{verb} “{name}”.")
            self.page.refresh(row.uri)

        self.page.run(row.uri, lambda hv: call(hv, name), done, f"Could not {verb.lower()} “{name}”")

    def shutdown_selected(self) -> None:
        self._simple("Shut down", Hypervisor.shutdown)

    def destroy_selected(self) -> None:
        row = self._selected()
        if row is not None and vm_dialogs.confirm_force_off(self.page, row.info.name):
            self._simple("Force off", Hypervisor.destroy)

    def reboot_selected(self) -> None:
        self._simple("Reboot", Hypervisor.reboot)

    # -- start -----------------------------------------------------------------------------
    def start_selected(self) -> None:
        row = self._selected()
        if row is not None:
            self.start(row)

    def start(self, row: DomainRow) -> None:
        """Pre-flight on the queue; a clean pre-flight starts the VM, problems are listed with fixes."""
        host = self.page.host
        running = self.page.model.running_devices(row.uri)
        name = row.info.name

        def work(hv: Hypervisor) -> tuple[PreflightIssue, ...]:
            root = host.root if host is not None else None
            issues = preflight_issues(host, root, hv.inactive_xml(name), running)
            if not issues:
                hv.start(name)
            return issues

        def done(issues: tuple[PreflightIssue, ...]) -> None:
            if issues:
                self.page.status.setText(f"“{name}” was not started: {issues[0].title}.")
                dialogs.show_preflight(self.page, name, issues)
            else:
                self.page.status.setText(f"Started “{name}”.")
            self.page.refresh(row.uri)

        self.page.run(row.uri, work, done, f"Could not start “{name}”")

    # -- delete ----------------------------------------------------------------------------
    def delete_selected(self) -> None:
        row = self._selected()
        if row is None or row.info.state.is_active:
            return
        name = row.info.name
        self.page.run(
            row.uri,
            lambda hv: hv.inactive_xml(name),
            lambda xml: self._confirm_delete(row, xml),
            f"Could not read “{name}”",
        )

    def _confirm_delete(self, row: DomainRow, xml: str) -> None:
        name = row.info.name
        chosen = vm_dialogs.ask_delete(self.page, name, list(disk_images(xml)))
        if chosen is None:
            return

        def done(left: list[str]) -> None:
            gone = f" and {len(chosen) - len(left)} disk image(s)" if chosen else ""
            self.page.status.setText(f"Deleted “{name}”{gone}.")
            if left:
                self.page.status.setText(f"Deleted “{name}”; these disks stay: {'; '.join(left)}")
            self.page.undo_stack.forget(row.uri, name)
            self.page.refresh(row.uri)

        def work(hv: Hypervisor) -> list[str]:  # refused if the VM changed since the dialog showed it
            return delete_vm(hv, name, chosen, expected_xml=xml)

        self.page.run(row.uri, work, done, f"Could not delete “{name}”")

    # -- console ---------------------------------------------------------------------------
    def open_console(self) -> None:
        """virt-viewer when installed (it follows the VM across restarts); else how to install it."""
        row = self._selected()
        if row is None:
            return
        viewer = shutil.which("virt-viewer")
        if viewer is None:
            vm_dialogs.show_viewer_missing(self.page, INSTALL_VIEWER)
            return
        if not QProcess.startDetached(viewer, ["--connect", row.uri, "--wait", row.info.name]):
            self.page.status.setText(f"Could not run {viewer}.")
        else:
            self.page.status.setText(f"Opened the console of “{row.info.name}”.")
