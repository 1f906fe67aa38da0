"""CPU, NUMA and cache topology. (Stub: filled in by the topology work.)"""

from __future__ import annotations

from vfiodeck.core.host.model import CpuInfo, Topology
from vfiodeck.core.host.sysfs import Reader


def scan_topology(reader: Reader) -> Topology:
    return Topology()


def scan_cpu(reader: Reader, topology: Topology) -> CpuInfo:
    return CpuInfo()
