"""virt-manager's ``--show-domain-console``, ``--show-domain-editor`` and
``--show-domain-performance NAME``: once the VM is listed, select it and open its console, its XML
editor or its graphs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vfiodeck.gui.vms.page import VmsPage

WHAT = ("console", "editor", "performance")


def show_domain(page: VmsPage, name: str, what: str) -> None:
    """Do it now if ``name`` is listed, else as soon as it is (the connection may still be opening)."""
    actions: dict[str, Callable[[], None]] = {
        "console": page.lifecycle.open_console,
        "editor": page.editing.edit_selected,
        "performance": lambda: page.show_graphs(True),
    }

    def attempt() -> bool:
        if not page.select(name):
            page.status.setText(f"Waiting for “{name}” to be listed…")
            return False
        actions[what]()
        return True

    if attempt():
        return

    def on_rows(*_args: object) -> None:
        if page.model.find_name(name) is not None:
            page.model.rowsInserted.disconnect(on_rows)
            attempt()

    page.model.rowsInserted.connect(on_rows)
