"""VFIO Deck core: host model, checks, plans and libvirt access. Never imports Qt."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vfio-deck")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
