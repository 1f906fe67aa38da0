"""``vfio-deck snapshot``: capture exactly the files VFIO Deck reads, for a bug report.

Only paths on the allow-list below are taken (no home folders, no keys, no logs), each file is
capped in size, and the whole archive too. Symlinks stay symlinks with relative targets, so the
archive opens with ``--root`` and scans exactly like the machine it came from.
"""

from __future__ import annotations

import glob
import io
import os
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from vfiodeck.core.errors import VfioDeckError
from vfiodeck.core.host.root import HostRoot

MAX_FILE_BYTES = 1 << 20  # /proc/interrupts on a 256-CPU host is the largest file we read
MAX_TOTAL_BYTES = 64 << 20

# Files (or, for a directory, just its presence) that the scan and the checks read, relative to the root.
ALLOW = (
    "proc/cmdline",
    "proc/cpuinfo",
    "proc/meminfo",
    "proc/interrupts",
    "proc/iomem",  # boot framebuffer inside a GPU BAR (addresses read as 0 for a normal user)
    "proc/version",
    "proc/sys/kernel/osrelease",
    "sys/firmware/acpi/tables/*",  # names only (DMAR, IVRS): the tables' bytes are not taken
    "sys/class/dmi/id/board_vendor",  # which vendor's BIOS menus a fix names (no serial numbers)
    "sys/class/dmi/id/board_name",
    "sys/class/dmi/id/sys_vendor",
    "sys/kernel/security/lockdown",
    "sys/class/misc/kvm",
    "lib/modules/*/modules.builtin",
    "lib/modules/*/modules.alias",  # only its "alias vfio_pci:" lines, see FILTERED
    "sys/devices/system/cpu/online",
    "sys/devices/system/cpu/possible",
    "sys/devices/system/cpu/present",
    "sys/devices/system/cpu/cpu[0-9]*/online",
    "sys/devices/system/cpu/cpu[0-9]*/topology/*",
    "sys/devices/system/cpu/cpu[0-9]*/cache/index[0-9]*/level",
    "sys/devices/system/cpu/cpu[0-9]*/cache/index[0-9]*/type",
    "sys/devices/system/cpu/cpu[0-9]*/cache/index[0-9]*/size",
    "sys/devices/system/cpu/cpu[0-9]*/cache/index[0-9]*/shared_cpu_list",
    "sys/devices/system/cpu/cpu[0-9]*/cache/index[0-9]*/shared_cpu_map",
    "sys/devices/system/node/online",
    "sys/devices/system/node/possible",
    "sys/devices/system/node/node[0-9]*/cpulist",
    "sys/devices/system/node/node[0-9]*/meminfo",
    "sys/devices/system/node/node[0-9]*/distance",
    "sys/devices/system/node/node[0-9]*/hugepages/hugepages-*/nr_hugepages",
    "sys/devices/system/node/node[0-9]*/hugepages/hugepages-*/free_hugepages",
    "sys/kernel/mm/hugepages/hugepages-*/nr_hugepages",
    "sys/kernel/mm/hugepages/hugepages-*/free_hugepages",
    "sys/kernel/iommu_groups/*/devices/*",
    "sys/kernel/iommu_groups/*/type",
    "sys/class/iommu/*",
    "sys/firmware/efi",
    "sys/firmware/efi/fw_platform_size",
    "sys/firmware/efi/efivars/SecureBoot-*",  # EFI global variable, GUID 8be4df61-...-00e098032b8c
    "sys/firmware/efi/vars/SecureBoot-*/data",  # the older sysfs interface
    "sys/module/kvm",
    "sys/module/kvm_intel",
    "sys/module/kvm_amd",
    "sys/module/vfio",
    "sys/module/vfio_pci",
    "sys/module/vfio_pci_core",
    "sys/module/vfio_iommu_type1",
    "sys/module/vfio*/parameters/*",
    "sys/module/kvm*/parameters/*",
    "usr/share/qemu/firmware/*.json",
    "usr/share/OVMF/*",
    "usr/share/edk2/ovmf/*",
    "usr/share/edk2/x64/*",
    "etc/os-release",  # which package manager a fix names
    "usr/lib/os-release",
    "etc/default/grub",
    "etc/kernel/cmdline",
    "etc/modprobe.d/*.conf",
    "etc/modules-load.d/*.conf",
    "etc/modules",
    "etc/mkinitcpio.conf",
    "etc/mkinitcpio.conf.d/*.conf",
    "etc/dracut.conf.d/*.conf",
    "etc/initramfs-tools/modules",
    "etc/booster.yaml",
    "etc/kernelstub/configuration",
)

