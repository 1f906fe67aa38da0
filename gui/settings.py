"""Where the window keeps its settings: an INI file in the XDG config folder (via platformdirs).

Tests point ``XDG_CONFIG_HOME`` at a temporary folder, so they never read or write the user's file.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

APP_DIR = "vfio-deck"


def settings_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_DIR)) / "window.ini"


def open_settings() -> QSettings:
    return QSettings(str(settings_path()), QSettings.Format.IniFormat)
