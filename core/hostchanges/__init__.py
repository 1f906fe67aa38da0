"""Host changes: vfio-pci binding and kernel command line, as diffs with undo."""
