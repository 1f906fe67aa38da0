"""The host-in-use guard on real captures (tests/fixtures/hostuse/README.md) and on the live host."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest

from vfiodeck.core.host.hostuse import find_host_uses, pci_address_in
from vfiodeck.core.host.model import HostUse, HostUseKind
from vfiodeck.core.host.pci import scan_pci
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.scan import scan_host
from vfiodeck.core.host.sysfs import Reader
from vfiodeck.core.snapshot import rewrite_mounts

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "hostuse"
QEMU_2PA = FIXTURES / "qemu-guest-2pa"
KVM_VIRTIO = FIXTURES / "kvm-guest-virtio"
HWLOC = FIXTURES.parent / "hwloc"


def _uses(path: Path) -> tuple[HostUse, ...]:
    reader = Reader(HostRoot.open(path))
    return find_host_uses(reader, scan_pci(reader))


def _published(name: str) -> list[str]:
    """A fixture text without its source line, quote marks and "[ ... ]" elisions."""
    lines = (FIXTURES / name).read_text().splitlines()[1:]
    bare = [line[2:] if line.startswith("> ") else line for line in lines]
    return [line for line in bare if line.strip() != "[ ... ]"]


def _copy(tmp_path: Path, source: Path) -> Path:
    dest = tmp_path / "root"
    shutil.copytree(source, dest, symlinks=True)
    return dest


def test_qemu_guest_root_disk_and_console() -> None:
    assert _uses(QEMU_2PA) == (
        HostUse("0000:00:02.0", HostUseKind.DISPLAY, "boot_vga=1: the firmware's console GPU"),
        HostUse("0000:00:02.0", HostUseKind.DISPLAY, "DRM connector card0-VGA-1: connected"),
        HostUse("10000:00:04.0", HostUseKind.ROOT_FS, "/dev/vda1 is mounted on /"),
    )


def test_candidates_carry_the_uses_of_their_functions() -> None:
    host = scan_host(HostRoot.open(QEMU_2PA))
    found = {c.device: [u.what for u in c.host_uses] for c in host.candidates}
    assert found["0000:00:02.0"] == [HostUseKind.DISPLAY, HostUseKind.DISPLAY]
    assert found["10000:00:04.0"] == [HostUseKind.ROOT_FS]
    assert found["0000:00:03.0"] == []  # the capture has no route table: nothing says it is needed


def test_kvm_guest_root_disk_and_default_route() -> None:
    # IPv4 and IPv6 both route through eth0: one use, not two.
    assert _uses(KVM_VIRTIO) == (
        HostUse("0000:00:02.0", HostUseKind.ROOT_FS, "/dev/vda is mounted on /"),
        HostUse("0000:00:03.0", HostUseKind.DEFAULT_ROUTE, "eth0 carries the default route"),
    )


def test_swap_file_counts_against_the_disk_holding_it(tmp_path: Path) -> None:
    root = _copy(tmp_path, KVM_VIRTIO)
    (root / "proc" / "swaps").write_text("\n".join(_published("swaps-file-blog.txt")) + "\n")
    assert HostUse("0000:00:02.0", HostUseKind.SWAP, "swap on /swap") in _uses(root)


def test_boot_framebuffer_inside_a_bar(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "proc").mkdir(parents=True)
    (root / "proc" / "iomem").write_text("\n".join(_published("iomem-bootfb-workstation-quoted.txt")) + "\n")
    assert _uses(root) == (
        HostUse(
            "0000:00:02.0", HostUseKind.DISPLAY, "BOOTFB framebuffer at 0xe0000000-0xe02fffff in /proc/iomem"
        ),
    )


def test_iomem_read_as_a_user_still_names_the_device(tmp_path: Path) -> None:
    # Without root the kernel prints every range as 00000000-00000000, but the nesting stays.
    lines = _published("iomem-bootfb-workstation-quoted.txt")
    zeroed = [line.replace(line.strip().split(" : ")[0], "00000000-00000000") for line in lines]
    root = tmp_path / "root"
    (root / "proc").mkdir(parents=True)
    (root / "proc" / "iomem").write_text("\n".join(zeroed) + "\n")
    assert _uses(root) == (HostUse("0000:00:02.0", HostUseKind.DISPLAY, "BOOTFB framebuffer in /proc/iomem"),)


def test_missing_files_give_no_uses(tmp_path: Path) -> None:
    (tmp_path / "sys").mkdir()
    assert _uses(tmp_path) == ()


def test_pci_address_in_a_sysfs_path() -> None:
    assert (
        pci_address_in("sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/nvme/nvme0/nvme0n1")
        == "0000:01:00.0"
    )
    assert pci_address_in("sys/devices/pci10000:00/10000:00:04.0/virtio1/block/vda/vda1") == "10000:00:04.0"
    assert pci_address_in("sys/devices/virtual/block/zram0") is None
    assert pci_address_in(None) is None


def test_snapshot_mount_table_keeps_no_options() -> None:
    capture = HWLOC / "2pa-pcidomain32bits" / "2pa-pcidomain32bits.tar.bz2"
    with tarfile.open(capture) as tar:
        member = tar.extractfile("2pa-pcidomain32bits/proc/mounts")
        assert member is not None
        published = member.read()
    assert b"size=1015176k" in published
    rewritten = rewrite_mounts(published)
    assert rewritten == (QEMU_2PA / "proc" / "mounts").read_bytes()  # what the fixture's snapshot holds
    assert {line.split()[3] for line in rewritten.decode().splitlines()} <= {"rw", "ro"}
    assert b"/dev/vda1 / ext4 rw 0 0\n" in rewritten
    assert rewrite_mounts(rewritten) == rewritten


@pytest.mark.host
def test_live_host_flags_its_root_disk_and_its_nic() -> None:
    host = scan_host(HostRoot.live_host())
    flagged = {(u.what, u.address) for c in host.candidates for u in c.host_uses}
    assert any(what is HostUseKind.ROOT_FS for what, _ in flagged), host.host_uses
    assert any(what is HostUseKind.DEFAULT_ROUTE for what, _ in flagged), host.host_uses
