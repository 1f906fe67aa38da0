"""libvirt side: connections, events, lossless domain XML, statistics."""
