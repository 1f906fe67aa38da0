"""Typed errors whose message is safe to show a user as it is: it says what is wrong and what to do."""

from __future__ import annotations


class VfioDeckError(Exception):
    """Base class: ``str(err)`` is a one-line message meant for the user."""


class BadRootError(VfioDeckError):
    """A --root argument that is not a host root, a directory, or a readable tarball."""


class PermissionDeniedError(VfioDeckError):
    """The action needs a privilege the user was refused (polkit said no, or a file is root-only)."""


class HostUnsupportedError(VfioDeckError):
    """The host lacks something the action needs (IOMMU off, VFIO module missing, ...)."""
