"""Per-device readiness rows: for each passthrough candidate, what stands between it and a VM.

Each row gathers what the checks found about that one device (reset, isolation, Resizable BAR,
boot framebuffer, host use), so the checklist and the Readiness page say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfiodeck.core.checks.acs import candidate_path
from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.framebuffer import framebuffer_owner
from vfiodeck.core.checks.model import Status
from vfiodeck.core.checks.rebar import OVMF_DEFAULT_MIB, gpu_bar_mib
from vfiodeck.core.checks.reset import reset_bug_family
from vfiodeck.core.host.model import Candidate, CandidateKind, PciDevice
from vfiodeck.core.text import device_name, short_address


@dataclass(frozen=True)
class DeviceItem:
    aspect: str  # "reset", "isolation", "rebar", "boot framebuffer", "host use"
    status: Status
    text: str


@dataclass(frozen=True)
class DeviceRow:
    address: str  # the candidate's lead function
    name: str  # "GeForce GTX 1080"
    kind: str  # "gpu", "nic", ...
    items: tuple[DeviceItem, ...]

    @property
    def status(self) -> Status:
        """The worst of its items (fail > warn > unknown > pass)."""
        order = (Status.FAIL, Status.WARN, Status.UNKNOWN, Status.PASS)
        found = {item.status for item in self.items}
        return next((s for s in order if s in found), Status.PASS)


def _reset_item(dev: PciDevice) -> DeviceItem:
    family = reset_bug_family(dev)
    methods = dev.reset_methods
    if family is not None and not (methods and methods[0] == "device_specific"):
        return DeviceItem(
            "reset", Status.WARN, f"AMD {family}: does not reset between VM runs without vendor-reset"
        )
    if methods is None:
        return DeviceItem("reset", Status.UNKNOWN, "reset_method: not captured")
    if not methods:
        return DeviceItem("reset", Status.WARN, "no reset method: the host must reboot between VM runs")
    return DeviceItem("reset", Status.PASS, f"reset_method: {' '.join(methods)}")


def _isolation_items(ctx: CheckContext, cand: Candidate) -> list[DeviceItem]:
    if not ctx.host.iommu.enabled:
        return [DeviceItem("isolation", Status.UNKNOWN, "the IOMMU is off: no groups to judge by")]
    if cand.isolated:
        groups = ", ".join(str(g) for g in cand.group_ids)
        return [DeviceItem("isolation", Status.PASS, f"alone in IOMMU group {groups}")]
    blockers = ", ".join(short_address(a) for a in cand.blockers) or "unlisted devices"
    status, words = candidate_path(ctx, cand)
    return [
        DeviceItem("isolation", Status.WARN, f"shares its IOMMU group with {blockers}"),
        DeviceItem("ACS", status, "; ".join(words)),
    ]


def _rebar_item(ctx: CheckContext, dev: PciDevice) -> DeviceItem | None:
    found = gpu_bar_mib(ctx, dev)
    if found is None:
        return DeviceItem("rebar", Status.UNKNOWN, "BAR sizes not captured")
    _, grown, _ = found
    if grown * 2 <= OVMF_DEFAULT_MIB:
        return DeviceItem("rebar", Status.PASS, f"64-bit BARs {grown} MiB: fit OVMF's default window")
    return DeviceItem(
        "rebar", Status.WARN, f"64-bit BARs up to {grown} MiB: enlarge OVMF's window (X-PciMmio64Mb)"
    )


def _host_use_items(ctx: CheckContext, cand: Candidate) -> list[DeviceItem]:
    """What the running host needs of the candidate (root disk, display, default route...)."""
    items = [
        DeviceItem(
            "host use",
            Status.WARN,
            f"{short_address(use.address)} holds the host's {use.what.value}: {use.detail}; passing it "
            "needs an explicit confirmation",
        )
        for use in cand.host_uses
    ]
    if not items and ctx.reader.root.live:
        items.append(DeviceItem("host use", Status.PASS, "the running host uses none of its functions"))
    return items


def device_rows(ctx: CheckContext) -> tuple[DeviceRow, ...]:
    owner = framebuffer_owner(ctx)
    rows = []
    for cand in ctx.candidates:
        dev = ctx.host.device(cand.device)
        if dev is None:
            continue
        items = _isolation_items(ctx, cand) + _host_use_items(ctx, cand)
        if cand.kind is CandidateKind.GPU:
            items.append(_reset_item(dev))
            rebar = _rebar_item(ctx, dev)
            if rebar is not None:
                items.append(rebar)
            if owner is not None and owner[1] in cand.functions:
                items.append(
                    DeviceItem("boot framebuffer", Status.WARN, f"{owner[0]} holds its memory ({owner[2]})")
                )
        elif dev.reset_methods is not None:
            items.append(_reset_item(dev))
        rows.append(DeviceRow(cand.device, device_name(dev), cand.kind.value, tuple(items)))
    return tuple(rows)
