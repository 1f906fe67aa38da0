"""What a libvirt connection holds, read for the VM list and for planners. Blocking: call on a worker.

API:
- ``DomainRow(uri, info: DomainInfo, devices)``: one VM as the list shows it; ``key`` = (uri, uuid).
- ``inventory(hv) -> tuple[DomainRow, ...]``: every domain with the host PCI devices its inactive
  definition passes; a VM that vanishes or does not parse is listed without devices.
- ``read_definitions(hv, vm) -> dict[str, str]``: every VM's inactive XML by name, for
  ``core.plan.assign.propose_assign``; ``vm``'s own must be readable (raises ``VmError``), another
  VM that vanished meanwhile is left out.
- ``running_devices(rows, uri) -> {vm: addresses}``: what the running VMs of ``uri`` hold, for the
  pre-flight.
- ``name_taken(hv, name) -> bool``: for the new-VM name field, as the user types.
- ``connection_label(uri)``: a URI for people ("demo-libvirt.xml (test driver)", "qemu:///system").
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass

from vfiodeck.core.vm.connection import DomainInfo, Hypervisor
from vfiodeck.core.vm.domainxml import DomainXml, DomainXmlError
from vfiodeck.core.vm.errors import DomainNotFoundError, VmError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainRow:
    """One VM as the list shows it: libvirt's facts plus the host PCI devices its definition passes."""

    uri: str
    info: DomainInfo
    devices: tuple[str, ...]  # host PCI addresses from the inactive definition

    @property
    def key(self) -> tuple[str, str]:
        return (self.uri, self.info.uuid)


def inventory(hv: Hypervisor) -> tuple[DomainRow, ...]:
    """Every domain on ``hv`` with its passed devices, sorted by name."""
    rows: list[DomainRow] = []
    for info in hv.list_domains():
        try:
            devices = DomainXml.parse(hv.inactive_xml(info.name)).assigned_pci_addresses()
        except (VmError, DomainXmlError) as err:
            # Vanished between list and read, or a definition we can't parse: show it without devices.
            log.info("could not read %s on %s: %s", info.name, hv.uri, err)
            devices = ()
        rows.append(DomainRow(hv.uri, info, devices))
    return tuple(rows)


def read_definitions(hv: Hypervisor, vm: str) -> dict[str, str]:
    """Every inactive definition on ``hv`` by name; ``vm`` first, and it must be there."""
    definitions = {vm: hv.inactive_xml(vm)}
    for info in hv.list_domains():
        if info.name != vm:
            try:
                definitions[info.name] = hv.inactive_xml(info.name)
            except DomainNotFoundError as err:
                log.info("not checking %s for shared devices: %s", info.name, err)
    return definitions


def running_devices(rows: Iterable[DomainRow], uri: str) -> dict[str, tuple[str, ...]]:
    return {r.info.name: r.devices for r in rows if r.uri == uri and r.info.state.is_active}


def connection_label(uri: str) -> str:
    """The test driver's file name instead of its absolute path; other URIs as they are."""
    if uri.startswith("test://") and uri != "test:///default":
        return f"{os.path.basename(uri.removeprefix('test://'))} (test driver)"
    return uri


def name_taken(hv: Hypervisor, name: str) -> bool:
    """Is ``name`` already a domain on ``hv``? Cheap enough to ask as the user types (one lookup)."""
    try:
        hv.inactive_xml(name)
    except DomainNotFoundError:
        return False
    return True
