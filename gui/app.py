"""Start the Qt application and show the main window at once; the host is read on a worker."""

from __future__ import annotations

import argparse
import logging
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from vfiodeck.gui.errors import install_excepthook, show_error


def run_app(args: argparse.Namespace) -> int:
    from vfiodeck.gui.main_window import MainWindow
    from vfiodeck.resources import demo_host_path

    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("VFIO Deck")
    app.setOrganizationName("vfio-deck")
    app.setDesktopFileName("vfio-deck")
    _handle_signals_in_qt(app)
    window = MainWindow(uris=getattr(args, "connect", None))
    install_excepthook(lambda: window)
    window.show()
    from vfiodeck.gui.vms.show_domain import WHAT

    for what in WHAT:
        name = getattr(args, f"show_domain_{what}", None)
        if name:
            window.show_domain(name, what)
    if getattr(args, "demo", False):
        if not demo_host_path().exists():
            show_error(window, f"The demo host is missing: {demo_host_path()}")
        window.open_demo()
    else:
        window.open_root(getattr(args, "root", None))
    return app.exec()


def _handle_signals_in_qt(app: QApplication) -> None:
    """SIGTERM/SIGHUP remove unpacked captures (core's handler). Python runs signal handlers only
    between bytecodes, so a no-op timer lets it in while Qt's event loop waits."""
    from vfiodeck.core.host.scratch import install_signal_cleanup

    install_signal_cleanup()
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(250)
