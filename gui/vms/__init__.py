"""The VMs page: libvirt connections, the VM list, assignment by drag and drop, the new-VM wizard, graphs."""
