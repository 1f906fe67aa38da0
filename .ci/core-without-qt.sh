#!/usr/bin/env bash
# tests/core in a virtual environment without PySide6, shiboken6 or pyqtgraph: core/ must work alone
# (a CLI on a server, the privileged helper). The package's dependencies minus Qt, plus the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-core
[ -x $venv/bin/python ] || /usr/bin/python3 -m venv $venv
$venv/bin/python -m pip install -q --upgrade pip
deps=$(/usr/bin/python3 - <<'PY'
import re, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
qt = re.compile(r"^(PySide6|shiboken6|pyqtgraph)", re.I)
wanted = [d for d in project["dependencies"] if not qt.match(d)]
wanted += [d for d in project["optional-dependencies"]["test"] if re.match(r"^(pytest|hypothesis)([=<>!~ ]|$)", d)]
print("\n".join(wanted))
PY
)
# shellcheck disable=SC2086
PYTHONWARNINGS=ignore $venv/bin/python -m pip install -q $deps
PYTHONWARNINGS=ignore $venv/bin/python -m pip install -q --no-deps -e .
if $venv/bin/python -c "import PySide6" 2>/dev/null || $venv/bin/python -c "import pyqtgraph" 2>/dev/null; then
  echo "core-without-qt: Qt is importable in $venv; the check would prove nothing" >&2
  exit 1
fi
# qt_api in pyproject.toml belongs to pytest-qt, which this environment rightly lacks.
$venv/bin/python -m pytest -q -p no:cacheprovider -p no:pytest-qt -W ignore::pytest.PytestConfigWarning tests/core
