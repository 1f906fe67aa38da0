"""The privileged helper: fixed verbs, validated arguments, no shell, no way out of its root.
Fuzzed with hypothesis against temporary roots only (it is never run on / here)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.hostchanges.conftest import ARCH, CONFIG
from vfiodeck.core.hostchanges import helper

HOSTILE_PATHS = [
    "/etc/default/grub",
    "/etc/modprobe.d/vfio-deck.conf",
    "/etc/modprobe.d/../../outside.conf",
    "/etc/modprobe.d/x.conf/../../../y.conf",
    "/etc/default/grub.d/zz-vfio-deck.cfg",  # grub.d is a symlink out of the root here
    "/boot/loader/entries/a.conf",  # /boot/loader is a symlink out of the root here
    "/etc/shadow",
    "/etc/sudoers.d/vfio.conf",
    "etc/default/grub",
    "/etc/modprobe.d/.conf",
    "/etc/modprobe.d/a\nb.conf",
    "/etc/modprobe.d/a.conf\0",
    "//etc/default/grub",
    "/etc/./default/grub",
    "/boot/efi/EFI/refind/refind.conf",
]
WORDS = st.sampled_from(
    [
        "apply",
        "undo",
        "bind",
        "unbind",
        "sriov",
        "run",
        "config",
        "0000:2b:00.0",
        "0000:2b:00.0;id",
        "$(id)",
        "`id`",
        "../../etc/passwd",
        "update-grub",
        "mkinitcpio",
        "-P",
        "grubby",
        "--update-kernel=ALL",
        "--args=iommu=pt;reboot",
        "kernelstub",
        "-a",
        "rpm-ostree",
        "kargs",
        "--append-if-missing=a b",
        "1",
        "99999",
        "-1",
        "/bin/sh",
        "-c",
        "",
        " ",
        "\n",
    ]
)


def _tree_digest(folder: Path) -> dict[str, str]:
    found = {}
    for dirpath, dirs, names in os.walk(folder):
        for name in names + [d for d in dirs if (Path(dirpath) / d).is_symlink()]:
            path = Path(dirpath) / name
            data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            found[str(path.relative_to(folder))] = hashlib.sha256(data).hexdigest()
    return found


@pytest.fixture
def jail(make_root, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    outside = tmp_path / "outside"
    (outside / "grub.d").mkdir(parents=True)
    (outside / "loader/entries").mkdir(parents=True)
    (outside / "precious").write_text("do not touch\n")
    root = (
        make_root()
        .put("/etc/default/grub", CONFIG / "grub/debian12-default.grub")
        .put("/etc/os-release", ARCH)
    )
    (root.path / "etc/default/grub.d").symlink_to(outside / "grub.d")
    (root.path / "boot").mkdir(exist_ok=True)
    (root.path / "boot/loader").symlink_to(outside / "loader")

    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the helper started a process: {args}")

    monkeypatch.setattr(subprocess, "run", no_process)
    monkeypatch.setattr(subprocess, "Popen", no_process)
    monkeypatch.setattr(os, "system", no_process)
    return root.path, outside


def _changed_paths(root: Path, before: dict[str, str]) -> set[str]:
    after = _tree_digest(root)
    return {p for p in set(before) | set(after) if before.get(p) != after.get(p)}


def _allowed_change(rel: str) -> bool:
    return rel.startswith("var/lib/vfio-deck/journal/") or helper.allowed_path("/" + rel)


def test_fuzzed_argv_never_escapes(jail, capsys: pytest.CaptureFixture[str]) -> None:
    root, outside = jail
    outside_before = _tree_digest(outside)

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(argv=st.lists(st.one_of(WORDS, st.text(max_size=30)), max_size=5))
    def check(argv: list[str]) -> None:
        before = _tree_digest(root)
        status = helper.main(argv, root=root)
        assert status in (0, 1, 2)
        assert all(_allowed_change(p) for p in _changed_paths(root, before))
        assert _tree_digest(outside) == outside_before

    check()


def test_fuzzed_plan_files_never_escape(jail, tmp_path: Path) -> None:
    root, outside = jail
    outside_before = _tree_digest(outside)
    change = st.fixed_dictionaries(
        {
            "path": st.one_of(st.sampled_from(HOSTILE_PATHS), st.text(max_size=40)),
            "before": st.one_of(st.none(), st.just((CONFIG / "grub/debian12-default.grub").read_text())),
            "after": st.one_of(st.none(), st.text(max_size=50)),
        }
    )

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(changes=st.lists(change, max_size=4), junk=st.booleans())
    def check(changes: list[dict[str, object]], junk: bool) -> None:
        # A fresh copy of the root for every example: one example's journal must not decide the next
        # one's undo (that made the test flaky). The links out to `outside` stay absolute.
        work = Path(tempfile.mkdtemp(dir=tmp_path))
        here = work / "root"
        shutil.copytree(root, here, symlinks=True)
        plan_file = work / "plan.json"
        plan_file.write_text("{not json" if junk else json.dumps({"root": "/", "changes": changes}))
        before = _tree_digest(here)
        status = helper.main(["apply", str(plan_file)], root=here)
        assert status in (0, 1)
        changed = _changed_paths(here, before)
        assert all(_allowed_change(p) for p in changed)
        assert _tree_digest(outside) == outside_before
        for rel in changed:
            if not rel.startswith("var/"):
                assert status == 0
        if status == 0 and changed - {p for p in changed if p.startswith("var/")}:
            assert helper.main(["undo"], root=here) == 0
        shutil.rmtree(work)

    check()


def test_known_commands_only(jail, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = jail
    assert helper.main(["run", "update-grub"], root=root) == 0  # printed, not run: not /
    assert capsys.readouterr().out == "update-grub\n"
    assert (
        helper.main(["run", "grubby", "--update-kernel=ALL", "--args=iommu=pt intel_iommu=on"], root=root)
        == 0
    )
    for bad in (
        ["run", "update-grub", "--foo"],
        ["run", "sh", "-c", "id"],
        ["run", "grubby", "--update-kernel=ALL", "--args=$(id)"],
    ):
        assert helper.main(bad, root=root) == 1


def test_bad_addresses_are_refused(jail, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = jail
    for argv in (
        ["bind", "../../x"],
        ["bind", "0000:2b:00.0/../../"],
        ["config", "0000:99:00.0"],
        ["sriov", "0000:2b:00.0", "-1"],
    ):
        assert helper.main(argv, root=root) == 1
    assert helper.main([], root=root) == 2


def test_config_reads_the_device_without_following_links(jail, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = jail
    device = root / "sys/bus/pci/devices/0000:2b:00.0"
    (device / "config").write_bytes(bytes(range(64)))
    assert helper.main(["config", "0000:2b:00.0"], root=root) == 0
    assert capsys.readouterr().out.strip() == bytes(range(64)).hex()


def test_policy_names_the_helper() -> None:
    policy = (Path(__file__).parents[3] / "resources/io.github.vfiodeck.VfioDeck.policy").read_text()
    assert "vfio-deck-helper" in policy
    assert "auth_admin" in policy
