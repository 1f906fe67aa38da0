"""The device details panel's text: everything known about one PCI device, in plain words.

``device_details_html`` is a pure function of the host values, so tests can check the words
without a widget; ``DetailsPanel`` only shows it.
"""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QTextBrowser, QWidget

from vfiodeck.core.host.candidates import device_kind
from vfiodeck.core.host.model import Bar, BindingMethod, Candidate, HostModel, HostUse, PciDevice
from vfiodeck.core.host.pci import address_key
from vfiodeck.core.text import device_name, short_address, size_text

EMPTY_TEXT = "Select a device to see its details."


def _row(label: str, value: str | None) -> str:
    return f"<tr><td><b>{escape(label)}</b></td><td>{escape(value) if value else '<i>unknown</i>'}</td></tr>"


def _bar_text(bar: Bar) -> str:
    if bar.is_io:
        return f"BAR {bar.index}: {size_text(bar.size)} I/O ports"
    bits = "64-bit" if bar.is_64bit else "32-bit"
    pref = ", prefetchable" if bar.prefetchable else ""
    where = ", above 4 GiB" if bar.above_4g else ""
    return f"BAR {bar.index}: {size_text(bar.size)} {bits}{pref}{where}"


def _candidate_for(candidates: tuple[Candidate, ...], address: str) -> Candidate | None:
    return next((c for c in candidates if address in c.functions), None)


def device_details_html(host: HostModel, address: str, candidates: tuple[Candidate, ...]) -> str:
    dev = host.device(address)
    if dev is None:
        return f"<p>{escape(address)} is not in this host.</p>"
    parts = [
        f"<h3>{escape(device_name(dev))}</h3>",
        f"<p>{escape(dev.vendor_name or 'Unknown vendor')} · {escape(dev.address)}</p>",
        "<table cellspacing='2'>",
    ]
    parts.append(_row("Vendor:device", dev.ids))
    parts.append(_row("Name", dev.device_name))
    sub = f"{dev.subsystem_vendor_id}:{dev.subsystem_device_id}" if dev.subsystem_vendor_id else None
    if sub and dev.subsystem_name:
        sub += f" ({dev.subsystem_name})"
    parts.append(_row("Subsystem", sub))
    klass = f"{dev.class_code} {dev.class_name or ''}".strip() if dev.class_code else None
    parts.append(_row("Class", klass))
    parts.append(_row("Revision", dev.revision))
    parts.append(_row("Driver", dev.driver or "none bound"))
    parts.append(
        _row(
            "NUMA node", "unknown (the kernel reports none)" if dev.numa_node is None else str(dev.numa_node)
        )
    )
    parts.append(
        _row(
            "Boot VGA",
            None
            if dev.boot_vga is None
            else ("yes: the firmware shows its screen here" if dev.boot_vga else "no"),
        )
    )
    resets = (
        None if dev.reset_methods is None else (", ".join(dev.reset_methods) or "none (no reset available)")
    )
    parts.append(_row("Reset methods", resets))
    parts.append("</table>")
    parts.append("<h4>Memory (BARs)</h4>")
    if dev.bars:
        parts.append("<ul>" + "".join(f"<li>{escape(_bar_text(b))}</li>" for b in dev.bars) + "</ul>")
    else:
        parts.append("<p><i>No BARs recorded.</i></p>")
    parts.extend(_group_section(host, dev, candidates))
    parts.extend(_verdict_section(host, dev, candidates))
    return "\n".join(parts)


def _group_section(host: HostModel, dev: PciDevice, candidates: tuple[Candidate, ...]) -> list[str]:
    if dev.iommu_group is None:
        why = "the IOMMU is off, so there are no groups" if not host.iommu.enabled else "it is in no group"
        return [f"<h4>IOMMU group</h4><p>None: {why}.</p>"]
    group = host.group(dev.iommu_group)
    members = group.devices if group is not None else (dev.address,)
    cand = _candidate_for(candidates, dev.address)
    own = set(cand.functions) if cand else {dev.address}
    blockers = set(cand.blockers) if cand else set()
    rows = []
    for address in sorted(members, key=address_key):
        member = host.device(address)
        name = device_name(member) if member else "unknown device"
        if address in own:
            role = "this device" if address == dev.address else "its function"
        elif member is not None and member.is_bridge:
            role = "bridge, never blocks"
        elif address in blockers:
            role = "blocker"
        else:
            role = device_kind(member) if member else "unknown"
        rows.append(f"<li>{escape(short_address(address))} {escape(name)} <i>({escape(role)})</i></li>")
    return [
        f"<h4>IOMMU group {dev.iommu_group}: {len(members)} member{'s' if len(members) != 1 else ''}</h4>",
        "<ul>" + "".join(rows) + "</ul>",
    ]


def _host_use_lines(uses: list[HostUse]) -> list[str]:
    """What the running host would lose: one line per use, its evidence escaped."""
    if not uses:
        return []
    rows = "".join(
        f"<li>{escape(short_address(u.address))}: {escape(u.what.value.replace('-', ' '))}"
        f" ({escape(u.detail)})</li>"
        for u in uses
    )
    return [f"<h4>Used by the host</h4><p>Passing this takes it from the running host:</p><ul>{rows}</ul>"]


def _verdict_section(host: HostModel, dev: PciDevice, candidates: tuple[Candidate, ...]) -> list[str]:
    cand = _candidate_for(candidates, dev.address)
    if cand is None:
        if dev.is_bridge:
            return ["<h4>Verdict</h4><p>A bridge: it is never passed to a VM and never blocks one.</p>"]
        return [
            "<h4>Verdict</h4><p>Not a passthrough candidate (VFIO Deck passes GPUs, network, USB, "
            "storage and audio controllers).</p>"
        ] + _host_use_lines([u for u in host.host_uses if u.address == dev.address])
    parts = ["<h4>Verdict</h4>"]
    if cand.device != dev.address:
        parts.append(
            f"<p>This is a function of {escape(short_address(cand.device))}; they go to a VM together.</p>"
        )
    parts.append(f"<p>{escape(cand.verdict)}.</p>")
    parts += _host_use_lines(list(cand.host_uses))
    if cand.companions:
        parts.append(
            f"<p>Offered with it (each in a group of its own): "
            f"{escape(', '.join(map(short_address, cand.companions)))}.</p>"
        )
    if len(cand.functions) > 1:
        parts.append(
            f"<p>Functions passed together: {escape(', '.join(map(short_address, cand.functions)))}.</p>"
        )
    binding = cand.binding
    how = (
        "vfio-pci.ids (by vendor:device id, at boot)"
        if binding.method is BindingMethod.IDS
        else "driver_override (by address)"
    )
    ids = f" for {', '.join(binding.ids)}" if binding.ids else ""
    parts.append(f"<h4>vfio binding</h4><p>{escape(how)}{escape(ids)}. {escape(binding.reason)}</p>")
    return parts


class DetailsPanel(QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setObjectName("detailsPanel")
        self.setAccessibleName("Device details")
        self.show_nothing()

    def show_nothing(self) -> None:
        self.setHtml(f"<p><i>{EMPTY_TEXT}</i></p>")

    def show_device(self, host: HostModel, address: str, candidates: tuple[Candidate, ...]) -> None:
        self.setHtml(device_details_html(host, address, candidates))
