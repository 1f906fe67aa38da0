"""The ``inspect`` report: the JSON contract of DESIGN.md (schema 1) and its readable text form."""

from __future__ import annotations

from typing import Any

from vfiodeck.core.checks.iommu import GROUPS_DIR as IOMMU_GROUPS_DIR
from vfiodeck.core.checks.readiness import assess
from vfiodeck.core.checks.run import check_to_dict
from vfiodeck.core.checks.text import checklist_lines
from vfiodeck.core.host.candidates import device_kind
from vfiodeck.core.host.model import AcsFlags, Candidate, HostModel, PciCapabilities, PciDevice
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.sysfs import Reader
from vfiodeck.core.text import cpulist_text, kib_text, mib_text, short_address

SCHEMA = 1


def _device_dict(dev: PciDevice) -> dict[str, Any]:
    return {
        "address": dev.address,
        "vendor_id": dev.vendor_id,
        "device_id": dev.device_id,
        "class": dev.class_id,
        "vendor_name": dev.vendor_name,
        "device_name": dev.device_name,
        "class_name": dev.class_name,
        "driver": dev.driver,
        "iommu_group": dev.iommu_group,
        "numa_node": dev.numa_node,
        "boot_vga": dev.boot_vga,
        "reset_methods": list(dev.reset_methods) if dev.reset_methods is not None else None,
        "capabilities": _capabilities_dict(dev.capabilities),
    }


def _flags_dict(flags: AcsFlags | None) -> dict[str, bool] | None:
    if flags is None:
        return None
    return {name: getattr(flags, name) for name in ("sv", "tb", "rr", "cr", "uf", "ec", "dt")}


def _capabilities_dict(caps: PciCapabilities | None) -> dict[str, Any] | None:
    if caps is None:
        return None
    acs: dict[str, Any] | None = None
    if caps.acs is not None:
        acs = {"present": False}
        if caps.acs.present:
            acs = {"present": True, "cap": _flags_dict(caps.acs.cap), "ctrl": _flags_dict(caps.acs.ctrl)}
    sriov: dict[str, Any] | None = None
    if caps.sriov is not None:
        sriov = {"present": False}
        if caps.sriov.present:
            sriov = {"present": True, "total_vfs": caps.sriov.total_vfs, "num_vfs": caps.sriov.num_vfs}
    rebar = None
    if caps.rebar is not None:
        rebar = [
            {"bar": e.bar, "current_mib": e.current_mib, "supported_mib": list(e.supported_mib)}
            for e in sorted(caps.rebar, key=lambda e: e.bar)
        ]
    return {"config_bytes": caps.config_bytes, "flr": caps.flr, "acs": acs, "rebar": rebar, "sriov": sriov}


def _candidate_dict(cand: Candidate) -> dict[str, Any]:
    return {
        "device": cand.device,
        "kind": cand.kind.value,
        "functions": list(cand.functions),
        "group_ids": list(cand.group_ids),
        "blockers": list(cand.blockers),
        "isolated": cand.isolated,
        "binding": {"method": cand.binding.method.value, "ids": list(cand.binding.ids)},
        "host_uses": [
            {"address": use.address, "what": use.what.value, "detail": use.detail} for use in cand.host_uses
        ],
        "companions": list(cand.companions),
        "verdict": cand.verdict,
    }


def inspect_dict(host: HostModel, root: HostRoot) -> dict[str, Any]:
    """Everything ``vfio-deck inspect --json`` prints. Lists are sorted; unknowns are null."""
    topo = host.topology
    candidates = host.candidates
    checks = assess(host, Reader(root), candidates).checks
    return {
        "schema": SCHEMA,
        "cpu": {
            "vendor": host.cpu.vendor,
            "model_name": host.cpu.model_name,
            "virtualization": host.cpu.virtualization,
            "packages": host.cpu.packages,
            "cores": host.cpu.cores,
            "threads": host.cpu.threads,
        },
        "numa_nodes": [
            {
                "id": node.id,
                "cpus": list(node.cpus),
                "memory_mib": node.memory_mib,
                "distances": list(node.distances) if node.distances is not None else None,
            }
            for node in sorted(topo.numa_nodes, key=lambda n: n.id)
        ],
        "cache_domains": [
            {"level": dom.level, "cpus": list(dom.cpus), "size_kib": dom.size_kib}
            for dom in sorted(topo.cache_domains, key=lambda d: d.cpus)
        ],
        "cores": [
            {"package": core.package, "die": core.die, "core": core.core, "cpus": list(core.cpus)}
            for core in sorted(topo.cores, key=lambda c: c.cpus)
        ],
        "pci_devices": [_device_dict(dev) for dev in sorted(host.pci_devices, key=lambda d: d.address)],
        "iommu": {
            "enabled": host.iommu.enabled,
            "groups": [{"id": grp.id, "devices": list(grp.devices)} for grp in host.iommu.groups],
        },
        "passthrough_candidates": [_candidate_dict(c) for c in candidates],
        "checks": [check_to_dict(check) for check in checks],
        "cmdline": host.cmdline,
        "problems": [
            {"path": p.path, "kind": p.kind.value, "detail": p.detail}
            for p in sorted(host.problems, key=lambda p: (p.path, p.kind.value))
        ],
    }


