"""Is a domain definition one libvirt will take? libvirt's own schema check, plus a few rules that
only the QEMU driver enforces (so the test driver and a schema check alone would let them through)."""

from __future__ import annotations

import re
import uuid as uuidlib

import libvirt

from vfiodeck.core.vm.domainxml import DomainXml, DomainXmlError

VALIDATE = libvirt.VIR_DOMAIN_DEFINE_VALIDATE

# QEMU can open LUKS only inside these image formats (qemu block/crypto).
_LUKS_FORMATS = ("raw", "qcow2")


def one_line(message: str) -> str:
    """libvirt's multi-line messages as one line, without the schema file path noise."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    text = "; ".join(ln for ln in lines if not ln.startswith("Unable to validate doc against"))
    return re.sub(r"Unable to validate doc against \S+;?\s*", "", text).strip()


def lint(doc: DomainXml) -> list[str]:
    """VFIO Deck's own checks for mistakes libvirt's QEMU driver refuses at define or start time."""
    return [*_root_controller(doc), *_tpm_model(doc), *_disk_encryption(doc)]


def _root_controller(doc: DomainXml) -> list[str]:
    machine = doc.machine or ""
    root = doc.root.find("devices/controller[@type='pci'][@index='0']")
    if root is None or not machine:
        return []
    model = root.get("model")
    q35 = "q35" in machine
    if q35 and model == "pci-root":
        return [f"machine '{machine}' (q35) needs a pcie-root controller at index 0, not pci-root"]
    if not q35 and doc.arch in ("x86_64", "i686") and model == "pcie-root":
        return [f"machine '{machine}' (i440fx) needs a pci-root controller at index 0, not pcie-root"]
    return []


def _tpm_model(doc: DomainXml) -> list[str]:
    arch = doc.arch or ""
    problems = []
    for tpm in doc.root.findall("devices/tpm"):
        model = tpm.get("model", "tpm-tis")
        if arch == "aarch64" and model in ("tpm-tis", "tpm-crb"):
            problems.append(f"TPM model '{model}' does not exist on aarch64: use 'tpm-tis-device'")
    return problems


def _disk_encryption(doc: DomainXml) -> list[str]:
    problems = []
    for disk in doc.root.findall("devices/disk"):
        enc = disk.find("source/encryption")
        if enc is None:
            enc = disk.find("encryption")
        if enc is None or enc.get("format") != "luks":
            continue
        driver = disk.find("driver")
        fmt = driver.get("type") if driver is not None else None
        if fmt is not None and fmt not in _LUKS_FORMATS:
            target = disk.find("target")
            name = target.get("dev") if target is not None else "?"
            problems.append(f"disk '{name}': LUKS encryption needs a raw or qcow2 image, not {fmt}")
    return problems


def validate_with_libvirt(conn: libvirt.virConnect, xml: str) -> list[str]:
    """libvirt's verdict on ``xml`` (schema and parser), as one-line messages; [] when it is valid.

    The definition is tried under a throw-away name and UUID and undefined again, so a domain of
    the same name on ``conn`` is never touched. Meant for scratch connections (the test driver) and
    previews; the real change is ``defineXMLFlags(xml, VIR_DOMAIN_DEFINE_VALIDATE)`` itself."""
    try:
        doc = DomainXml.parse(xml)
    except DomainXmlError as exc:
        return [str(exc)]
    _rename_for_trial(doc)
    try:
        dom = conn.defineXMLFlags(doc.to_string(), VALIDATE)
    except libvirt.libvirtError as exc:
        return [one_line(str(exc.get_error_message() or exc))]
    try:
        dom.undefine()
    except libvirt.libvirtError:
        pass  # nothing to report: the definition itself was valid
    return []


def validate(conn: libvirt.virConnect, xml: str) -> list[str]:
    """Every problem found: a parse error, VFIO Deck's own checks, then libvirt's."""
    try:
        doc = DomainXml.parse(xml)
    except DomainXmlError as exc:
        return [str(exc)]
    return lint(doc) + validate_with_libvirt(conn, xml)


def _rename_for_trial(doc: DomainXml) -> None:
    trial = uuidlib.uuid4()
    name = doc.root.find("name")
    if name is not None:
        name.text = f"vfiodeck-validate-{trial.hex[:12]}"
    node = doc.root.find("uuid")
    if node is not None:
        node.text = str(trial)
    doc.touch()
