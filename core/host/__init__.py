"""Host model: everything read from sysfs/procfs under a host root."""
