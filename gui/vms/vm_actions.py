"""The VMs page's actions: made through the window's registry (no shortcut twice), laid out on the
toolbar and the context menu, and enabled for the selected VM."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolBar

from vfiodeck.core.vm.inventory import DomainRow
from vfiodeck.gui.actions import ActionRegistry

if TYPE_CHECKING:
    from vfiodeck.gui.vms.page import VmsPage


class VmActions:
    def __init__(self, page: VmsPage, registry: ActionRegistry) -> None:
        def add(text: str, slot: Callable[[], object], key: str | None = None, tip: str = "") -> QAction:
            return registry.add(page, text, slot, key, tip=tip, local=True)

        life, assign, edit = page.lifecycle, page.assigning, page.editing
        self.start_action = add("Start", life.start_selected, "Ctrl+Return", "Pre-flight, then start")
        self.stop_action = add("Shut down", life.shutdown_selected, None, "Ask the guest to power off")
        self.destroy_action = add("Force off…", life.destroy_selected, None, "Pull the plug (asks first)")
        self.reboot_action = add("Reboot", life.reboot_selected)
        self.console_action = add("Open console", life.open_console, "Ctrl+Shift+O", "virt-viewer")
        self.assign_action = add("Assign device…", assign.assign_device_dialog, "Ctrl+I")
        self.remove_action = add("Remove from VM…", assign.remove_device_dialog, "Ctrl+Shift+D")
        self.undo_action = add("Undo", page.undo_stack.undo, "Ctrl+Z", "Restore the previous definition")
        self.edit_action = add("Edit XML…", edit.edit_selected, "Ctrl+E", "Edit the definition, with a diff")
        self.delete_action = add("Delete…", life.delete_selected, "Del", "Delete the VM (asks first)")
        self.new_action = add("New VM…", page.new_vm, "Ctrl+N")
        self.connect_action = add("Add connection…", page.add_connection_dialog)
        self.graphs_action = add("Graphs", lambda: page.show_graphs(self.graphs_action.isChecked()))
        self.graphs_action.setCheckable(True)
        self.groups: tuple[tuple[QAction, ...], ...] = (
            (self.start_action, self.stop_action, self.destroy_action, self.reboot_action),
            (self.console_action, self.edit_action, self.delete_action),
            (self.assign_action, self.remove_action, self.undo_action),
        )

    def fill_toolbar(self, toolbar: QToolBar) -> None:
        for group in self.groups:
            toolbar.addActions(list(group))
            toolbar.addSeparator()
        toolbar.addActions([self.new_action, self.connect_action, self.graphs_action])

    def fill_menu(self, menu: QMenu) -> None:
        for group in self.groups:
            menu.addActions(list(group))
            menu.addSeparator()
        menu.addAction(self.new_action)

    def update(self, row: DomainRow | None, can_assign: bool, undo_tip: str | None) -> None:
        """Enable what applies to ``row``; ``undo_tip`` None means nothing to undo."""
        active = row is not None and row.info.state.is_active
        self.start_action.setEnabled(row is not None and not active)
        for action in (self.stop_action, self.destroy_action, self.reboot_action):
            action.setEnabled(active)
        for action in (self.console_action, self.edit_action):
            action.setEnabled(row is not None)
        self.delete_action.setEnabled(row is not None and not active)
        self.assign_action.setEnabled(row is not None and can_assign)
        self.remove_action.setEnabled(row is not None and bool(row.devices))
        self.undo_action.setEnabled(undo_tip is not None)
        self.undo_action.setToolTip(undo_tip or "Nothing to undo")
