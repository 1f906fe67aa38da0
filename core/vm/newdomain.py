"""A new passthrough VM's domain XML from the wizard's choices: a pure function of values.

q35 with OVMF (secure boot on or off, libvirt picks the build from QEMU's firmware descriptors),
optional emulated TPM 2.0 (swtpm), Hyper-V enlightenments, a disk, an installer ISO, PCI hostdevs,
pinning from ``core/plan/pinning.py`` and, for NVIDIA consumer cards, a hidden hypervisor.
"""

from __future__ import annotations

import re
import uuid as uuidlib
from dataclasses import dataclass

from lxml import etree

from vfiodeck.core.plan.pinning import PinningPlan, apply_pinning
from vfiodeck.core.vm.domainxml import DomainXml

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
HYPERV_VENDOR_ID = "vfiodeck"  # any 12-character string that is not "Microsoft Hv" does


@dataclass(frozen=True)
class NewVmSpec:
    name: str
    memory_mib: int
    vcpus: int
    domain_type: str = "kvm"
    uefi: bool = True
    secure_boot: bool = False
    tpm: bool = False
    hyperv: bool = True
    disk_path: str | None = None  # an image file or a block device
    disk_format: str = "qcow2"
    iso_path: str | None = None
    devices: tuple[str, ...] = ()  # host PCI addresses to pass
    pinning: PinningPlan | None = None
    hugepages: bool = False
    hide_hypervisor: bool = False


def spec_problems(spec: NewVmSpec) -> list[str]:
    """What is wrong with the choices, in words; [] when the XML can be built."""
    problems = []
    if not NAME_RE.match(spec.name):
        problems.append("The name must start with a letter or digit and use only letters, digits, . _ + -.")
    if spec.memory_mib < 256:
        problems.append("Give the VM at least 256 MiB of memory.")
    if spec.vcpus < 1:
        problems.append("Give the VM at least one vCPU.")
    if spec.secure_boot and not spec.uefi:
        problems.append("Secure boot needs UEFI firmware.")
    return problems


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, tag, attrs)
    node.text = text
    return node


def _features(root: etree._Element, spec: NewVmSpec) -> None:
    features = _sub(root, "features")
    _sub(features, "acpi")
    _sub(features, "apic")
    if spec.hyperv or spec.hide_hypervisor:
        hyperv = _sub(features, "hyperv", mode="custom")
        if spec.hyperv:
            for tag in ("relaxed", "vapic"):
                _sub(hyperv, tag, state="on")
            _sub(hyperv, "spinlocks", state="on", retries="8191")
            for tag in ("vpindex", "synic", "stimer", "frequencies"):
                _sub(hyperv, tag, state="on")
        if spec.hide_hypervisor:
            _sub(hyperv, "vendor_id", state="on", value=HYPERV_VENDOR_ID)
    if spec.hide_hypervisor:
        _sub(_sub(features, "kvm"), "hidden", state="on")
    if spec.secure_boot:
        _sub(features, "smm", state="on")


def _devices(root: etree._Element, spec: NewVmSpec) -> None:
    devices = _sub(root, "devices")
    if spec.disk_path:
        block = spec.disk_path.startswith("/dev/")
        disk = _sub(devices, "disk", type="block" if block else "file", device="disk")
        _sub(disk, "driver", name="qemu", type="raw" if block else spec.disk_format)
        _sub(disk, "source", **({"dev": spec.disk_path} if block else {"file": spec.disk_path}))
        _sub(disk, "target", dev="vda", bus="virtio")
    if spec.iso_path:
        cdrom = _sub(devices, "disk", type="file", device="cdrom")
        _sub(cdrom, "driver", name="qemu", type="raw")
        _sub(cdrom, "source", file=spec.iso_path)
        _sub(cdrom, "target", dev="sda", bus="sata")
        _sub(cdrom, "readonly")
    interface = _sub(devices, "interface", type="network")
    _sub(interface, "source", network="default")
    _sub(interface, "model", type="virtio")
    if spec.tpm:
        tpm = _sub(devices, "tpm", model="tpm-crb")
        _sub(tpm, "backend", type="emulator", version="2.0")
    _sub(devices, "memballoon", model="none")  # ballooning fights passed-through DMA mappings


def build_domain_xml(spec: NewVmSpec, uuid: str | None = None) -> str:
    """The definition for ``spec`` (check ``spec_problems`` first)."""
    root = etree.Element("domain", type=spec.domain_type)
    _sub(root, "name", spec.name)
    _sub(root, "uuid", uuid or str(uuidlib.uuid4()))
    _sub(root, "memory", str(spec.memory_mib), unit="MiB")
    _sub(root, "currentMemory", str(spec.memory_mib), unit="MiB")
    _sub(root, "vcpu", str(spec.vcpus), placement="static")
    os_node = _sub(root, "os", **({"firmware": "efi"} if spec.uefi else {}))
    _sub(os_node, "type", "hvm", arch="x86_64", machine="q35")
    if spec.uefi:
        firmware = _sub(os_node, "firmware")
        _sub(firmware, "feature", enabled="yes" if spec.secure_boot else "no", name="secure-boot")
        _sub(firmware, "feature", enabled="yes" if spec.secure_boot else "no", name="enrolled-keys")
    _sub(os_node, "boot", dev="cdrom" if spec.iso_path else "hd")
    _features(root, spec)
    _sub(root, "cpu", mode="host-passthrough", check="none", migratable="on")
    clock = _sub(root, "clock", offset="localtime" if spec.hyperv else "utc")
    if spec.hyperv:
        _sub(clock, "timer", name="hypervclock", present="yes")
    _devices(root, spec)
    etree.indent(root, space="  ")
    doc = DomainXml.parse(etree.tostring(root, encoding="unicode") + "\n")
    for address in spec.devices:
        doc.add_pci_hostdev(address)
    if spec.pinning is not None:
        apply_pinning(doc, spec.pinning, hugepages=spec.hugepages or None)
    if spec.hugepages:
        doc.set_hugepages(True)
    return str(doc.to_string())
