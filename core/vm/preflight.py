"""Pre-flight before starting a VM: what would make the start fail, said before libvirt says it worse.

``preflight()`` is pure: it takes the host as scanned, what the domain needs (``needs_from_xml``),
which devices other running VMs hold, and the host's free resources (``read_resources``), and returns
``PreflightIssue`` values, each with a fix. No issues means "go".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from vfiodeck.core.host.model import HostModel, PciDevice
from vfiodeck.core.host.safe_read import RefusedError, read_text
from vfiodeck.core.vm.domainxml import VFIODECK_NS
from vfiodeck.core.vm.errors import InvalidDomainXmlError

# VFIO Deck records the ids of each assigned device in the domain's <metadata> (domainxml.VFIODECK_NS,
# written by DomainXml.record_device_ids), so a card that moved or was swapped is noticed even though
# libvirt only stores the address. An earlier draft's form is still read:
#   <metadata><vd:devices xmlns:vd="…/xmlns/1"><vd:device address="0000:0a:00.0" vendor="10de"
#   device="1b80"/></vd:devices></metadata>
METADATA_NS = "https://github.com/vfio-deck/vfio-deck/xmlns/1"
# Drivers that leave a device free for a VM: nothing on the host uses it.
_FREE_DRIVERS = (None, "vfio-pci", "pci-stub")
DEFAULT_HUGEPAGE_KIB = 2048  # x86-64's default huge page size: what <hugepages/> without <page> gets


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
    mem_available_kib: int | None  # MemAvailable from /proc/meminfo
    free_hugepages: Mapping[int, int] = field(default_factory=dict)  # page size KiB -> free pages
    existing_files: frozenset[str] = frozenset()  # of the firmware files asked about, those present
    efi_firmware_available: bool | None = None  # any UEFI descriptor or OVMF image; None: not looked


@dataclass(frozen=True)
class PreflightIssue:
    title: str
    fix: str


# -- reading the domain and the host ----------------------------------------------------------------


def _address(node: etree._Element) -> str | None:
    try:
        domain = int(node.get("domain") or "0", 0)
        bus = int(node.get("bus") or "", 0)
        slot = int(node.get("slot") or "", 0)
        function = int(node.get("function") or "0", 0)
    except ValueError:
        return None
    return f"{domain:04x}:{bus:02x}:{slot:02x}.{function:x}"


def needs_from_xml(xml: str) -> DomainNeeds:
    """What starting this domain needs from the host. Raises ``InvalidDomainXmlError`` for text that is
    not XML; unknown or odd elements are ignored."""
    try:
        root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as err:
        raise InvalidDomainXmlError(f"The VM definition is not valid XML: {err}", detail=str(err)) from err
    recorded: dict[str, tuple[str | None, str | None]] = {}
    for dev in root.iterfind(f"metadata/{{{METADATA_NS}}}devices/{{{METADATA_NS}}}device"):
        addr = (dev.get("address") or "").lower()
        recorded[addr] = (dev.get("vendor"), dev.get("device"))
    recorded |= _recorded_ids(root)
    devices: list[AssignedDevice] = []
    for node in root.iterfind("devices/hostdev[@type='pci']/source/address"):
        addr = _address(node)
        if addr is not None:
            vendor, device = recorded.get(addr, (None, None))
            devices.append(AssignedDevice(addr, vendor, device))
    return DomainNeeds(
        name=root.findtext("name") or "",
        devices=tuple(devices),
        memory_kib=_memory_kib(root),
        hugepage_kib=_hugepage_kib(root),
        firmware_files=_firmware_files(root),
        efi_auto=_os_firmware(root) == "efi",
    )


def _recorded_ids(root: etree._Element) -> dict[str, tuple[str | None, str | None]]:
    """What ``plan.assign.apply_assign`` records: ``<vfiodeck:device address=".." ids="vvvv:dddd"/>``."""
    found: dict[str, tuple[str | None, str | None]] = {}
    for dev in root.iterfind(f"metadata/{{{VFIODECK_NS}}}devices/{{{VFIODECK_NS}}}device"):
        vendor, sep, device = (dev.get("ids") or "").lower().partition(":")
        if sep and vendor and device:
            found[(dev.get("address") or "").lower()] = (vendor, device)
    return found


_UNITS = {"b": 1 / 1024, "bytes": 1 / 1024, "k": 1, "kib": 1, "kb": 1000 / 1024, "m": 1024, "mib": 1024}
_UNITS |= {"mb": 1e6 / 1024, "g": 1024**2, "gib": 1024**2, "gb": 1e9 / 1024, "t": 1024**3, "tib": 1024**3}


def _kib(node: etree._Element | None, value_attr: str | None = None) -> int | None:
    if node is None:
        return None
    text = node.get(value_attr) if value_attr else node.text
    factor = _UNITS.get((node.get("unit") or "KiB").lower())
    try:
        return int(int((text or "").strip()) * factor) if factor else None
    except ValueError:
        return None


def _memory_kib(root: etree._Element) -> int | None:
    return _kib(root.find("memory"))


def _hugepage_kib(root: etree._Element) -> int | None:
    backing = root.find("memoryBacking/hugepages")
    if backing is None:
        return None
    return _kib(backing.find("page"), "size") or DEFAULT_HUGEPAGE_KIB


def _os_firmware(root: etree._Element) -> str | None:
    node = root.find("os")
    return node.get("firmware") if node is not None else None


def _firmware_files(root: etree._Element) -> tuple[str, ...]:
    """The loader and the NVRAM template must exist; the NVRAM file itself libvirt creates."""
    loader = (root.findtext("os/loader") or "").strip()
    nvram = root.find("os/nvram")
    template = (nvram.get("template") or "").strip() if nvram is not None else ""
    return tuple(p for p in (loader, template) if p)


def _meminfo_available(text: str) -> int | None:
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key == "MemAvailable":
            parts = rest.split()
            return int(parts[0]) if parts and parts[0].isascii() and parts[0].isdigit() else None
    return None


def read_resources(needs: DomainNeeds, root: Path = Path("/")) -> HostResources:
    """The host's free memory, free huge pages and firmware files, read under ``root``. Unreadable
    values are None (the check is then skipped, never failed)."""
    try:
        available = _meminfo_available(read_text(root, "proc/meminfo"))
    except (OSError, RefusedError):
        available = None
    free: dict[int, int] = {}
    for folder in sorted((root / "sys/kernel/mm/hugepages").glob("hugepages-*kB")):
        try:
            size = int(folder.name.removeprefix("hugepages-").removesuffix("kB"))
            count = read_text(root, f"sys/kernel/mm/hugepages/{folder.name}/free_hugepages").strip()
        except (OSError, ValueError, RefusedError):
            continue
        if count.isascii() and count.isdigit():
            free[size] = int(count)
    existing = frozenset(f for f in needs.firmware_files if (root / f.lstrip("/")).exists())
    efi = None
    if needs.efi_auto:
        dirs = ("usr/share/qemu/firmware", "etc/qemu/firmware", "usr/share/OVMF", "usr/share/edk2/ovmf")
        efi = any(any((root / d).glob("*")) for d in dirs if (root / d).is_dir())
    return HostResources(available, free, existing, efi)


# -- the checks -------------------------------------------------------------------------------------


def _label(dev: PciDevice | None, address: str) -> str:
    name = dev.device_name if dev is not None else None
    return f"{address} ({name})" if name else address


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
    free = res.free_hugepages.get(page_kib)
    pages = math.ceil(memory_kib / page_kib)
    size = f"{page_kib // 1024} MiB" if page_kib >= 1024 else f"{page_kib} KiB"
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
        need, avail = needs.memory_kib / 1024**2, res.mem_available_kib / 1024**2
        return [
            PreflightIssue(
                f"Not enough free memory: the VM needs {need:.1f} GiB, {avail:.1f} GiB is available",
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
    return tuple(issues)
