"""PCI devices from sys/bus/pci/devices. (Stub: filled in by the PCI work.)"""

from __future__ import annotations

from vfiodeck.core.host.model import PciDevice
from vfiodeck.core.host.sysfs import Reader


def scan_pci(reader: Reader) -> tuple[PciDevice, ...]:
    return tuple(PciDevice(address=name.lower()) for name in reader.listdir("sys/bus/pci/devices"))
