"""The setters of ``DomainXml``: edits in place, new elements where libvirt itself would write them.

``DomainXml`` (``domainxml.py``) reads; this mixin edits the same lossless tree: hostdevs, vCPUs and
pinning, numatune, guest CPU topology, huge pages, the hidden hypervisor (``<kvm><hidden>``,
``<hyperv><vendor_id>``) and VFIO Deck's ``<metadata>`` record of device ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree

from vfiodeck.core.text import cpulist_text, split_pci_address
from vfiodeck.core.vm import lossless

_Element = Any  # lxml element proxy (see lossless._Node)

# libvirt's own output order for the children we may create (src/conf/domain_conf.c format order).
_DOMAIN_ORDER = (
    "name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory", "currentMemory",
    "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads", "iothreadids", "defaultiothread",
    "cputune", "numatune", "resource", "sysinfo", "bootloader", "bootloader_args", "os", "idmap",
    "features", "cpu", "clock", "on_poweroff", "on_reboot", "on_crash", "on_lockfailure", "pm", "perf",
    "devices", "seclabel", "keywrap", "launchSecurity",
)  # fmt: skip
_DEVICES_ORDER = (
    "emulator", "disk", "controller", "lease", "filesystem", "interface", "smartcard", "serial",
    "parallel", "console", "channel", "input", "tpm", "graphics", "sound", "audio", "video", "hostdev",
    "redirdev", "redirfilter", "hub", "watchdog", "memballoon", "rng", "panic", "shmem", "memory",
    "iommu", "vsock", "crypto", "pstore",
)  # fmt: skip
_CPUTUNE_ORDER = (
    "shares", "period", "quota", "global_period", "global_quota", "emulator_period", "emulator_quota",
    "iothread_period", "iothread_quota", "vcpupin", "emulatorpin", "iothreadpin", "vcpusched",
    "iothreadsched", "emulatorsched", "cachetune", "memorytune",
)  # fmt: skip
_CPU_ORDER = ("model", "vendor", "topology", "cache", "maxphysaddr", "feature", "numa")
_FEATURES_ORDER = (
    "acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm", "xen", "pvspinlock",
    "capabilities", "pmu", "vmport", "gic", "smm", "ioapic", "hpt", "vmcoreinfo", "htm", "nested-hv",
    "msrs", "ccf-assist", "cfpc", "sbbc", "ibs", "tcg", "async-teardown", "ras", "ps2",
)  # fmt: skip
_HYPERV_ORDER = (
    "relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer", "reset", "vendor_id",
    "frequencies", "reenlightenment", "tlbflush", "ipi", "evmcs", "avic", "emsr_bitmap", "xmm_input",
)  # fmt: skip
_KVM_ORDER = ("hidden", "hint-dedicated", "poll-control", "pv-ipi", "dirty-ring")
_MEMBACKING_ORDER = ("hugepages", "nosharepages", "locked", "source", "access", "allocation", "discard")

# VFIO Deck's own <metadata> child: the vendor:device ids of each device it assigned, so a card that
# moved or was swapped is noticed before a start even though libvirt stores only the address.
VFIODECK_NS = "https://vfiodeck.org/xmlns/1"
_VD = f"{{{VFIODECK_NS}}}"


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip(), 0)
    except ValueError:
        try:
            return int(text.strip(), 10)  # "010": base 0 refuses leading zeros
        except ValueError:
            return None


def pci_address_of(addr: _Element | None) -> str | None:
    """``<address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/>`` as "0000:01:00.1"."""
    if addr is None or addr.get("type", "pci") != "pci":
        return None
    parts = [_int(addr.get(k)) for k in ("domain", "bus", "slot", "function")]
    domain, bus, slot, function = (0 if parts[0] is None else parts[0]), parts[1], parts[2], parts[3]
    if bus is None or slot is None or function is None:
        return None
    return f"{domain:04x}:{bus:02x}:{slot:02x}.{function:x}"


class DomainEdits:
    """Mixed into ``DomainXml``, which provides the tree and the readers below."""

    _step: str

    @property
    def root(self) -> _Element:
        raise NotImplementedError

    def touch(self) -> None:
        raise NotImplementedError

    def _find(self, path: str) -> _Element | None:
        raise NotImplementedError

    def pci_hostdevs(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _pci_hostdev_elements(self) -> list[_Element]:
        raise NotImplementedError

    def _make(self, tag: str, attrs: Mapping[str, str] | None = None, text: str | None = None) -> _Element:
        node = etree.Element(tag, dict(attrs or {}))
        node.text = text
        return node

    def _child(self, parent: _Element, tag: str, order: tuple[str, ...]) -> _Element:
        """``parent``'s first ``tag`` child, created in libvirt's order when missing."""
        node = parent.find(tag)
        if node is None:
            node = self._make(tag)
            lossless.insert_ordered(parent, node, order, self._step)
            self.touch()
        return node

    def _set_attr(self, node: _Element, key: str, value: str) -> None:
        if node.get(key) != value:
            node.set(key, value)
            self.touch()

    def _remove(self, node: _Element) -> None:
        lossless.remove(node)
        self.touch()

    def set_vcpus(self, count: int) -> None:
        node = self._child(self.root, "vcpu", _DOMAIN_ORDER)
        if (node.text or "").strip() != str(count):
            node.text = str(count)
            self.touch()

    def add_pci_hostdev(self, address: str, *, managed: bool = True) -> bool:
        """Add ``<hostdev mode='subsystem' type='pci' managed='yes'>`` for ``address``.
        False (and no change) when the VM already has it."""
        if address in self.pci_hostdevs():
            return False
        domain, bus, slot, function = split_pci_address(address)
        dev = self._make(
            "hostdev", {"mode": "subsystem", "type": "pci", "managed": "yes" if managed else "no"}
        )
        source = etree.SubElement(dev, "source")
        etree.SubElement(
            source,
            "address",
            {
                "domain": f"0x{domain:04x}",
                "bus": f"0x{bus:02x}",
                "slot": f"0x{slot:02x}",
                "function": f"0x{function:x}",
            },
        )
        devices = self._child(self.root, "devices", _DOMAIN_ORDER)
        lossless.insert_ordered(devices, dev, _DEVICES_ORDER, self._step)
        self.touch()
        return True

    def remove_pci_hostdev(self, address: str) -> bool:
        """Remove the hostdev for ``address``; False when the VM does not have it."""
        for dev in self._pci_hostdev_elements():
            if pci_address_of(dev.find("source/address")) == address:
                self._remove(dev)
                return True
        return False

    def set_pinning(self, vcpupin: Mapping[int, Sequence[int]], emulator: Sequence[int] | None) -> None:
        """Make ``<cputune>`` pin exactly ``vcpupin`` (and ``emulator``); other cputune children stay.
        An existing ``<vcpupin>`` is updated in place so that the diff shows only changed cpusets."""
        cputune = self._child(self.root, "cputune", _DOMAIN_ORDER)
        wanted = {vcpu: cpulist_text(cpus) for vcpu, cpus in vcpupin.items()}
        for pin in cputune.findall("vcpupin"):
            vcpu = _int(pin.get("vcpu"))
            if vcpu in wanted:
                self._set_attr(pin, "cpuset", wanted.pop(vcpu))
            else:
                self._remove(pin)
        for vcpu, cpuset in sorted(wanted.items()):
            pins = cputune.findall("vcpupin")
            later = [p for p in pins if (_int(p.get("vcpu")) or 0) > vcpu]
            node = self._make("vcpupin", {"vcpu": str(vcpu), "cpuset": cpuset})
            if later:
                lossless.insert(cputune, node, list(cputune).index(later[0]), self._step)
            else:
                lossless.insert_ordered(cputune, node, _CPUTUNE_ORDER, self._step)
            self.touch()
        current = cputune.find("emulatorpin")
        if emulator:
            if current is None:
                node = self._make("emulatorpin", {"cpuset": cpulist_text(emulator)})
                lossless.insert_ordered(cputune, node, _CPUTUNE_ORDER, self._step)
                self.touch()
            else:
                self._set_attr(current, "cpuset", cpulist_text(emulator))
        elif current is not None:
            self._remove(current)

    def set_numatune(self, nodeset: str, mode: str = "strict") -> None:
        numatune = self._child(self.root, "numatune", _DOMAIN_ORDER)
        memory = numatune.find("memory")
        if memory is None:
            memory = self._make("memory", {"mode": mode, "nodeset": nodeset})
            lossless.insert(numatune, memory, 0, self._step)
            self.touch()
            return
        self._set_attr(memory, "mode", mode)
        self._set_attr(memory, "nodeset", nodeset)
        if memory.get("placement") not in (None, "static"):
            del memory.attrib["placement"]  # "auto" would ignore the nodeset

    def set_cpu_topology(self, sockets: int, cores: int, threads: int, dies: int | None = None) -> None:
        cpu = self._child(self.root, "cpu", _DOMAIN_ORDER)
        topo = self._child(cpu, "topology", _CPU_ORDER)
        self._set_attr(topo, "sockets", str(sockets))
        if dies is not None or topo.get("dies") is not None:
            self._set_attr(topo, "dies", str(dies or 1))
        if topo.get("clusters") is not None:
            self._set_attr(topo, "clusters", "1")  # clusters multiply the vCPU count too
        self._set_attr(topo, "cores", str(cores))
        self._set_attr(topo, "threads", str(threads))

    def set_hugepages(self, enabled: bool) -> None:
        backing = self._find("memoryBacking")
        if enabled:
            backing = self._child(self.root, "memoryBacking", _DOMAIN_ORDER)
            self._child(backing, "hugepages", _MEMBACKING_ORDER)
        elif backing is not None:
            pages = backing.find("hugepages")
            if pages is not None:
                self._remove(pages)
            if not len(backing):
                self._remove(backing)

    def set_kvm_hidden(self, hidden: bool) -> None:
        """``<kvm><hidden state='on'/></kvm>``: hides the KVM signature from the guest."""
        if not hidden and self._find("features/kvm/hidden") is None:
            return
        features = self._child(self.root, "features", _DOMAIN_ORDER)
        kvm = self._child(features, "kvm", _FEATURES_ORDER)
        self._set_attr(self._child(kvm, "hidden", _KVM_ORDER), "state", "on" if hidden else "off")

    def set_hyperv_vendor_id(self, value: str | None) -> None:
        """Hyper-V ``vendor_id`` (at most 12 characters); None turns it off."""
        if value is None:
            node = self._find("features/hyperv/vendor_id")
            if node is not None:
                self._remove(node)
            return
        features = self._child(self.root, "features", _DOMAIN_ORDER)
        hyperv = self._child(features, "hyperv", _FEATURES_ORDER)
        if hyperv.get("mode") is None and not len(hyperv):
            self._set_attr(hyperv, "mode", "custom")
        node = self._child(hyperv, "vendor_id", _HYPERV_ORDER)
        self._set_attr(node, "state", "on")
        self._set_attr(node, "value", value[:12])

    def record_device_ids(self, address: str, ids: str) -> None:
        """Remember ``address``'s vendor:device ``ids`` in ``<metadata>`` (VFIO Deck's namespace)."""
        metadata = self._child(self.root, "metadata", _DOMAIN_ORDER)
        devices = metadata.find(f"{_VD}devices")
        if devices is None:
            devices = etree.Element(f"{_VD}devices", nsmap={"vfiodeck": VFIODECK_NS})
            lossless.insert(metadata, devices, len(metadata), self._step)
            self.touch()
        for dev in devices.iterfind(f"{_VD}device"):
            if dev.get("address") == address:
                self._set_attr(dev, "ids", ids)
                return
        node = etree.Element(f"{_VD}device", {"address": address, "ids": ids})
        lossless.insert(devices, node, len(devices), self._step)
        self.touch()

    def forget_device_ids(self, address: str) -> None:
        """Drop ``address``'s recorded ids, and VFIO Deck's metadata once it records nothing."""
        devices = self._find(f"metadata/{_VD}devices")
        if devices is None:
            return
        for dev in devices.findall(f"{_VD}device"):
            if dev.get("address") == address:
                self._remove(dev)
        if not len(devices):
            metadata = devices.getparent()
            self._remove(devices)
            if not len(metadata):
                self._remove(metadata)
