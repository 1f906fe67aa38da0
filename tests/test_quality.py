"""core/ imports without Qt. (ruff, mypy and import-linter run as their own steps in .ci/run, and
.ci/core-without-qt.sh runs tests/core in an environment that has no Qt at all.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Makes PySide6, shiboken6 and pyqtgraph unimportable, then imports every module of vfiodeck.core.
_IMPORT_CORE_WITHOUT_QT = """
import importlib, pkgutil, sys
class _NoQt:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'):
            raise ImportError(f'{name} is blocked: core must work without Qt')
        return None
sys.meta_path.insert(0, _NoQt())
import vfiodeck.core
names = [m.name for m in pkgutil.walk_packages(vfiodeck.core.__path__, 'vfiodeck.core.')]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_every_core_module_imports_without_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_CORE_WITHOUT_QT], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout) > 30  # every module was found, not just the package
