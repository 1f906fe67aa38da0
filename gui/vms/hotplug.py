"""Hot-plug: a PCI function passed to (or taken from) a running VM now and at its next start, with
``attachDeviceFlags``/``detachDeviceFlags`` and ``AFFECT_LIVE | AFFECT_CONFIG``. All or nothing: a
refusal part-way takes back what was already plugged, and libvirt's reason is said in words."""

from __future__ import annotations

import logging

import libvirt

from vfiodeck.core.plan.assign import XmlChange
from vfiodeck.core.text import split_pci_address
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.domainxml import diff
from vfiodeck.core.vm.errors import VmError
from vfiodeck.core.vm.history import DefinitionChangedError

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
    if code == libvirt.VIR_ERR_NO_SUPPORT:
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
    return f"libvirt refused: the device can't be {verb} the running VM."


def hotplug(hv: Hypervisor, name: str, change: XmlChange, attach: bool) -> None:
    """Plug (or unplug) ``change.addresses`` live and in the definition, then write the rest of the
    change (recorded device ids) into the definition. Blocking."""
    current = hv.inactive_xml(name)
    if current != change.old_xml:
        text = diff(change.old_xml, current, f"{name}.xml")
        raise DefinitionChangedError(
            f"“{name}” was changed outside VFIO Deck since the preview: nothing was done.", text
        )
    dom = hv.conn.lookupByName(name)
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
    hv.define(change.new_xml)  # the same devices plus their recorded ids
