"""Where the window keeps its settings: an INI file in the XDG config folder (via platformdirs).

Tests point ``XDG_CONFIG_HOME`` at a temporary folder, so they never read or write the user's file.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QWidget

APP_DIR = "vfio-deck"


def settings_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_DIR)) / "window.ini"


def open_settings() -> QSettings:
    return QSettings(str(settings_path()), QSettings.Format.IniFormat)


def _int(value: object, low: int, high: int) -> int:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return low
    return min(max(number, low), high)


def restore_window(window: QWidget, pages: int) -> tuple[int, int]:
    """Restore the window's geometry; return the page and the host tab it showed last."""
    settings = open_settings()
    geometry = settings.value("window/geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    else:
        window.resize(1200, 760)
    return _int(settings.value("window/page"), 0, pages - 1), _int(settings.value("host/tab"), 0, 1)


def save_window(window: QWidget, page: int, tab: int) -> None:
    settings = open_settings()
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/page", page)
    settings.setValue("host/tab", tab)
    settings.sync()
