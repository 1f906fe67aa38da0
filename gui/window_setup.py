"""The window's guided setup: "Set up passthrough…" on a device, the banner of pending host
changes above the pages, and the History page it feeds."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vfiodeck.gui.history_page import HistoryPage
    from vfiodeck.gui.main_window import MainWindow
    from vfiodeck.gui.setup import SetupBanner


class WindowSetup:
    def __init__(self, window: MainWindow) -> None:
        from vfiodeck.gui.history_page import HistoryPage
        from vfiodeck.gui.setup import SetupBanner

        self.window = window
        self.history: HistoryPage = HistoryPage(window.jobs)
        self.banner: SetupBanner = SetupBanner()
        self.banner.create_vm.connect(window.assign_addresses)
        window.right.insertWidget(0, self.banner)
        host_page = window.host_page
        self.action = window.registry.add(
            host_page, "Set up &passthrough…", self.setup_selected, "Ctrl+Shift+P", local=True
        )
        host_page.add_device_action(self.action)

    def setup_selected(self) -> None:
        """The guided setup for the selected device's candidate."""
        from vfiodeck.gui.setup import SetupDialog

        window = self.window
        address = window.host_page.selected_address()
        if address is None or window.loaded is None:
            window.status.setText("Select a device first.")
            return
        self.dialog = SetupDialog(window.loaded, address, window.jobs, window)
        self.dialog.applied.connect(self._applied)
        self.dialog.show()

    def _applied(self, state: object) -> None:
        from vfiodeck.core.hostchanges import pending

        assert isinstance(state, pending.Pending)
        pending.save(state)
        self.show_banner(state)
        self.history.refresh()

    def show_banner(self, state: object) -> None:
        self.banner.show_state(state, self.window.loaded)  # type: ignore[arg-type]

    def show_pending(self) -> None:
        from vfiodeck.core.hostchanges import pending

        self.show_banner(pending.load())
