"""Apply and undo under failure: a file changed since the plan, a read-only file, a full disk, a
writer killed half-way, symlinks. After each, every file is as it was before."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.hostchanges.conftest import ARCH, CONFIG, HostRootBuilder, snapshot
from vfiodeck.core.hostchanges import atomic, journal

GPU = "2b:00.0"


def _root(make_root) -> HostRootBuilder:  # type: ignore[no-untyped-def]
    root: HostRootBuilder = make_root()
    root.put("/etc/default/grub", CONFIG / "grub/debian12-default.grub").put("/etc/os-release", ARCH)
    root.put("/etc/mkinitcpio.conf", CONFIG / "initramfs/mkinitcpio/arch-upstream-v39.2-mkinitcpio.conf")
    root.put(
        "/etc/modprobe.d/vfio.conf", CONFIG / "modprobe.d/user-vfio-multiple-options-lines-iroger.vfio.conf"
    )
    return root


def _plan(root: HostRootBuilder):  # type: ignore[no-untyped-def]
    plan = root.plan(iommu=True, bind=(GPU,))
    assert len(plan.changes) >= 3  # grub, two modprobe.d files, mkinitcpio drop-in
    return plan


def test_a_file_changed_since_the_plan_is_not_overwritten(make_root) -> None:
    root = _root(make_root)
    plan = _plan(root)
    (root.path / "etc/default/grub").write_text('GRUB_CMDLINE_LINUX="edited meanwhile"\n')
    before = snapshot(root.path)
    with pytest.raises(journal.JournalError, match="changed since the plan"):
        journal.apply_plan(root.path, plan, "t")
    assert snapshot(root.path) == before
    assert journal.entries(root.path) == []


def test_apply_with_nothing_to_do_writes_no_entry(make_root) -> None:
    root = _root(make_root)
    journal.apply_plan(root.path, _plan(root), "t")
    assert journal.apply_plan(root.path, root.plan(iommu=True, bind=(GPU,)), "t") is None
    assert len(journal.entries(root.path)) == 1


def test_undo_refuses_a_file_changed_since_the_apply(make_root) -> None:
    root = _root(make_root)
    journal.apply_plan(root.path, _plan(root), "t")
    (root.path / "etc/modprobe.d/vfio-deck.conf").write_text("# mine now\n")
    before = snapshot(root.path)
    with pytest.raises(journal.JournalError, match="changed since the apply"):
        journal.undo(root.path)
    assert snapshot(root.path) == before


def test_read_only_file_mid_apply_leaves_everything_as_before(make_root) -> None:
    root = _root(make_root)
    plan = _plan(root)
    target = root.path / plan.changes[-1].path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch() if plan.changes[-1].before is not None else None
    victim = root.path / plan.changes[1].path.lstrip("/")  # the second file: the first is renamed by then
    if subprocess.run(["chattr", "+i", str(victim)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here (needs root on ext4/xfs/btrfs/tmpfs)")
    try:
        before = snapshot(root.path)
        with pytest.raises(journal.JournalError, match="every file is as before"):
            journal.apply_plan(root.path, plan, "t")
        assert snapshot(root.path) == before
        assert [e.state for e in journal.entries(root.path)] == ["failed"]
    finally:
        subprocess.run(["chattr", "-i", str(victim)], check=True)


def test_full_disk_while_staging_changes_nothing(make_root, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _root(make_root)
    plan = _plan(root)
    before = snapshot(root.path)
    real_write = os.write
    calls = {"n": 0}

    def write(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 3:  # the journal entry and one file fit; the next file does not
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    with pytest.raises(journal.JournalError, match="nothing was changed"):
        journal.apply_plan(root.path, plan, "t")
    monkeypatch.undo()
    assert snapshot(root.path) == before
    leftovers = [p for p in root.path.rglob("*.vfio-deck-tmp")]
    assert leftovers == []


def test_full_disk_on_a_real_small_filesystem(make_root, tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        root = HostRootBuilder(mount, "b550m")
        root.put("/etc/default/grub", CONFIG / "grub/debian12-default.grub").put("/etc/os-release", ARCH)
        root.put("/etc/mkinitcpio.conf", CONFIG / "initramfs/mkinitcpio/arch-upstream-v39.2-mkinitcpio.conf")
        plan = root.plan(iommu=True, bind=(GPU,))
        before = snapshot(root.path)
        journal.save(root.path, journal.Entry("0-probe", "", "rolled-back", "", (), ()))  # the folder exists
        filler = mount / "filler"
        try:  # take every free block
            with open(filler, "wb") as handle:
                while True:
                    handle.write(b"\0" * 4096)
                    handle.flush()
        except OSError:
            pass
        with pytest.raises(journal.JournalError):
            journal.apply_plan(root.path, plan, "t")
        assert snapshot(root.path) == before
    finally:
        subprocess.run(["umount", str(mount)], check=True)


_KILLER = """
import os, signal, sys
from pathlib import Path
from vfiodeck.core.hostchanges import atomic, journal
from vfiodeck.core.hostchanges.model import Plan, FileChange, Detected
data = __import__("json").loads(Path(sys.argv[2]).read_text())
changes = tuple(FileChange(c["path"], c["before"], c["after"]) for c in data["changes"])
plan = Plan("r", Detected("grub", ()), None, changes)
count = {"n": 0}
def die():
    count["n"] += 1
    if count["n"] == 2:
        os.kill(os.getpid(), signal.SIGKILL)
atomic._before_rename = die
journal.apply_plan(Path(sys.argv[1]), plan, "killed")
"""


def test_killed_writer_is_rolled_back_by_the_next_run(make_root, tmp_path: Path) -> None:
    root = _root(make_root)
    plan = _plan(root)
    before = snapshot(root.path)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan.to_dict()))
    done = subprocess.run(
        [sys.executable, "-c", _KILLER, str(root.path), str(plan_file)], capture_output=True
    )
    assert done.returncode == -9
    assert snapshot(root.path) != before  # one file was renamed before the kill
    assert [e.state for e in journal.entries(root.path)] == ["pending"]
    assert journal.recover(root.path)
    assert snapshot(root.path) == before
    assert [e.state for e in journal.entries(root.path)] == ["rolled-back"]
    assert list(root.path.rglob("*.vfio-deck-tmp")) == []


def test_symlinks_are_never_followed(make_root, tmp_path: Path) -> None:
    root = _root(make_root)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "grub").write_text("precious\n")
    (root.path / "etc/default/grub").unlink()
    (root.path / "etc/default/grub").symlink_to(outside / "grub")
    with pytest.raises(atomic.UnsafePath):
        atomic.write_bytes(root.path, "/etc/default/grub", b"x")
    (root.path / "etc/modprobe.d").rename(root.path / "etc/modprobe.d.real")
    (root.path / "etc/modprobe.d").symlink_to(outside)
    with pytest.raises(atomic.UnsafePath):
        atomic.write_bytes(root.path, "/etc/modprobe.d/vfio-deck.conf", b"x")
    assert sorted(p.name for p in outside.iterdir()) == ["grub"]
    assert (outside / "grub").read_text() == "precious\n"


def test_writes_keep_mode_and_are_whole(make_root) -> None:
    root = _root(make_root)
    grub = root.path / "etc/default/grub"
    grub.chmod(0o600)
    journal.apply_plan(root.path, _plan(root), "t")
    assert grub.stat().st_mode & 0o777 == 0o600
    journal.undo(root.path)
    assert grub.read_bytes() == (CONFIG / "grub/debian12-default.grub").read_bytes()