# What each PCI device folder contributes (files, then links that keep their targets).
PCI_FILES = (
    "vendor",
    "device",
    "subsystem_vendor",
    "subsystem_device",
    "class",
    "revision",
    "numa_node",
    "boot_vga",
    "reset_method",
    "resource",
    "local_cpulist",
    "enable",
    "irq",
    "modalias",
    "d3cold_allowed",
)
PCI_LINKS = ("driver", "iommu_group")
PCI_CONFIG_BYTES = 4096  # the extended space too: ACS, Resizable BAR and SR-IOV live there

# Files that are large binaries and that we only need to know exist (firmware images).
PRESENCE_ONLY_SUFFIXES = (".fd", ".bin", ".img")
PRESENCE_ONLY_DIRS = ("sys/firmware/acpi/tables/",)
# Files of which only some lines are taken (modules.alias is megabytes; the checks need the VFIO
# variant-driver lines).
FILTERED = {"modules.alias": "alias vfio_pci:"}


@dataclass(frozen=True)
class SnapshotSummary:
    files: int
    links: int
    bytes_written: int


class SnapshotError(VfioDeckError):
    """The snapshot could not be written (disk full, bad destination, too large)."""


class _Collector:
    def __init__(self, root: HostRoot) -> None:
        self.root = root
        self.members: dict[str, tarfile.TarInfo] = {}
        self.data: dict[str, bytes] = {}
        self.total = 0
        self.links = 0

    def _abs(self, rel: str) -> str:
        return self.root.join(rel)

    def add_dir(self, rel: str) -> None:
        if rel in self.members:
            return
        info = tarfile.TarInfo(rel)
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        self.members[rel] = info

    def add_link(self, rel: str) -> None:
        if rel in self.members:
            return
        try:
            target = os.readlink(self._abs(rel))
        except OSError:
            return
        if os.path.isabs(target):
            # Keep the capture self-contained: an absolute link becomes relative to the root.
            target = os.path.relpath(target.lstrip("/"), os.path.dirname(rel) or ".")
        info = tarfile.TarInfo(rel)
        info.type = tarfile.SYMTYPE
        info.linkname = target
        info.mode = 0o777
        self.members[rel] = info
        self.links += 1

    def add_file(self, rel: str, limit: int = MAX_FILE_BYTES, presence_only: bool = False) -> None:
        if rel in self.members:
            return
        content = b""
        if not presence_only:
            try:
                with open(self._abs(rel), "rb") as fh:
                    content = fh.read(limit)
            except OSError:
                return  # unreadable or vanished: the snapshot simply lacks it, as the scan would
        info = tarfile.TarInfo(rel)
        info.size = len(content)
        info.mode = 0o444
        self.total += len(content)
        if self.total > MAX_TOTAL_BYTES:
            raise SnapshotError(f"snapshot would exceed {MAX_TOTAL_BYTES >> 20} MiB; refusing to write it")
        self.members[rel] = info
        self.data[rel] = content

    def add_filtered(self, rel: str, prefix: str) -> None:
        """Only the lines that start with ``prefix``, from a file read whole (up to 64 MiB)."""
        try:
            with open(self._abs(rel), "rb") as fh:
                data = fh.read(MAX_TOTAL_BYTES)
        except OSError:
            return
        wanted = prefix.encode()
        kept = b"".join(line for line in data.splitlines(keepends=True) if line.startswith(wanted))
        info = tarfile.TarInfo(rel)
        info.size = len(kept)
        info.mode = 0o444
        self.total += len(kept)
        if self.total > MAX_TOTAL_BYTES:
            raise SnapshotError(f"snapshot would exceed {MAX_TOTAL_BYTES >> 20} MiB; refusing to write it")
        self.members[rel] = info
        self.data[rel] = kept

    def add_path(self, rel: str) -> None:
        path = self._abs(rel)
        if os.path.islink(path):
            self.add_link(rel)
            if rel.startswith("sys/kernel/iommu_groups/"):
                return
            target = os.path.realpath(path)
            root_real = os.path.realpath(self.root.path)
            if os.path.isdir(target) and target.startswith(root_real + os.sep):
                # A link to a directory (e.g. sys/class/iommu/dmar0): keep the link, capture nothing below.
                return
            if os.path.isfile(target) and target.startswith(root_real + os.sep):
                self.add_file(os.path.relpath(target, root_real))
        elif os.path.isdir(path):
            self.add_dir(rel)
        elif os.path.isfile(path):
            prefix = FILTERED.get(os.path.basename(rel))
            if prefix is not None:
                self.add_filtered(rel, prefix)
                return
            presence = rel.endswith(PRESENCE_ONLY_SUFFIXES) or rel.startswith(PRESENCE_ONLY_DIRS)
            self.add_file(rel, presence_only=presence)

    def add_pci_devices(self) -> None:
        root_real = os.path.realpath(self.root.path)
        devices = self._abs("sys/bus/pci/devices")
        try:
            names = sorted(os.listdir(devices))
        except OSError:
            return
        for name in names:
            link_rel = f"sys/bus/pci/devices/{name}"
            self.add_link(link_rel)
            target = os.path.realpath(self._abs(link_rel))
            if not target.startswith(root_real + os.sep) or not os.path.isdir(target):
                continue
            dev_rel = os.path.relpath(target, root_real)
            self.add_dir(dev_rel)
            for fname in PCI_FILES:
                if os.path.isfile(os.path.join(target, fname)):
                    self.add_file(f"{dev_rel}/{fname}")
            if os.path.isfile(os.path.join(target, "config")):
                self.add_file(f"{dev_rel}/config", limit=PCI_CONFIG_BYTES)
            for lname in PCI_LINKS:
                if os.path.islink(os.path.join(target, lname)):
                    self.add_link(f"{dev_rel}/{lname}")

    def collect(self) -> None:
        root_path = str(self.root.path)
        for pattern in ALLOW:
            for match in sorted(glob.glob(os.path.join(glob.escape(root_path), pattern))):
                self.add_path(os.path.relpath(match, root_path))
        self.add_pci_devices()


