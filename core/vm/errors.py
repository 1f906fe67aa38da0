"""libvirt errors in plain language.

``translate(err)`` turns a ``libvirt.libvirtError`` into one of the typed errors below. ``str()`` of the
result is the sentence the window shows; the raw libvirt text stays in ``.detail`` for a "Details" expander
and bug reports. Matching looks at the error code first and the message text second, because libvirt
reuses broad codes (internal error, operation failed) for very different causes.
"""

from __future__ import annotations

import libvirt

from vfiodeck.core.errors import HostUnsupportedError, PermissionDeniedError, VfioDeckError


# `mypy core` can't resolve vfiodeck.* (an editable install's import hook), so the bases look like Any there.
class VmError(VfioDeckError):  # type: ignore[misc, unused-ignore]
    """A libvirt call failed. ``detail`` keeps libvirt's own text, ``code`` its error number."""

    def __init__(self, message: str, detail: str = "", code: int | None = None) -> None:
        super().__init__(message)
        self.detail = detail
        self.code = code


class ConnectionFailedError(VmError):
    """The hypervisor could not be reached at all (bad URI, daemon not running)."""


class ConnectionLostError(VmError):
    """An open connection stopped answering: the daemon restarted, or the connection was closed."""


class DomainNotFoundError(VmError):
    """The VM vanished: undefined or renamed behind our back."""


class VfioUnsupportedError(VmError, HostUnsupportedError):  # type: ignore[misc, unused-ignore]
    """QEMU/libvirt cannot do VFIO on this host (IOMMU off, vfio modules missing)."""


class DeviceResetError(VmError):
    """A passed-through device cannot be reset (no FLR, PM or bus reset)."""


class DeviceBusyError(VmError):
    """A device is held by another VM, or its IOMMU group is not fully owned by vfio-pci."""


class VmPermissionError(VmError, PermissionDeniedError):  # type: ignore[misc, unused-ignore]
    """libvirt refused us: no access to the socket, polkit said no, or a file is unreadable."""


class InvalidDomainXmlError(VmError):
    """libvirt rejected a domain definition."""


class InvalidStateError(VmError):
    """The action does not fit the VM's state (start a running VM, stop a stopped one)."""


# Substrings of libvirt's own messages (src/qemu, src/util/virpci.c, src/rpc), lowercased.
_VFIO_UNSUPPORTED = (
    "host doesn't support vfio pci passthrough",
    "host doesn't support passthrough of host pci devices",
    "vfio not available",
)
_RESET = ("no flr, pm reset or bus reset available", "unable to reset pci device", "not doing bus reset")
_GROUP_NOT_VIABLE = ("not viable", "iommu_group are bound to their vfio bus driver")
_IN_USE = ("is in use by driver", "is already in use", "in use by another")
_CONNECTION_DROPPED = (
    "invalid connection pointer",
    "client socket is closed",
    "cannot recv data",
    "cannot write data",
    "end of file while reading data",
    "connection reset by peer",
    "broken pipe",
)
_PERMISSION = ("permission denied", "authentication unavailable", "authentication failed", "access denied")

_PERMISSION_CODES = (
    libvirt.VIR_ERR_ACCESS_DENIED,
    libvirt.VIR_ERR_AUTH_FAILED,
    libvirt.VIR_ERR_AUTH_CANCELLED,
)


def _has(text: str, needles: tuple[str, ...]) -> bool:
    return any(n in text for n in needles)


def _subject(domain: str | None) -> str:
    return f"The VM “{domain}”" if domain else "The VM"


def translate(err: libvirt.libvirtError, domain: str | None = None) -> VmError:
    """The typed, plain-language error for ``err``. ``domain`` names the VM the call was about, if any."""
    raw = str(err.get_error_message() or err)
    code = err.get_error_code()
    text = raw.lower()

    def make(cls: type[VmError], message: str) -> VmError:
        return cls(message, detail=raw, code=code)

    if _has(text, _VFIO_UNSUPPORTED):
        return make(
            VfioUnsupportedError,
            "This host doesn't support VFIO PCI passthrough right now: turn on the IOMMU "
            "(VT-d / AMD-Vi in the firmware setup and intel_iommu=on or amd_iommu=on), then load vfio-pci.",
        )
    if _has(text, _RESET):
        return make(
            DeviceResetError,
            "A passed-through device can't be reset (no FLR, power-management or bus reset). "
            "Pass every function of the card together, or use a card or slot that supports reset.",
        )
    if _has(text, _GROUP_NOT_VIABLE):
        return make(
            DeviceBusyError,
            "A device in the same IOMMU group is still used by the host. Give the VM the whole group, "
            "or bind the other devices to vfio-pci.",
        )
    if _has(text, _IN_USE):
        return make(DeviceBusyError, "A passed-through device is already in use by another running VM.")
    if code == libvirt.VIR_ERR_NO_DOMAIN:
        return make(
            DomainNotFoundError,
            f"{_subject(domain)} no longer exists: it was removed outside VFIO Deck. The list will refresh.",
        )
    if code == libvirt.VIR_ERR_INVALID_CONN or _has(text, _CONNECTION_DROPPED):
        return make(
            ConnectionLostError,
            "The connection to libvirt was lost. VFIO Deck will reconnect; nothing on the host was changed.",
        )
    if code in _PERMISSION_CODES or _has(text, _PERMISSION):
        return make(
            VmPermissionError,
            "libvirt refused permission. Add your user to the libvirt group (then log in again), "
            "or connect to qemu:///session.",
        )
    if code == libvirt.VIR_ERR_NO_CONNECT or "failed to connect socket" in text:
        return make(
            ConnectionFailedError,
            "Can't reach libvirt. Is the libvirt daemon running (systemctl start libvirtd)?",
        )
    if code in (libvirt.VIR_ERR_XML_ERROR, libvirt.VIR_ERR_XML_INVALID_SCHEMA, libvirt.VIR_ERR_XML_DETAIL):
        return make(InvalidDomainXmlError, f"libvirt rejected the VM definition: {raw}")
    if "already running" in text or "already active" in text:
        return make(InvalidStateError, f"{_subject(domain)} is already running.")
    if "not running" in text:
        return make(InvalidStateError, f"{_subject(domain)} is not running.")
    if code == libvirt.VIR_ERR_OPERATION_INVALID:
        return make(InvalidStateError, f"{_subject(domain)} can't do that in its current state: {raw}")
    return make(VmError, f"libvirt reported an error: {raw}")


def is_link_error(err: BaseException) -> bool:
    """The connection itself is gone or unreachable (reconnect), as opposed to one call failing."""
    return isinstance(err, ConnectionLostError | ConnectionFailedError)


def unreachable_message(uri: str, err: BaseException) -> str:
    """The banner sentence for a connection that is down."""
    if isinstance(err, ConnectionFailedError) and uri.startswith("qemu:///"):
        return f"Cannot reach {uri}: is libvirtd running? `sudo systemctl start libvirtd`"
    if isinstance(err, ConnectionFailedError) and "+ssh" in uri:
        return f"Cannot reach {uri}: is the host up, and can you log in with ssh without a password?"
    return f"Cannot reach {uri}: {err}"
