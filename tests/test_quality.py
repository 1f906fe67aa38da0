"""Lint, types and the import contract run with the tests, so CI fails loudly on any of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)


def test_ruff_is_clean() -> None:
    result = _run(str(BIN / "ruff"), "check", "core", "gui", "resources", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean(tmp_path: Path) -> None:
    # From a plain checkout: vfiodeck/ links to core/, gui/ and resources/.
    result = _run(
        str(BIN / "mypy"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "-p",
        "vfiodeck.core",
        "-p",
        "vfiodeck.gui",
        "-p",
        "vfiodeck.resources",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_never_imports_qt_or_gui() -> None:
    result = _run(str(BIN / "lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr


# Makes PySide6, shiboken6 and pyqtgraph unimportable, as on a machine without Qt.
_NO_QT = """
import sys
class _NoQt:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'):
            raise ImportError(f'{name} is blocked: core must work without Qt')
        return None
sys.meta_path.insert(0, _NoQt())
import pytest
sys.exit(pytest.main(['-q', '-p', 'no:pytest-qt', '-p', 'no:cacheprovider', '-m', 'not qemu', 'tests/core']))
"""


def test_core_tests_pass_without_qt() -> None:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run(
        [sys.executable, "-c", _NO_QT], cwd=REPO, capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
