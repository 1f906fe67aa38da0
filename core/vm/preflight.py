"""Pre-flight before starting a VM: what would make the start fail, said before libvirt says it worse.

API:
- ``needs_from_xml(xml) -> DomainNeeds``: what the definition asks of the host, read through
  ``DomainXml`` (the one domain-XML read path); raises ``InvalidDomainXmlError`` for text that is not
  a domain.
- ``read_resources(needs, root: HostRoot) -> HostResources``: free memory, free huge pages and
  firmware, read through the host root being shown. What could not be read is unknown (None), never
  "none"; permission errors are kept in ``unreadable`` and become issues of their own.
- ``preflight(host, needs, running, resources) -> tuple[PreflightIssue, ...]``: pure; no issues
  means "go". ``running`` maps the running VMs to the PCI addresses they hold.
- ``preflight_issues(host, root, xml, running)``: the three together. Blocking (reads files): call it
  on a worker.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from vfiodeck.core.host.model import HostModel, PciDevice, ProblemKind
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.sysfs import Reader
from vfiodeck.core.text import device_label, is_digits, kib_text, size_text
from vfiodeck.core.vm.domainxml import DomainXml, DomainXmlError
from vfiodeck.core.vm.errors import InvalidDomainXmlError
from vfiodeck.core.vm.firmware import find_firmware

# Drivers that leave a device free for a VM: nothing on the host uses it.
_FREE_DRIVERS = (None, "vfio-pci", "pci-stub")
HUGEPAGES_DIR = "sys/kernel/mm/hugepages"
NODES_DIR = "sys/devices/system/node"
# Where distributions put OVMF images when no descriptor lists them.
_OVMF_DIRS = ("usr/share/OVMF", "usr/share/edk2/ovmf", "usr/share/edk2/x64", "usr/share/edk2-ovmf/x64")


@dataclass(frozen=True)
class AssignedDevice:
    address: str  # canonical "dddd:bb:ss.f"
    vendor_id: str | None = None  # as recorded when it was assigned; None: not recorded
    device_id: str | None = None


@dataclass(frozen=True)
class DomainNeeds:
    name: str
    devices: tuple[AssignedDevice, ...] = ()
    memory_kib: int | None = None
    hugepage_kib: int | None = None  # page size when the VM is backed by huge pages
    firmware_files: tuple[str, ...] = ()  # explicit <loader>/<nvram template> paths
    efi_auto: bool = False  # <os firmware='efi'>: libvirt picks an OVMF build from QEMU's descriptors


@dataclass(frozen=True)
class HostResources:
    mem_available_kib: int | None  # MemAvailable from /proc/meminfo; None: unknown
    free_hugepages: Mapping[int, int] | None = field(default_factory=dict)  # size KiB -> free; None: unknown
    existing_files: frozenset[str] = frozenset()  # of the firmware files asked about, those present
    efi_firmware_available: bool | None = None  # any UEFI descriptor or OVMF image; None: not known
    unreadable: tuple[str, ...] = ()  # files the check needed and was refused ("path: permission denied")


@dataclass(frozen=True)
class PreflightIssue:
    title: str
    fix: str


# -- reading the domain and the host ----------------------------------------------------------------


def needs_from_xml(xml: str) -> DomainNeeds:
    """What starting this domain needs from the host."""
    try:
        doc = DomainXml.parse(xml)
    except DomainXmlError as err:
        raise InvalidDomainXmlError(f"The VM definition is {err}", detail=str(err)) from err
    recorded = doc.recorded_device_ids()
    devices = []
    for address in doc.pci_hostdevs():
        vendor, _, device = recorded.get(address, "").partition(":")
        devices.append(AssignedDevice(address, vendor or None, device or None))
    return DomainNeeds(
        name=doc.name or "",
        devices=tuple(devices),
        memory_kib=doc.memory_kib,
        hugepage_kib=doc.hugepage_kib(),
        firmware_files=doc.firmware_files(),
        efi_auto=doc.os_firmware == "efi",
    )


def _meminfo_available(text: str | None) -> int | None:
    for line in (text or "").splitlines():
        key, _, rest = line.partition(":")
        if key == "MemAvailable":
            parts = rest.split()
            return int(parts[0]) if parts and is_digits(parts[0]) else None
    return None


def _free_in(reader: Reader, folder: str) -> dict[int, int]:
    free: dict[int, int] = {}
    for name in reader.listdir(folder):
        size = name.removeprefix("hugepages-").removesuffix("kB")
        count = reader.integer(f"{folder}/{name}/free_hugepages") if is_digits(size) else None
        if count is not None:
            free[int(size)] = count
    return free


def _free_hugepages(reader: Reader) -> dict[int, int] | None:
    """Free pages per size: the system-wide folder, else the sum over the NUMA nodes' folders (a
    capture may hold only those); None when neither is there (unknown, not "none")."""
    if reader.isdir(HUGEPAGES_DIR):
        return _free_in(reader, HUGEPAGES_DIR)
    nodes = [n for n in reader.listdir(NODES_DIR) if n.startswith("node") and n[4:].isdigit()]
    folders = [f"{NODES_DIR}/{n}/hugepages" for n in nodes if reader.isdir(f"{NODES_DIR}/{n}/hugepages")]
    if not folders:
        return None
    total: dict[int, int] = {}
    for folder in folders:
        for size, count in _free_in(reader, folder).items():
            total[size] = total.get(size, 0) + count
    return total


def _efi_available(reader: Reader) -> bool | None:
    if any(e.is_uefi for e in find_firmware(reader)):
        return True
    if any(n.startswith("OVMF_CODE") for d in _OVMF_DIRS for n in reader.listdir(d)):
        return True
    if not reader.root.live and not reader.isdir("usr/share"):
        return None  # a snapshot without usr/share says nothing about packages
    return False


def read_resources(needs: DomainNeeds, root: HostRoot) -> HostResources:
    """The host's free memory, free huge pages and firmware, read under ``root``."""
    reader = Reader(root)
    available = _meminfo_available(reader.text("proc/meminfo"))
    free = _free_hugepages(reader)
    existing = frozenset(f for f in needs.firmware_files if reader.exists(f.lstrip("/")))
    efi = _efi_available(reader) if needs.efi_auto else None
    refused = tuple(f"{p.path}: {p.detail}" for p in reader.problems if p.kind is ProblemKind.PERMISSION)
    return HostResources(available, free, existing, efi, refused)


