"""Drag-and-drop formats shared by the Host view (drag source) and the VMs page (drop target)."""

PCI_MIME = "application/x-vfiodeck-pci"  # a JSON list of PCI addresses: a device's functions or a group
