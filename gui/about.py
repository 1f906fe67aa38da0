"""The About box's text: versions of what VFIO Deck runs on."""

from __future__ import annotations

import platform


def about_text() -> str:
    from importlib.metadata import PackageNotFoundError, version

    import PySide6
    from PySide6.QtCore import qVersion

    def dist(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    from vfiodeck.core import __version__

    return (
        f"<h3>VFIO Deck {__version__}</h3>"
        "<p>See, check, assign and run VFIO/IOMMU passthrough.</p>"
        f"<p>Python {platform.python_version()}<br>PySide6 {PySide6.__version__}, Qt {qVersion()}<br>"
        f"pyudev {dist('pyudev')}<br>libvirt-python {dist('libvirt-python')}<br>"
        f"pyqtgraph {dist('pyqtgraph')}</p><p>GPL-3.0-or-later</p>"
    )