def preflight_issues(
    host: HostModel | None, root: HostRoot | None, xml: str, running: Mapping[str, Sequence[str]]
) -> tuple[PreflightIssue, ...]:
    """The pre-flight for ``xml`` on the host being shown. Without a host model (still scanning)
    nothing can be checked; without its root, nothing is read (devices and groups are still checked)."""
    if host is None:
        return ()
    needs = needs_from_xml(xml)
    resources = read_resources(needs, root) if root is not None else HostResources(None, None)
    return preflight(host, needs, running, resources)


# -- the checks -------------------------------------------------------------------------------------


def _label(dev: PciDevice | None, address: str) -> str:
    return device_label(dev, address)


def _device_issues(host: HostModel, needs: DomainNeeds) -> list[PreflightIssue]:
    issues: list[PreflightIssue] = []
    for want in needs.devices:
        dev = host.device(want.address)
        if dev is None:
            issues.append(
                PreflightIssue(
                    f"{want.address} is no longer on this host",
                    "The card was removed or moved to another slot (a BIOS update or a new card can also "
                    "renumber the bus). Remove it from the VM and assign it again.",
                )
            )
            continue
        recorded = f"{want.vendor_id}:{want.device_id}" if want.vendor_id and want.device_id else None
        if recorded is not None and dev.ids is not None and recorded != dev.ids:
            issues.append(
                PreflightIssue(
                    f"{want.address} is now a different device ({dev.ids}, was {recorded})",
                    "Another card now sits at this address. Check which slot your card is in, then remove "
                    "the old assignment and assign the card again.",
                )
            )
    return issues


def _group_issues(host: HostModel, needs: DomainNeeds, held: Mapping[str, str]) -> list[PreflightIssue]:
    assigned = {d.address for d in needs.devices}
    issues: list[PreflightIssue] = []
    seen: set[str] = set()
    for want in needs.devices:
        dev = host.device(want.address)
        group = host.group(dev.iommu_group) if dev is not None and dev.iommu_group is not None else None
        if group is None:
            continue
        for member in group.devices:
            if member in assigned or member in seen:
                continue
            seen.add(member)
            other = host.device(member)
            if other is not None and other.is_bridge:
                continue  # bridges stay with the host and never block
            if member in held:
                issues.append(
                    PreflightIssue(
                        f"IOMMU group {group.id} is split: {_label(other, member)} is in the running VM "
                        f"“{held[member]}”",
                        f"A group can belong to only one VM at a time. Shut down “{held[member]}”, or give "
                        "the whole group to one VM.",
                    )
                )
            elif other is not None and other.driver not in _FREE_DRIVERS:
                issues.append(
                    PreflightIssue(
                        f"{_label(other, member)} shares IOMMU group {group.id} with {want.address} and is "
                        f"used by the host driver {other.driver}",
                        "Pass it to this VM as well, or bind it to vfio-pci before starting.",
                    )
                )
    return issues


