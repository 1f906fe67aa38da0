"""virt-manager's ``--show-domain-performance NAME``: once the host is shown and the VM is listed,
open the VMs page on that VM's graphs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vfiodeck.gui.main_window import MainWindow
    from vfiodeck.gui.vms.page import VmsPage


def open_graphs(page: VmsPage, name: str) -> bool:
    """Select ``name`` and show its graphs; False while it is not listed yet."""
    if page.model.find_name(name) is None:
        return False
    page.select(name)
    page.show_graphs(True)
    return True


def show_domain_performance(window: MainWindow, name: str) -> None:
    """Wait for the window's first host (the pages are built after it paints), then for the VM."""

    def on_host(_loaded: object) -> None:
        window.host_loaded.disconnect(on_host)
        window.show_page(1)
        page = window.vms_page
        if open_graphs(page, name):
            return
        page.status.setText(f"Waiting for “{name}” to be listed…")

        def on_rows(*_args: object) -> None:
            if open_graphs(page, name):
                page.model.rowsInserted.disconnect(on_rows)

        page.model.rowsInserted.connect(on_rows)

    window.host_loaded.connect(on_host)
