"""A libvirt domain definition that VFIO Deck can read and edit without losing anything.

Elements, attributes, namespaces and comments that VFIO Deck does not model survive a round trip,
and ``to_string()`` returns the original text exactly until something is edited; after an edit only
the edited lines differ (see ``lossless``). Typed accessors read the parts passthrough cares about;
setters (``domainedit.DomainEdits``) change them in place, inserting new elements where libvirt itself
would write them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from lxml import etree

from vfiodeck.core.errors import VfioDeckError
from vfiodeck.core.text import parse_cpulist
from vfiodeck.core.vm import lossless
from vfiodeck.core.vm.doctype import has_internal_subset
from vfiodeck.core.vm.domainedit import _VD, DomainEdits, _Element, _int
from vfiodeck.core.vm.domainedit import VFIODECK_NS as VFIODECK_NS
from vfiodeck.core.vm.domainedit import pci_address_of as pci_address_of

DEFAULT_HUGEPAGE_KIB = 2048  # x86-64's default huge page size: what <hugepages/> without <page> gets
_UNIT_KIB = {
    "b": 1 / 1024, "bytes": 1 / 1024, "kb": 1000 / 1024, "k": 1, "kib": 1, "mb": 1e6 / 1024,
    "m": 1024, "mib": 1024, "gb": 1e9 / 1024, "g": 1024**2, "gib": 1024**2, "tb": 1e12 / 1024,
    "t": 1024**3, "tib": 1024**3,
}  # fmt: skip


class DomainXmlError(VfioDeckError):
    """The text is not a libvirt domain definition; the message is one line with the reason."""


@dataclass(frozen=True)
class CpuTopology:
    sockets: int | None
    dies: int | None
    cores: int | None
    threads: int | None


@dataclass(frozen=True)
class NumaTune:
    mode: str | None  # strict, preferred, interleave, restrictive; None means libvirt's default
    nodeset: str | None
    placement: str | None


# -- small value helpers ----------------------------------------------------------------------------


def _get(node: _Element, key: str) -> str | None:
    value = node.get(key)
    return None if value is None else str(value)


def diff(old: str, new: str, label: str = "domain.xml") -> str:
    """A unified diff of two XML texts, "" when they are equal."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{label}", f"b/{label}"
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def _syntax_message(err: etree.XMLSyntaxError) -> str:
    msg = (err.msg or str(err)).splitlines()[0] if (err.msg or str(err)) else "unreadable"
    line = err.lineno
    if line and f"line {line}" not in msg:
        msg = f"{msg} (line {line})"
    return f"not valid XML: {msg}"


_PARSER_OPTIONS: dict[str, Any] = {
    "remove_blank_text": False,
    "remove_comments": False,
    "remove_pis": False,
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "encoding": "utf-8",
}


