"""Hot-plug: PCI functions passed to (or taken from) a running VM now and at its next start.

API (blocking libvirt calls: run on a worker):
- ``hotplug(hv, name, change, attach, *, host=None, what="", history=None) -> HistoryEntry | None``:
  check that ``name`` is still ``change.old_xml`` (else ``DefinitionChangedError`` with the diff),
  plug (or unplug) each of ``change.addresses`` with ``attachDeviceFlags``/``detachDeviceFlags`` and
  ``AFFECT_LIVE | AFFECT_CONFIG``, then define ``change.new_xml`` (the same devices plus their
  recorded ids). All or nothing: a refusal part-way takes back what was already plugged, and
  ``HotplugRefusedError`` says libvirt's reason in words. With ``host`` the change is recorded in the
  definition history (its undo restores the definition, not the live state).
- ``hostdev_xml(address)``, ``explain(err, attach)``.
"""

from __future__ import annotations

import logging

import libvirt

from vfiodeck.core.text import split_pci_address
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.errors import VmError, translate
from vfiodeck.core.vm.history import History, HistoryEntry, XmlChange, check_unchanged, record

log = logging.getLogger(__name__)
FLAGS = libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG


class HotplugRefusedError(VmError):
    """libvirt or the guest refused; nothing was changed."""


def hostdev_xml(address: str) -> str:
    domain, bus, slot, function = split_pci_address(address)
    return (
        "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
        f"<address domain='{domain:#06x}' bus='{bus:#04x}' slot='{slot:#04x}' function='{function:#x}'/>"
        "</source></hostdev>"
    )


def explain(err: libvirt.libvirtError, attach: bool) -> str:
    """Why a hot-plug failed, in words a user can act on."""
    code, text = err.get_error_code(), (err.get_error_message() or "").lower()
    verb = "plugged into" if attach else "unplugged from"
    # libvirt 9 says "no support"; libvirt 11's test driver refuses the LIVE flag as "unsupported flags".
    if code == libvirt.VIR_ERR_NO_SUPPORT or "unsupported flags" in text:
        return (
            f"This hypervisor cannot hot-plug: the device can't be {verb} the running VM. "
            "Choose “at next start”."
        )
    if "slot" in text or "bus" in text:
        return (
            f"The device can't be {verb} the running VM: it has no free hot-plug slot "
            "(a q35 VM needs a spare pcie-root-port). Choose “at next start”."
        )
    if "timeout" in text or "guest" in text or "agent" in text:
        return f"The guest did not answer, so the device was not {verb} it. Is its OS up?"
    return f"libvirt refused: the device can't be {verb} the running VM ({translate(err)})."


def hotplug(
    hv: Hypervisor,
    name: str,
    change: XmlChange,
    attach: bool,
    *,
    host: str | None = None,
    what: str = "",
    history: History | None = None,
) -> HistoryEntry | None:
    check_unchanged(hv, name, change.old_xml, "plugged" if attach else "unplugged")
    try:
        dom = hv.conn.lookupByName(name)
    except libvirt.libvirtError as err:
        raise translate(err, domain=name) from err
    plug, unplug = (dom.attachDeviceFlags, dom.detachDeviceFlags)
    if not attach:
        plug, unplug = unplug, plug
    done: list[str] = []
    try:
        for address in change.addresses:
            plug(hostdev_xml(address), FLAGS)
            done.append(address)
    except libvirt.libvirtError as err:
        for address in reversed(done):
            try:
                unplug(hostdev_xml(address), FLAGS)
            except libvirt.libvirtError:
                log.warning("could not take back %s from %s", address, name)
        raise HotplugRefusedError(explain(err, attach), detail=str(err), code=err.get_error_code()) from err
    hv.define(change.new_xml)
    if host is None:
        return None
    return record(hv, name, change.old_xml, host=host, what=what, history=history)
