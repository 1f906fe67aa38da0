"""A new passthrough VM's domain XML, built from the wizard's answers (``VmSpec``).

q35, UEFI through libvirt's firmware autoselection (``<os firmware='efi'>``, secure boot on or off),
an emulated TPM 2.0 (swtpm) for Windows 11, Hyper-V enlightenments, a disk, an installer ISO and
virtio-win drivers, the passed devices, optional hugepages. The result is text; ``core.plan.newvm``
adds the pinning and the checks against the host. Define it with ``VIR_DOMAIN_DEFINE_VALIDATE``.
``spec_problems`` says in words what is wrong with a spec before any XML is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from lxml import etree

from vfiodeck.core.vm import lossless
from vfiodeck.core.vm.domainxml import DomainXml

_Element = Any

# The usual set for Windows guests (libvirt's "hyperv" docs and virt-manager's defaults);
# stimer needs synic and vpindex, synic needs vpindex.
_HYPERV = (
    "relaxed",
    "vapic",
    "vpindex",
    "runtime",
    "synic",
    "stimer",
    "reset",
    "frequencies",
    "tlbflush",
    "ipi",
)
HIDDEN_VENDOR_ID = "vfiodeck0000"
# libvirt accepts more, but a name that is also a safe file name (NVRAM, TPM state, logs) avoids
# surprises in paths and shells.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
MIN_MEMORY_MIB = 256


@dataclass(frozen=True)
class DiskSpec:
    path: str  # a volume's path (created in a storage pool beforehand), an image file, or /dev/...
    kind: Literal["file", "block"] = "file"
    format: str = "qcow2"  # "raw" for block devices
    bus: str = "virtio"  # "sata" when the installer has no virtio drivers

    @classmethod
    def for_path(cls, path: str) -> DiskSpec:
        """A block device for /dev/..., else an image whose format the file name tells (raw unless
        .qcow2)."""
        if path.startswith("/dev/"):
            return cls(path, kind="block", format="raw")
        return cls(path, format="qcow2" if path.endswith(".qcow2") else "raw")


@dataclass(frozen=True)
class VmSpec:
    name: str
    memory_mib: int
    vcpus: int
    uuid: str | None = None  # None: libvirt makes one
    domain_type: str = "kvm"
    arch: str = "x86_64"
    machine: str = "q35"
    firmware: Literal["efi", "bios"] = "efi"
    secure_boot: bool = True
    tpm: bool = True
    hyperv: bool = True
    hide_hypervisor: bool = False  # NVIDIA consumer GPUs with older drivers (error 43)
    cpu_mode: str | None = "host-passthrough"
    disk: DiskSpec | None = None
    iso: str | None = None
    virtio_iso: str | None = None  # virtio-win drivers for a Windows installer (a second CD-ROM)
    network: str | None = "default"
    hostdevs: tuple[str, ...] = ()
    # (address, "vvvv:dddd") recorded in <metadata> for the pre-flight's same-device check
    hostdev_ids: tuple[tuple[str, str], ...] = ()
    hugepages: bool = False
    graphics: bool = True  # a SPICE display for the installer; the passed GPU takes over later
    extra_features: tuple[str, ...] = field(default=("acpi", "apic"))


def spec_problems(spec: VmSpec) -> list[str]:
    """What is wrong with ``spec``, one sentence each; [] when ``build_domain_xml`` may run."""
    problems = []
    if not NAME_RE.match(spec.name):
        problems.append("The name must start with a letter or digit and use only letters, digits, . _ + -.")
    if spec.memory_mib < MIN_MEMORY_MIB:
        problems.append(f"Give the VM at least {MIN_MEMORY_MIB} MiB of memory.")
    if spec.vcpus < 1:
        problems.append("Give the VM at least one vCPU.")
    if spec.secure_boot and spec.firmware != "efi":
        problems.append("Secure boot needs UEFI firmware.")
    if spec.disk is not None and not spec.disk.path.startswith("/"):
        problems.append(f"The disk {spec.disk.path} must be a full path (starting with /).")
    for what, iso in (("installer ISO", spec.iso), ("driver ISO", spec.virtio_iso)):
        if iso is not None and not iso.startswith("/"):
            problems.append(f"The {what} {iso} must be a full path (starting with /).")
    return problems


def _el(parent: _Element | None, tag: str, text: str | None = None, **attrs: str) -> _Element:
    node = etree.Element(tag, attrs) if parent is None else etree.SubElement(parent, tag, attrs)
    node.text = text
    return node


def _os(root: _Element, spec: VmSpec) -> None:
    attrs = {"firmware": "efi"} if spec.firmware == "efi" else {}
    os_el = _el(root, "os", **attrs)
    _el(os_el, "type", "hvm", arch=spec.arch, machine=spec.machine)
    if spec.firmware == "efi":
        fw = _el(os_el, "firmware")
        state = "yes" if spec.secure_boot else "no"
        _el(fw, "feature", enabled=state, name="enrolled-keys")
        _el(fw, "feature", enabled=state, name="secure-boot")
    if spec.iso:
        _el(os_el, "boot", dev="cdrom")
    _el(os_el, "boot", dev="hd")


def _features(root: _Element, spec: VmSpec) -> None:
    features = _el(root, "features")
    for name in spec.extra_features:
        _el(features, name)
    if spec.hyperv:
        hv = _el(features, "hyperv", mode="custom")
        for name in _HYPERV[:4]:
            _el(hv, name, state="on")
        for name in _HYPERV[4:]:
            _el(hv, name, state="on")
    if spec.firmware == "efi" and spec.secure_boot:
        _el(features, "smm", state="on")  # secure boot builds require SMM


def _disks(devices: _Element, spec: VmSpec) -> None:
    if spec.disk is not None:
        d = spec.disk
        disk = _el(devices, "disk", type=d.kind, device="disk")
        driver = {"name": "qemu", "type": d.format, "discard": "unmap"}
        if d.kind == "block":
            driver.update(cache="none", io="native")
        _el(disk, "driver", **driver)
        _el(disk, "source", **({"dev": d.path} if d.kind == "block" else {"file": d.path}))
        _el(disk, "target", dev="vda" if d.bus == "virtio" else "sda", bus=d.bus)
    if spec.iso:
        cdrom = _el(devices, "disk", type="file", device="cdrom")
        _el(cdrom, "driver", name="qemu", type="raw")
        _el(cdrom, "source", file=spec.iso)
        _el(cdrom, "target", dev="sdb", bus="sata")
        _el(cdrom, "readonly")
    if spec.virtio_iso:
        drivers = _el(devices, "disk", type="file", device="cdrom")
        _el(drivers, "driver", name="qemu", type="raw")
        _el(drivers, "source", file=spec.virtio_iso)
        _el(drivers, "target", dev="sdc", bus="sata")
        _el(drivers, "readonly")


def _devices(root: _Element, spec: VmSpec) -> None:
    devices = _el(root, "devices")
    _disks(devices, spec)
    if spec.network:
        iface = _el(devices, "interface", type="network")
        _el(iface, "source", network=spec.network)
        _el(iface, "model", type="virtio")
    _el(devices, "input", type="tablet", bus="usb")
    if spec.tpm:
        tpm = _el(devices, "tpm", model="tpm-crb")
        _el(tpm, "backend", type="emulator", version="2.0")
    if spec.graphics:
        _el(devices, "graphics", type="spice", autoport="yes")
        _el(_el(devices, "video"), "model", type="virtio")
    _el(devices, "memballoon", model="none")  # passed devices pin all guest memory anyway


def build_domain_xml(spec: VmSpec) -> str:
    """The domain XML for ``spec``, in libvirt's element order and two-space indentation."""
    root = _el(None, "domain", type=spec.domain_type)
    _el(root, "name", spec.name)
    if spec.uuid:
        _el(root, "uuid", spec.uuid)
    _el(root, "memory", str(spec.memory_mib), unit="MiB")
    _el(root, "currentMemory", str(spec.memory_mib), unit="MiB")
    if spec.hugepages:
        _el(_el(root, "memoryBacking"), "hugepages")
    _el(root, "vcpu", str(spec.vcpus), placement="static")
    _os(root, spec)
    _features(root, spec)
    if spec.cpu_mode:
        _el(root, "cpu", mode=spec.cpu_mode, check="none", migratable="on")
    clock = _el(root, "clock", offset="localtime" if spec.hyperv else "utc")
    _el(clock, "timer", name="rtc", tickpolicy="catchup")
    _el(clock, "timer", name="pit", tickpolicy="delay")
    _el(clock, "timer", name="hpet", present="no")
    if spec.hyperv:
        _el(clock, "timer", name="hypervclock", present="yes")
    for event, action in (("on_poweroff", "destroy"), ("on_reboot", "restart"), ("on_crash", "destroy")):
        _el(root, event, action)
    pm = _el(root, "pm")
    _el(pm, "suspend-to-mem", enabled="no")
    _el(pm, "suspend-to-disk", enabled="no")
    _devices(root, spec)
    lossless.layout(root, "", "  ")
    doc = DomainXml.parse(lossless.fresh(root) + "\n")
    for address in spec.hostdevs:
        doc.add_pci_hostdev(address)
    for address, ids in spec.hostdev_ids:
        if address in spec.hostdevs:
            doc.record_device_ids(address, ids)
    if spec.hide_hypervisor:
        doc.set_kvm_hidden(True)
        doc.set_hyperv_vendor_id(HIDDEN_VENDOR_ID)
    return str(doc.to_string())
