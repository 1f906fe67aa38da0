"""GUI tests run offscreen, with the window's settings in a temporary folder."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import
os.environ.setdefault("QT_NO_GLIB", "1")  # see gui/__init__.py: libvirt's loop owns GLib's context

from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QObject  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the XDG config and state folders at tmp_path: no test reads or writes the user's
    settings or definition history."""
    config = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    from vfiodeck.gui.settings import settings_path

    assert settings_path().is_relative_to(config)
    return config


WAIT_MS = 60000  # an upper bound for unpacking a capture on a busy machine, never a fixed wait


@contextmanager
def host_load(qtbot: QtBot, window: QObject, timeout: int = WAIT_MS) -> Iterator[None]:
    """Wait for the window's ``host_loaded`` *or* ``load_failed``, and fail at once with the
    error the window showed when the load failed: no test waits for a signal that cannot come."""
    outcome: list[tuple[str, object]] = []

    def loaded(value: object) -> None:
        outcome.append(("loaded", value))

    def failed(message: str) -> None:
        outcome.append(("failed", message))

    window.host_loaded.connect(loaded)  # type: ignore[attr-defined]
    window.load_failed.connect(failed)  # type: ignore[attr-defined]
    try:
        yield
        qtbot.waitUntil(lambda: bool(outcome), timeout=timeout)
    finally:
        window.host_loaded.disconnect(loaded)  # type: ignore[attr-defined]
        window.load_failed.disconnect(failed)  # type: ignore[attr-defined]
    kind, value = outcome[0]
    if kind == "failed":
        pytest.fail(f"the host did not load: {value}")
