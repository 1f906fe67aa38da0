"""The built wheel holds vfiodeck.core, vfiodeck.gui and vfiodeck.resources, and nothing bare."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("vfio_deck-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def _source_packages() -> set[str]:
    """Every folder with an __init__.py under the three top-level source folders."""
    found = set()
    for top, name in (
        ("core", "vfiodeck/core"),
        ("gui", "vfiodeck/gui"),
        ("resources", "vfiodeck/resources"),
    ):
        for init in (REPO / top).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / top)
            found.add(f"{name}/{rel}".rstrip("/.") if str(rel) != "." else name)
    return found


def test_wheel_maps_top_level_folders_into_vfiodeck(wheel_names: list[str]) -> None:
    assert "vfiodeck/core/__init__.py" in wheel_names
    assert "vfiodeck/core/host/scan.py" in wheel_names
    assert "vfiodeck/core/cli.py" in wheel_names
    assert "vfiodeck/gui/launcher.py" in wheel_names
    assert "vfiodeck/resources/__init__.py" in wheel_names
    bare = [n for n in wheel_names if n.split("/")[0] in ("core", "gui", "resources", "tests")]
    assert bare == []


def test_every_source_package_is_in_the_wheel(wheel_names: list[str]) -> None:
    missing = sorted(pkg for pkg in _source_packages() if f"{pkg}/__init__.py" not in wheel_names)
    assert missing == [], f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_wheel_carries_resources_and_entry_point(wheel_names: list[str]) -> None:
    assert "vfiodeck/resources/demo-hosts/demo-host.tar.gz" in wheel_names
    assert "vfiodeck/resources/demo-hosts/demo-libvirt.xml" in wheel_names
    assert "vfiodeck/resources/vfio-deck.desktop" in wheel_names
    assert "vfiodeck/resources/icons/vfio-deck.svg" in wheel_names
    assert "vfiodeck/core/py.typed" in wheel_names
    (entry_points,) = [n for n in wheel_names if n.endswith(".dist-info/entry_points.txt")]
    assert entry_points


def test_console_command_runs_without_a_display() -> None:
    vfio_deck = Path(sys.executable).with_name("vfio-deck")
    result = subprocess.run([str(vfio_deck), "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("vfio-deck ")
    result = subprocess.run([str(vfio_deck), "--help"], capture_output=True, text=True, check=True)
    assert "inspect" in result.stdout
    assert "snapshot" in result.stdout