def write_snapshot(root: HostRoot, dest: Path) -> SnapshotSummary:
    """Write the allow-listed files of ``root`` to ``dest`` (.tar.gz), atomically: a failure
    leaves no half-written file behind."""
    collector = _Collector(root)
    collector.collect()
    dest = Path(dest)
    top = "vfiodeck-snapshot"
    directory = dest.parent if str(dest.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".vfiodeck-snapshot-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise SnapshotError(f"cannot write to {directory}: {exc.strerror}") from exc
    now = time.time()
    try:
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                top_info = tarfile.TarInfo(top)
                top_info.type = tarfile.DIRTYPE
                top_info.mode = 0o755
                top_info.mtime = int(now)
                tar.addfile(top_info)
                for rel in sorted(collector.members):
                    info = collector.members[rel]
                    info.name = f"{top}/{rel}"
                    info.mtime = int(now)
                    data = collector.data.get(rel)
                    tar.addfile(info, io.BytesIO(data) if data is not None else None)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp_name, dest)
    except OSError as exc:
        os.unlink(tmp_name)
        raise SnapshotError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    except BaseException:
        os.unlink(tmp_name)
        raise
    files = sum(1 for info in collector.members.values() if info.isfile())
    return SnapshotSummary(files=files, links=collector.links, bytes_written=dest.stat().st_size)
