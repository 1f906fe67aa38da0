"""Start the Qt application and show the main window. (Placeholder until the window lands.)"""

from __future__ import annotations

import argparse
import sys

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from vfiodeck.core import __version__


def run_app(args: argparse.Namespace) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle(f"VFIO Deck {__version__}")
    window.setCentralWidget(QLabel("VFIO Deck"))
    window.resize(1100, 720)
    window.show()
    return app.exec()
