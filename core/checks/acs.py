"""acs_path: for every candidate that shares its IOMMU group, the port above it that lets devices
talk to each other: a root or downstream port without ACS, or with ACS switched off.

The kernel keeps devices apart in groups only where every root and downstream port between them
and the root complex has ACS with Source Validation, Request and Completion Redirect and Upstream
Forwarding on (SV RR CR UF). The path comes from the device's sysfs location, the ACS registers
from the ports' config space (root only: a normal user reads 64 bytes).
"""

from __future__ import annotations

import os

from vfiodeck.core.checks.bios import Setting, menu
from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.host.model import Candidate
from vfiodeck.core.host.pci import parse_address
from vfiodeck.core.host.pcicaps import PORT_DOWNSTREAM, PORT_ROOT, pcie_port_type
from vfiodeck.core.text import short_address

TITLE = "ACS on the ports above shared candidates"
DEVICES = "sys/bus/pci/devices"
_NEEDED = ("sv", "rr", "cr", "uf")
NEEDS_ROOT = (
    "needs root: a normal user reads 64 bytes of a device's config space, and ACS sits in the "
    "extended space past byte 256"
)


def upstream_path(ctx: CheckContext, address: str) -> tuple[str, ...] | None:
    """The PCI bridges between the root complex and ``address``, outermost first (from the
    sysfs link's target: devices/pci0000:00/0000:00:01.1/0000:01:00.0); None when unreadable."""
    try:
        target = os.readlink(ctx.reader.root.join(f"{DEVICES}/{address}"))
    except OSError:
        return None
    parts = [parse_address(part) for part in target.split("/")]
    chain = [part for part in parts if part is not None]
    if not chain or chain[-1] != address:
        return None
    return tuple(chain[:-1])


def port_verdict(ctx: CheckContext, address: str) -> tuple[Status, str] | None:
    """(status, words) for one port on the path; None when the port is not one ACS applies to."""
    dev = ctx.host.device(address)
    config = ctx.reader.data(f"{DEVICES}/{address}/config", 256)
    port_type = pcie_port_type(config) if config else None
    if port_type is not None and port_type not in (PORT_ROOT, PORT_DOWNSTREAM):
        return None
    caps = dev.capabilities if dev is not None else None
    acs = caps.acs if caps is not None else None
    name = short_address(address)
    if acs is None:
        return Status.UNKNOWN, f"{name}: ACS not readable ({NEEDS_ROOT})"
    if not acs.present:
        return Status.WARN, f"{name}: no ACS capability"
    # As the kernel judges it (pci_acs_flags_enabled): a flag the port cannot do is not required.
    cap, ctrl = acs.cap, acs.ctrl
    wanted = [flag for flag in _NEEDED if cap is None or getattr(cap, flag)]
    off = [flag.upper() for flag in wanted if ctrl is None or not getattr(ctrl, flag)]
    if off:
        return Status.WARN, f"{name}: ACS present but {' '.join(off)} off"
    return Status.PASS, f"{name}: ACS on"


def candidate_path(ctx: CheckContext, cand: Candidate) -> tuple[Status, list[str]]:
    path = upstream_path(ctx, cand.device)
    if path is None:
        return Status.UNKNOWN, [f"{short_address(cand.device)}: sysfs path not captured"]
    if not path:
        return Status.UNKNOWN, [f"{short_address(cand.device)}: no port above it in sysfs (flat capture)"]
    verdicts = [v for port in path if (v := port_verdict(ctx, port)) is not None]
    if any(status is Status.WARN for status, _ in verdicts):
        return Status.WARN, [words for status, words in verdicts if status is Status.WARN]
    if any(status is Status.UNKNOWN for status, _ in verdicts):
        return Status.UNKNOWN, [words for status, words in verdicts if status is Status.UNKNOWN]
    return Status.PASS, [words for _, words in verdicts] or ["no root or downstream port on the path"]


def _merged(found: list[tuple[Candidate, list[str]]]) -> str:
    """ "01:00.0, 04:00.0: no port above it" rather than one line per candidate with the same words."""
    by_words: dict[str, list[str]] = {}
    for cand, words in found:
        for text in words:
            who, _, what = text.partition(": ")
            key = what if who == short_address(cand.device) else text
            by_words.setdefault(key, [])
            if key is what:
                by_words[key].append(who)
    return "; ".join(f"{', '.join(who)}: {what}" if who else what for what, who in by_words.items())


def _fix(ctx: CheckContext) -> str:
    return (
        "Move the device to a slot whose root port has ACS (CPU-attached slots usually do; chipset "
        f"slots share the chipset's group); on AMD boards turn ACS on in the firmware "
        f"({menu(ctx.board, Setting.ACS)}). pcie_acs_override=downstream,multifunction is a "
        "downstream kernel patch (linux-zen, Proxmox, linux-vfio): stock kernels ignore it without a "
        "word, and where it works it only tells the kernel to pretend: devices can still reach each "
        "other, and the VM's memory, by peer-to-peer DMA."
    )


def check_acs_path(ctx: CheckContext) -> Check:
    if not ctx.host.iommu.enabled:
        return Check("acs_path", Status.UNKNOWN, TITLE, "IOMMU off: no groups to judge by", "")
    shared = [c for c in ctx.candidates if not c.isolated]
    if not shared:
        evidence = f"{len(ctx.candidates)} candidates, each alone in its IOMMU group"
        return Check("acs_path", Status.PASS, TITLE, evidence, "")
    results = [(cand, *candidate_path(ctx, cand)) for cand in shared]
    warned = [(c, words) for c, status, words in results if status is Status.WARN]
    if warned:
        evidence = "; ".join(f"{short_address(c.device)} via {', '.join(words)}" for c, words in warned)
        return Check("acs_path", Status.WARN, TITLE, evidence, _fix(ctx))
    unknown = [(c, words) for c, status, words in results if status is Status.UNKNOWN]
    if unknown:
        return Check("acs_path", Status.UNKNOWN, TITLE, _merged(unknown), "")
    evidence = "ports above the shared candidates have ACS on: the groups are shared for another reason"
    return Check(
        "acs_path", Status.PASS, TITLE, evidence + " (a PCIe-to-PCI bridge or a multifunction device)", ""
    )