# -- text report ---------------------------------------------------------------------------

_MARKERS = {
    "gpu": "[GPU]",
    "audio": "[AUD]",
    "usb": "[USB]",
    "nic": "[NIC]",
    "storage": "[STO]",
    "bridge": "[BRG]",
    "other": "[   ]",
}


def _device_line(dev: PciDevice) -> str:
    name = dev.device_name or dev.class_name or "unknown device"
    vendor = f"{dev.vendor_name} " if dev.vendor_name else ""
    ids = f" [{dev.ids}]" if dev.ids else ""
    driver = f"  driver: {dev.driver}" if dev.driver else ""
    return f"{_MARKERS[device_kind(dev)]} {short_address(dev.address)}  {vendor}{name}{ids}{driver}"


def _topology_lines(host: HostModel) -> list[str]:
    cpu, topo = host.cpu, host.topology
    virt = {"vmx": "VT-x (vmx)", "svm": "AMD-V (svm)"}.get(cpu.virtualization or "", "no VT-x/AMD-V flag")
    lines = [
        f"CPU: {cpu.model_name or 'unknown model'} ({cpu.vendor or 'unknown vendor'}), {virt}",
        f"     {cpu.packages} package(s), {cpu.cores} cores, {cpu.threads} threads",
    ]
    for node in sorted(topo.numa_nodes, key=lambda n: n.id):
        mem = mib_text(node.memory_mib) if node.memory_mib is not None else "memory unknown"
        lines.append(f"NUMA node {node.id}: CPUs {cpulist_text(node.cpus) or 'none'}, {mem}")
    for dom in sorted(topo.cache_domains, key=lambda d: d.cpus):
        size = kib_text(dom.size_kib) if dom.size_kib else "size unknown"
        lines.append(f"L3 cache ({size}): CPUs {cpulist_text(dom.cpus) or 'none'}")
    return lines


def text_report(host: HostModel, root: HostRoot) -> str:
    lines = [f"VFIO Deck report for {host.source}", ""]
    lines += _topology_lines(host)
    lines.append("")
    if not host.iommu.enabled and not Reader(root).isdir(IOMMU_GROUPS_DIR):
        # Nothing captured is not "off": the readiness check says unknown too.
        lines += [f"IOMMU: unknown ({IOMMU_GROUPS_DIR} is not in this capture)", ""]
    elif not host.iommu.enabled:
        lines += [
            "IOMMU: off (no IOMMU groups). Nothing can be passed through until it is on:",
            "  turn on Intel VT-d or AMD IOMMU/AMD-Vi in the firmware setup,",
            "  and on Intel boot with intel_iommu=on.",
            "",
        ]
    else:
        lines.append(f"IOMMU: on, {len(host.iommu.groups)} groups")
        for grp in host.iommu.groups:
            lines.append(f"Group {grp.id}:")
            for address in grp.devices:
                dev = host.device(address)
                lines.append(
                    "  " + (_device_line(dev) if dev else f"[   ] {short_address(address)}  (not in sysfs)")
                )
        lines.append("")
    candidates = host.candidates
    lines.append("Passthrough candidates:" if candidates else "Passthrough candidates: none")
    for cand in candidates:
        mark = "OK " if cand.isolated else "!! "
        lines.append(f"  {mark}{cand.verdict}")
        lines.append(f"      bind with {cand.binding.method.value}: {cand.binding.reason}")
        if cand.companions:
            companions = ", ".join(map(short_address, cand.companions))
            lines.append(f"      offered with it: {companions} (in a group of its own)")
        for use in cand.host_uses:
            lines.append(f"      HOST USES {short_address(use.address)}: {use.what.value}: {use.detail}")
    lines.append("")
    readiness = assess(host, Reader(root), candidates)
    lines.append(f"Readiness: {readiness.summary}")
    lines += checklist_lines(readiness, indent="  ")
    if host.problems:
        lines.append("")
        lines.append(f"Could not read {len(host.problems)} value(s); run with -v for details.")
    return "\n".join(lines) + "\n"
