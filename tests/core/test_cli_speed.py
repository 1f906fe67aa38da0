"""What makes `inspect` cheap as a process: compact JSON off a terminal, nothing imported it does not use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostbuilder import LISTINGS_DIR, build_root_from_listing
from vfiodeck.core.commands.inspect import json_text
from vfiodeck.core.host.topology import numbered

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    (listing,) = LISTINGS_DIR.glob("z170*.txt")
    return build_root_from_listing(listing, tmp_path_factory.mktemp("z170"))


def test_json_is_compact_for_a_pipe_and_indented_for_a_person() -> None:
    report = {"schema": 1, "pci_devices": [{"address": "0000:00:00.0", "driver": None}]}
    compact, pretty = json_text(report, pretty=False), json_text(report, pretty=True)
    assert "\n" not in compact
    assert " " not in compact
    assert pretty.splitlines()[1] == '  "schema": 1,'
    assert json.loads(compact) == json.loads(pretty) == report


def _run_inspect(root: Path, probe: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\n"
        "from vfiodeck.gui.launcher import main\n"
        f"status = main(['inspect', '--json', '--root', {str(root)!r}])\n"
        f"print({probe}, file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)


def test_a_piped_inspect_prints_one_compact_line(root: Path) -> None:
    out = _run_inspect(root, "''").stdout
    assert out.count("\n") == 1
    assert json.loads(out)["schema"] == 1


def test_inspect_imports_nothing_it_does_not_use(root: Path) -> None:
    unused = (
        "logging",
        "threading",
        "tarfile",
        "tempfile",
        "PySide6",
        "libvirt",
        "numpy",
        "lxml",
        "importlib.metadata",
    )
    probe = f"sorted(m for m in {unused!r} if m in sys.modules)"
    assert _run_inspect(root, probe).stderr.strip() == "[]"


def test_numbered_names() -> None:
    assert numbered("cpu12", "cpu") == 12
    assert numbered("hugepages-2048kB", "hugepages-", "kB") == 2048
    assert numbered("cpufreq", "cpu") is None
    assert numbered("cpu", "cpu") is None
    assert numbered("cpu१", "cpu") is None  # a non-ASCII digit is not a kernel name
    assert numbered("node0", "cpu") is None
