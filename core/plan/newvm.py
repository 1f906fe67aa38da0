"""A new passthrough VM: the user's choices become a checked, previewable plan, then a definition.

API:
- ``NewVmChoices``: what the wizard asks (name, memory, vCPUs, ``preset`` "windows11"/"linux",
  firmware options (None: the preset's default; Windows 11 turns Secure Boot and TPM on), devices,
  ``take_blockers``, ``hide_hypervisor`` (None: advised for a GeForce), pinning, hugepages, ``disk``
  (``DiskChoice``), installer ``iso`` and ``virtio_iso`` (virtio-win drivers)).
- ``plan_new_vm(host, choices, definitions=None) -> NewVmPlan``: ``spec``, ``xml``, ``notes``
  (``core.plan.assign.Note``: the devices' notes from ``propose_assign``, memory per node, pinning),
  ``problems`` (one sentence each; Finish stays off while there are any), ``disk`` (a ``DiskRequest``
  to create, named after the VM), ``pinning`` and ``summary`` rows for a readable Review page.
  Blockers are added only with ``take_blockers``; memory and vCPUs are checked against the host and
  the NUMA node (strict numatune only where the node has the memory).
- ``define_new_vm(hv, spec, disk, *, host, create_pool=False, history=None) -> HistoryEntry``: create
  the disk (a ``default`` directory pool is made only with ``create_pool``), then define through
  ``core.vm.history.apply_define`` (refused if the name was taken meanwhile); a failed define deletes
  the disk it made. Blocking.
- ``name_taken(hv, name)`` (from ``core.vm.inventory``): for the name field, as the user types.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.plan.assign import Note, NoteKind, propose_assign
from vfiodeck.core.plan.pinning import PinningPlan, apply_pinning, plan_pinning
from vfiodeck.core.text import cpulist_text, device_label, mib_text
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.domainxml import DomainXml
from vfiodeck.core.vm.errors import VmError
from vfiodeck.core.vm.history import History, HistoryEntry, apply_define
from vfiodeck.core.vm.inventory import name_taken
from vfiodeck.core.vm.newvm import DiskSpec, VmSpec, build_domain_xml, spec_problems
from vfiodeck.core.vm.storage import create_volume, delete_volume

__all__ = [
    "DiskChoice",
    "DiskRequest",
    "NewVmChoices",
    "NewVmPlan",
    "define_new_vm",
    "name_taken",
    "plan_new_vm",
]

DEFAULT_IMAGE_DIR = "/var/lib/libvirt/images"


@dataclass(frozen=True)
class DiskChoice:
    kind: Literal["new", "existing", "none"] = "new"
    directory: str = DEFAULT_IMAGE_DIR  # for "new": the image is <directory>/<vm name>.qcow2
    size_gib: int = 128
    path: str | None = None  # for "existing": an image or /dev/... block device


@dataclass(frozen=True)
class DiskRequest:
    path: str
    size_gib: int


@dataclass(frozen=True)
class NewVmChoices:
    name: str
    memory_mib: int
    vcpus: int
    preset: Literal["windows11", "linux"] = "windows11"
    uefi: bool = True
    secure_boot: bool | None = None
    tpm: bool | None = None
    hyperv: bool | None = None
    devices: tuple[str, ...] = ()
    take_blockers: bool = False
    hide_hypervisor: bool | None = None
    pin: bool = True
    hugepages: bool = False
    disk: DiskChoice = DiskChoice()
    iso: str | None = None
    virtio_iso: str | None = None


@dataclass(frozen=True)
class NewVmPlan:
    spec: VmSpec
    xml: str
    notes: tuple[Note, ...]
    problems: tuple[str, ...]
    disk: DiskRequest | None
    pinning: PinningPlan | None
    summary: tuple[tuple[str, str], ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _disk(choices: NewVmChoices) -> tuple[DiskSpec | None, DiskRequest | None]:
    disk = choices.disk
    if disk.kind == "new":
        path = os.path.join(disk.directory, f"{choices.name}.qcow2")
        return DiskSpec.for_path(path), DiskRequest(path, disk.size_gib)
    if disk.kind == "existing" and disk.path:
        return DiskSpec.for_path(disk.path), None
    return None, None


def _spec(choices: NewVmChoices) -> VmSpec:
    windows = choices.preset == "windows11"
    secure = choices.uefi and (windows if choices.secure_boot is None else choices.secure_boot)
    disk, _request = _disk(choices)
    if disk is not None and windows and not choices.virtio_iso:
        disk = replace(disk, bus="sata")  # Windows' installer has no virtio driver of its own
    return VmSpec(
        name=choices.name.strip(),
        memory_mib=choices.memory_mib,
        vcpus=choices.vcpus,
        firmware="efi" if choices.uefi else "bios",
        secure_boot=secure,
        tpm=windows if choices.tpm is None else choices.tpm,
        hyperv=windows if choices.hyperv is None else choices.hyperv,
        disk=disk,
        iso=choices.iso or None,
        virtio_iso=choices.virtio_iso or None,
        hugepages=choices.hugepages,
    )


def _capacity_problems(host: HostModel | None, spec: VmSpec) -> list[str]:
    if host is None:
        return []
    problems = []
    threads = len(host.topology.cpus)
    if threads and spec.vcpus > threads:
        problems.append(f"{spec.vcpus} vCPUs is more than this host's {threads} CPUs.")
    known = [n.memory_mib for n in host.topology.numa_nodes if n.memory_mib]
    total = sum(known)
    if known and spec.memory_mib > total:
        problems.append(
            f"{mib_text(spec.memory_mib)} of memory is more than this host has ({mib_text(total)})."
        )
    return problems


def _pinning_notes(host: HostModel, spec: VmSpec, pinning: PinningPlan, doc: DomainXml) -> list[Note]:
    notes = []
    if pinning.vcpus < pinning.requested_vcpus:
        text = (
            f"Only {pinning.vcpus} of the {pinning.requested_vcpus} vCPUs could be pinned: the host keeps "
            f"CPUs {cpulist_text(pinning.host_cpus)}."
        )
        notes.append(Note(NoteKind.PINNING_SHORT, text))
    node = next((n for n in host.topology.numa_nodes if n.id == pinning.node), None)
    if node is not None and node.memory_mib and spec.memory_mib > node.memory_mib:
        doc.set_numatune(str(node.id), mode="preferred")
        text = (
            f"NUMA node {node.id} has {mib_text(node.memory_mib)}, less than the VM's "
            f"{mib_text(spec.memory_mib)}: its memory prefers node {node.id} instead of being held to it "
            "(slower when it spills over). Give the VM less memory to keep it on one node."
        )
        notes.append(Note(NoteKind.MEMORY_OVER_NODE, text))
    return notes


def _summary(
    host: HostModel | None,
    plan_spec: VmSpec,
    devices: tuple[str, ...],
    notes: list[Note],
    pinning: PinningPlan | None,
    request: DiskRequest | None,
) -> tuple[tuple[str, str], ...]:
    def label(address: str) -> str:
        return device_label(host.device(address) if host else None, address)

    firmware = "UEFI" if plan_spec.firmware == "efi" else "BIOS"
    extras = [x for x, on in (("Secure Boot", plan_spec.secure_boot), ("TPM 2.0", plan_spec.tpm)) if on]
    taken = next((n.devices for n in notes if n.kind is NoteKind.BLOCKERS_TAKEN), ())
    rows = [
        ("Name", plan_spec.name),
        ("Firmware", ", ".join([firmware, *extras])),
        ("Memory", mib_text(plan_spec.memory_mib) + (" in huge pages" if plan_spec.hugepages else "")),
        ("vCPUs", str(plan_spec.vcpus)),
        ("Devices", ", ".join(label(a) for a in devices if a not in taken) or "none"),
    ]
    if taken:
        rows.append(("Blockers taken", ", ".join(label(a) for a in taken)))
    if pinning is not None and pinning.vcpupin:
        where = f" on NUMA node {pinning.node}" if pinning.node is not None else ""
        rows.append(("Pinning", f"vCPUs on CPUs {cpulist_text(pinning.vcpupin)}{where}"))
    if request is not None:
        rows.append(("Disk", f"new {request.size_gib} GiB qcow2 image {request.path}"))
    elif plan_spec.disk is not None:
        rows.append(("Disk", plan_spec.disk.path))
    for what, iso in (("Installer", plan_spec.iso), ("Drivers", plan_spec.virtio_iso)):
        if iso:
            rows.append((what, iso))
    return tuple(rows)


def plan_new_vm(
    host: HostModel | None, choices: NewVmChoices, definitions: Mapping[str, str] | None = None
) -> NewVmPlan:
    """The new VM's definition with everything the user should know before Finish. ``definitions``:
    the other VMs' inactive XML (``read_definitions``), to say which already pass the same devices."""
    spec = _spec(choices)
    problems = list(spec_problems(spec)) + _capacity_problems(host, spec)
    xml = build_domain_xml(spec)
    notes: list[Note] = []
    devices: tuple[str, ...] = ()
    if host is not None and choices.devices:
        others = {k: v for k, v in (definitions or {}).items() if k != spec.name}
        proposal = propose_assign(
            host, {**others, spec.name: xml}, spec.name, choices.devices, choices.take_blockers,
            hide_hypervisor=choices.hide_hypervisor,
        )  # fmt: skip
        notes += proposal.notes
        if proposal.refused is not None or proposal.change is None:
            problems.append(proposal.refused or "The devices can't be passed.")
        else:
            xml = proposal.change.after
            devices = DomainXml.parse(xml).pci_hostdevs()
    pinning = None
    if host is not None and choices.pin and host.topology.cpus and not problems:
        nodes = [d.numa_node for a in devices if (d := host.device(a)) is not None]
        pinning = plan_pinning(host.topology, spec.vcpus, device_nodes=nodes)
        doc = DomainXml.parse(xml)
        apply_pinning(doc, pinning)
        notes += _pinning_notes(host, spec, pinning, doc)
        xml = doc.to_string()
    _disk_spec, request = _disk(choices)
    summary = _summary(host, spec, devices, notes, pinning, request)
    return NewVmPlan(spec, xml, tuple(notes), tuple(problems), request, pinning, summary)


def define_new_vm(
    hv: Hypervisor,
    spec: NewVmPlan,
    disk: DiskRequest | None,
    *,
    host: str,
    create_pool: bool = False,
    history: History | None = None,
) -> HistoryEntry:
    """Create ``disk`` (unless it exists) and define ``spec.xml``; nothing is left half-made."""
    if spec.problems:
        raise VmError(f"The VM was not defined: {spec.problems[0]}")
    created = False
    if disk is not None and not os.path.exists(disk.path):
        create_volume(hv, disk.path, disk.size_gib, create_pool=create_pool)
        created = True
    try:
        return apply_define(hv, spec.spec.name, None, spec.xml, host=host, what=f"Create {spec.spec.name}",
                            history=history)  # fmt: skip
    except VmError:
        if created and disk is not None:
            delete_volume(hv, disk.path)
        raise