def _held_issues(needs: DomainNeeds, held: Mapping[str, str]) -> list[PreflightIssue]:
    return [
        PreflightIssue(
            f"{d.address} is in use by the running VM “{held[d.address]}”",
            f"Shut down “{held[d.address]}” first, or remove the device from one of the two VMs.",
        )
        for d in needs.devices
        if d.address in held
    ]


def _hugepage_issues(memory_kib: int, page_kib: int, res: HostResources) -> list[PreflightIssue]:
    if res.free_hugepages is None:
        return []  # could not be read: unknown, not "none" (a refusal is its own issue)
    free = res.free_hugepages.get(page_kib)
    pages = math.ceil(memory_kib / page_kib)
    size = kib_text(page_kib)
    if free is None:
        title = f"The VM wants {size} huge pages, and this host has none of that size"
        fix = f"Reserve {pages} pages of {size} (hugepages= on the kernel command line) or turn them off."
        return [PreflightIssue(title, fix)]
    if free < pages:
        title = f"Not enough free huge pages: the VM needs {pages} of {size}, {free} are free"
        fix = "Shut down other VMs that use huge pages, reserve more pages, or give the VM less memory."
        return [PreflightIssue(title, fix)]
    return []


def _memory_issues(needs: DomainNeeds, res: HostResources) -> list[PreflightIssue]:
    if needs.memory_kib is None:
        return []
    if needs.hugepage_kib is not None:
        return _hugepage_issues(needs.memory_kib, needs.hugepage_kib, res)
    if res.mem_available_kib is not None and needs.memory_kib > res.mem_available_kib:
        need, avail = size_text(needs.memory_kib * 1024), size_text(res.mem_available_kib * 1024)
        return [
            PreflightIssue(
                f"Not enough free memory: the VM needs {need}, {avail} is available",
                "Close programs or shut down other VMs, or give the VM less memory.",
            )
        ]
    return []


def _firmware_issues(needs: DomainNeeds, res: HostResources) -> list[PreflightIssue]:
    issues = [
        PreflightIssue(
            f"Firmware file {path} is missing",
            "Install the UEFI firmware (ovmf on Debian/Ubuntu, edk2-ovmf on Fedora/Arch), or point the VM "
            "at a firmware file that exists.",
        )
        for path in needs.firmware_files
        if path not in res.existing_files
    ]
    if needs.efi_auto and res.efi_firmware_available is False:
        issues.append(
            PreflightIssue(
                "No UEFI firmware (OVMF) is installed for the VM",
                "Install ovmf (Debian/Ubuntu) or edk2-ovmf (Fedora/Arch).",
            )
        )
    return issues


def held_by_others(running: Mapping[str, Iterable[str]], me: str) -> dict[str, str]:
    """Address -> name of the other running VM that holds it."""
    return {addr: name for name, addrs in running.items() if name != me for addr in addrs}


def preflight(
    host: HostModel,
    needs: DomainNeeds,
    running: Mapping[str, Sequence[str]],
    resources: HostResources,
) -> tuple[PreflightIssue, ...]:
    """Everything that stands between this VM and a clean start. ``running`` maps the names of the
    running VMs to the PCI addresses they hold (this VM's own entry, if any, is ignored)."""
    held = held_by_others(running, needs.name)
    issues: list[PreflightIssue] = []
    if needs.devices and not host.iommu.enabled:
        issues.append(
            PreflightIssue(
                "The IOMMU is off, so no device can be passed through",
                "Turn on VT-d / AMD-Vi in the firmware setup and add intel_iommu=on (Intel) or "
                "amd_iommu=on (AMD) to the kernel command line, then reboot.",
            )
        )
    else:
        issues += _device_issues(host, needs)
        issues += _held_issues(needs, held)
        issues += _group_issues(host, needs, held)
    issues += _memory_issues(needs, resources)
    issues += _firmware_issues(needs, resources)
    issues += [
        PreflightIssue(
            f"Could not read {what}",
            "VFIO Deck was refused access, so that part was not checked; nothing was assumed.",
        )
        for what in resources.unreadable
    ]
    return tuple(issues)
