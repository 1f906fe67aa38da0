"""Which functions a ``--bind``/``--unbind`` touches, and how, from the host scan's candidates."""

from __future__ import annotations

from dataclasses import dataclass

from vfiodeck.core.host.candidates import candidate_for
from vfiodeck.core.host.model import BindingMethod, HostModel, HostUse
from vfiodeck.core.host.pci import parse_address
from vfiodeck.core.hostchanges.model import Refusal
from vfiodeck.core.text import short_address

# The drivers that would claim a GPU of this vendor before vfio-pci unless told to wait.
_GPU_DRIVERS = {
    "10de": ("nouveau", "nvidia"),
    "1002": ("amdgpu", "radeon"),
    "8086": ("i915", "xe"),
}


@dataclass(frozen=True)
class Target:
    address: str  # the candidate's device
    functions: tuple[str, ...]
    by_address: bool
    ids: tuple[str, ...]
    drivers: tuple[str, ...]  # for the softdep
    why: str


def normalise(address: str) -> str | None:
    """ "01:00.0" or "0000:01:00.0" -> "0000:01:00.0"; None when it is not a PCI address."""
    text = address.strip().lower()
    if text.count(":") == 1:
        text = "0000:" + text
    return parse_address(text)


def _use_text(use: HostUse) -> str:
    return f"{use.what.value}: {use.detail}"


def resolve(host: HostModel, address: str, confirmed: tuple[str, ...] = ()) -> Target | Refusal:
    """The functions to bind for the candidate at ``address`` (with its companions), or why not.
    A candidate the running host uses needs its address in ``confirmed``."""
    canonical = normalise(address)
    if canonical is None:
        return Refusal(address, f"{address!r} is not a PCI address (like 0000:01:00.0)")
    candidate = candidate_for(host, canonical)
    if candidate is None:
        return Refusal(canonical, f"{short_address(canonical)} is not a passthrough candidate on this host")
    if candidate.blockers:
        others = ", ".join(short_address(a) for a in candidate.blockers)
        return Refusal(
            canonical,
            f"its IOMMU group also holds {others}: those must go to vfio-pci too (bind them) "
            "or the group must be split",
        )
    host_uses = candidate.host_uses
    if host_uses and not {normalise(a) for a in confirmed} & {canonical, candidate.device}:
        uses = "; ".join(_use_text(u) for u in host_uses)
        return Refusal(
            canonical,
            f"the running host uses it ({uses}); confirm with --confirm-host-use {short_address(canonical)}",
        )
    functions = tuple(sorted({*candidate.functions, *candidate.companions}))
    devices = [host.device(a) for a in functions]
    storage = [d.address for d in devices if d is not None and (d.class_id or "").startswith("01")]
    by_address = candidate.binding.method is BindingMethod.DRIVER_OVERRIDE or bool(storage)
    if storage:
        why = "a storage controller's id can match the disk the host boots from: bound by address"
    else:
        why = candidate.binding.reason
    drivers: list[str] = []
    for dev in devices:
        if dev is None:
            continue
        if (dev.class_id or "").startswith("03"):
            drivers += [d for d in _GPU_DRIVERS.get(dev.vendor_id or "", ()) if d not in drivers]
        if dev.driver and dev.driver != "vfio-pci" and dev.driver.replace("-", "_") not in drivers:
            drivers.append(dev.driver.replace("-", "_"))
    ids = sorted({*candidate.binding.ids, *(d.ids for d in devices if d is not None and d.ids)})
    return Target(
        address=candidate.device,
        functions=functions,
        by_address=by_address,
        ids=tuple(ids),
        drivers=tuple(drivers),
        why=why,
    )
