"""The VMs page in a window of its own: ``python -m vfiodeck.gui.vms.standalone --demo``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from vfiodeck.core.host.model import HostModel


def demo_uri() -> str:
    from vfiodeck.resources import demo_libvirt_xml

    return "test://" + str(demo_libvirt_xml())


def scan(root: Path | None, demo: bool) -> HostModel:
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.host.scan import scan_host
    from vfiodeck.resources import demo_host_path

    return scan_host(HostRoot.open(demo_host_path() if demo else (root or Path("/"))))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vfiodeck.gui.vms.standalone", description=__doc__)
    parser.add_argument("--demo", action="store_true", help="the demo host and the demo libvirt VMs")
    parser.add_argument(
        "--connect", action="append", default=[], metavar="URI", help="libvirt URI (repeatable)"
    )
    parser.add_argument("--root", type=Path, help="host root to scan (default: this machine)")
    args = parser.parse_args(argv)
    from PySide6.QtWidgets import QApplication

    from vfiodeck.gui.vms.page import VmsPage

    app = QApplication.instance() or QApplication(sys.argv[:1])
    page = VmsPage(uris=list(args.connect) or ([demo_uri()] if args.demo else []))
    page.set_host(scan(args.root, args.demo))
    page.setWindowTitle("VFIO Deck: VMs")
    page.resize(1200, 760)
    page.show()
    app.aboutToQuit.connect(page.shutdown)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
