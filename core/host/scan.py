"""One entry point that reads a whole host into a ``HostModel``."""

from __future__ import annotations

from vfiodeck.core.host.hostuse import find_host_uses
from vfiodeck.core.host.iommu import scan_iommu
from vfiodeck.core.host.model import HostModel
from vfiodeck.core.host.pci import scan_pci
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.sysfs import Reader
from vfiodeck.core.host.topology import scan_cpu, scan_topology


def scan_host(root: HostRoot) -> HostModel:
    """Read everything VFIO Deck shows about a host. Never raises for odd or missing files:
    what could not be read is ``None`` in the model and explained in ``HostModel.problems``."""
    reader = Reader(root)
    topology = scan_topology(reader)
    cpu = scan_cpu(reader, topology)
    devices = scan_pci(reader)
    iommu = scan_iommu(reader, devices)
    cmdline = reader.string("proc/cmdline")
    host_uses = find_host_uses(reader, devices)
    return HostModel(
        source=root.label,
        cpu=cpu,
        topology=topology,
        pci_devices=devices,
        iommu=iommu,
        cmdline=cmdline,
        problems=tuple(reader.problems),
        host_uses=host_uses,
        root=root,
    )