class DomainXml(DomainEdits):
    """One domain definition. Parse with ``DomainXml.parse(text)``; ``to_string()`` writes it back."""

    def __init__(self, text: str, tree: lossless.LosslessTree) -> None:
        self.original = text
        self._tree = tree
        self._edited = False
        self._step = lossless.indent_step(tree.root)

    @classmethod
    def parse(cls, text: str | bytes) -> DomainXml:
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DomainXmlError(f"not valid XML: not UTF-8 text (byte {exc.start})") from exc
        if not text.strip():
            raise DomainXmlError("not valid XML: the text is empty")
        if has_internal_subset(text):
            raise DomainXmlError(
                "not a libvirt domain: it declares a DOCTYPE internal subset, which libvirt never writes"
            )
        try:
            root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(**_PARSER_OPTIONS))
        except etree.XMLSyntaxError as exc:
            raise DomainXmlError(_syntax_message(exc)) from exc
        if root.tag != "domain":
            raise DomainXmlError(f"not a libvirt domain: root element is <{etree.QName(root).localname}>")
        return cls(text, lossless.LosslessTree(text, root))

    @property
    def root(self) -> _Element:
        """The lxml root. Edit through it only for what no setter covers, then call ``touch()``."""
        return self._tree.root

    def touch(self) -> None:
        self._edited = True

    @property
    def edited(self) -> bool:
        return self._edited

    def to_string(self) -> str:
        return self._tree.render() if self._edited else self.original

    def diff(self, label: str | None = None) -> str:
        """What the edits change, as a unified diff against the parsed text."""
        return diff(self.original, self.to_string(), label or f"{self.name or 'domain'}.xml")

    # -- reading ---------------------------------------------------------------------------------
    def _find(self, path: str) -> _Element | None:
        return self.root.find(path)

    def _text(self, path: str) -> str | None:
        node = self._find(path)
        return node.text.strip() if node is not None and node.text else None

    @property
    def name(self) -> str | None:
        return self._text("name")

    @property
    def uuid(self) -> str | None:
        return self._text("uuid")

    @property
    def domain_type(self) -> str | None:
        return _get(self.root, "type")

    @property
    def machine(self) -> str | None:
        node = self._find("os/type")
        return None if node is None else node.get("machine")

    @property
    def arch(self) -> str | None:
        node = self._find("os/type")
        return None if node is None else node.get("arch")

    @property
    def memory_kib(self) -> int | None:
        node = self._find("memory")
        value = _int(node.text) if node is not None else None
        if node is None or value is None:
            return None
        factor = _UNIT_KIB.get(node.get("unit", "KiB").lower())
        return None if factor is None else int(value * factor)

    @property
    def vcpus(self) -> int | None:
        return _int(self._text("vcpu"))

    def pci_hostdevs(self) -> tuple[str, ...]:
        """Addresses of ``<hostdev type='pci'>`` devices, in document order."""
        out: list[str] = []
        for dev in self._pci_hostdev_elements():
            addr = pci_address_of(dev.find("source/address"))
            if addr:
                out.append(addr)
        return tuple(out)

    def assigned_pci_addresses(self) -> tuple[str, ...]:
        """Every host PCI function this VM takes: hostdevs and ``<interface type='hostdev'>`` (SR-IOV)."""
        nets = self.root.findall("devices/interface[@type='hostdev']")
        extra = [pci_address_of(n.find("source/address")) for n in nets]
        return self.pci_hostdevs() + tuple(a for a in extra if a)

    def _pci_hostdev_elements(self) -> list[_Element]:
        return [
            dev
            for dev in self.root.findall("devices/hostdev")
            if dev.get("type") == "pci" and dev.get("mode", "subsystem") == "subsystem"
        ]

    def recorded_device_ids(self) -> dict[str, str]:
        """Address -> "vvvv:dddd" as recorded in ``<metadata>`` when VFIO Deck assigned the device."""
        out: dict[str, str] = {}
        for dev in self.root.iterfind(f"metadata/{_VD}devices/{_VD}device"):
            address, ids = (dev.get("address") or "").lower(), (dev.get("ids") or "").lower()
            if address and ids:
                out[address] = ids
        return out

    def vcpupins(self) -> dict[int, tuple[int, ...]]:
        pins: dict[int, tuple[int, ...]] = {}
        for pin in self.root.findall("cputune/vcpupin"):
            vcpu, cpus = _int(pin.get("vcpu")), parse_cpulist(pin.get("cpuset"))
            if vcpu is not None and cpus is not None:
                pins[vcpu] = cpus
        return pins

    def emulatorpin(self) -> tuple[int, ...] | None:
        node = self._find("cputune/emulatorpin")
        return None if node is None else parse_cpulist(node.get("cpuset"))

    def numatune(self) -> NumaTune | None:
        node = self._find("numatune/memory")
        if node is None:
            return None
        return NumaTune(node.get("mode"), node.get("nodeset"), node.get("placement"))

    def cpu_topology(self) -> CpuTopology | None:
        node = self._find("cpu/topology")
        if node is None:
            return None
        return CpuTopology(*(_int(node.get(k)) for k in ("sockets", "dies", "cores", "threads")))

    def hugepages(self) -> bool:
        return self._find("memoryBacking/hugepages") is not None

    def hugepage_kib(self) -> int | None:
        """The huge page size backing the memory (x86-64's 2 MiB default when no ``<page>`` says), or
        None without ``<hugepages/>`` or with a size that does not parse."""
        if not self.hugepages():
            return None
        page = self._find("memoryBacking/hugepages/page")
        if page is None:
            return DEFAULT_HUGEPAGE_KIB
        size, factor = _int(page.get("size")), _UNIT_KIB.get(page.get("unit", "KiB").lower())
        return None if size is None or factor is None else int(size * factor)

    @property
    def os_firmware(self) -> str | None:
        """``<os firmware='efi'>``: libvirt picks the build from QEMU's descriptors."""
        return _get(self._find("os"), "firmware") if self._find("os") is not None else None

    def firmware_files(self) -> tuple[str, ...]:
        """The ``<loader>`` and NVRAM ``template`` paths given by hand (libvirt creates the NVRAM file)."""
        loader = self._text("os/loader") or ""
        nvram = self._find("os/nvram")
        template = (nvram.get("template") or "").strip() if nvram is not None else ""
        return tuple(p for p in (loader, template) if p)

    def hyperv_features(self) -> dict[str, str]:
        """Hyper-V enlightenments and their ``state`` ("on"/"off"), e.g. ``{"relaxed": "on"}``."""
        hyperv = self._find("features/hyperv")
        if hyperv is None:
            return {}
        return {str(k.tag): k.get("state", "on") for k in hyperv if isinstance(k.tag, str)}

    def hyperv_vendor_id(self) -> str | None:
        node = self._find("features/hyperv/vendor_id")
        if node is None or node.get("state", "on") != "on":
            return None
        return _get(node, "value")

    def kvm_hidden(self) -> bool:
        node = self._find("features/kvm/hidden")
        return node is not None and node.get("state") == "on"
