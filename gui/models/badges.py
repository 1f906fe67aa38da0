"""The group map's badges: what a device's row says about passing it through, and its colour."""

from __future__ import annotations

from vfiodeck.core.host.model import Candidate, HostModel, HostUse


class Badge:
    ALONE = "passable alone"
    BLOCKERS = "needs its blockers"
    BRIDGE = "bridge only"
    NO_IOMMU = "IOMMU off"
    UNGROUPED = "not in a group"
    HOST_USES = "used by the host"


BADGE_COLORS = {
    Badge.ALONE: "#2e7d32",
    Badge.BLOCKERS: "#c62828",
    Badge.BRIDGE: "#607d8b",
    Badge.NO_IOMMU: "#8d6e63",
    Badge.UNGROUPED: "#8d6e63",
    Badge.HOST_USES: "#e65100",
}


def uses_phrase(uses: tuple[HostUse, ...]) -> str:
    """ "root filesystem, default route": what the host would lose, in words."""
    return ", ".join(dict.fromkeys(u.what.value.replace("-", " ") for u in uses))


def badge_for(host: HostModel, candidate: Candidate) -> str:
    if not host.iommu.enabled:
        return Badge.NO_IOMMU
    if candidate.blockers:
        return Badge.BLOCKERS
    if not candidate.isolated:
        return Badge.UNGROUPED
    return Badge.ALONE
