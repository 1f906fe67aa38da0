"""What a snapshot may hold: the allow-list of paths the scan and the checks read, the per-file
and total caps, and the rewrites that take out what could be secret (mount options, kernel ranges).
"""

from __future__ import annotations

MAX_FILE_BYTES = 1 << 20  # /proc/interrupts on a 256-CPU host is the largest file we read
MAX_TOTAL_BYTES = 64 << 20

# Files (or, for a directory, just its presence) that the scan and the checks read, relative to the root.
ALLOW = (
    "proc/cmdline",
    "proc/cpuinfo",
    "proc/meminfo",
    "proc/interrupts",
    "proc/swaps",
    "proc/net/route",
    "proc/net/ipv6_route",
    "proc/iomem",  # boot framebuffer inside a GPU BAR (addresses read as 0 for a normal user); rewritten
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

# The host-in-use guard's classes: (class folder, files of each device, entry prefixes kept by name).
HOST_USE_CLASSES = (
    ("sys/block", ("dm/name", "dm/uuid"), ()),
    ("sys/class/block", (), ()),
    ("sys/class/net", (), ("lower_",)),
    ("sys/class/drm", ("status",), ("device",)),
    ("sys/class/input", ("name",), ("mouse",)),
)
_KEPT_MOUNT_OPTIONS = ("ro", "rw")


def rewrite_mounts(data: bytes) -> bytes:
    """``/proc/mounts`` without what could hold a secret: mount options (a CIFS password, a key
    file) become just ro/rw, and a source that is not a device path becomes "none"."""
    lines = []
    for line in data.decode("utf-8", "replace").splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        source = fields[0] if fields[0].startswith("/dev/") else "none"
        mode = next((o for o in fields[3].split(",") if o in _KEPT_MOUNT_OPTIONS), "rw")
        lines.append(f"{source} {fields[1]} {fields[2]} {mode} 0 0")
    return ("\n".join(lines) + "\n").encode() if lines else b""


def rewrite_iomem(data: bytes) -> bytes:
    """``/proc/iomem`` without the kernel image's own ranges (they give away its physical address)."""
    kept = [line for line in data.decode("utf-8", "replace").splitlines() if " : Kernel " not in line]
    return ("\n".join(kept) + "\n").encode() if kept else b""


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
