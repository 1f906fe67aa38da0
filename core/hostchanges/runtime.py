"""Binding the running host now (``--at now``): driver_override first (so a stray probe can only
land on vfio-pci), unbind, drivers_probe, wait until bound, and put the original driver back on any
failure. Refused where the unbind could block forever (a process holds /dev/nvidia* or the card's
/dev/dri node) or where there is no IOMMU to isolate the device."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.hostchanges.binding import Target
from vfiodeck.core.hostchanges.files import RootFiles
from vfiodeck.core.hostchanges.model import Detected, Plan, Refusal

NO_IOMMU = (
    "no IOMMU: the kernel lists no IOMMU groups, so vfio-pci cannot isolate the device "
    "(turn VT-d/AMD-Vi on in the firmware and add the IOMMU parameters: vfio-deck plan --iommu)"
)
HELPER = "vfio-deck-helper"


def holders(sysfs_device: Path, proc: Path = Path("/proc")) -> list[str]:
    """ "name (pid)" of every process holding /dev/nvidia* or one of this card's /dev/dri nodes."""
    nodes = {
        f"/dev/dri/{p.name}"
        for p in (sysfs_device / "drm").glob("*")
        if p.name.startswith(("card", "renderD"))
    }
    found = []
    pids = (
        sorted((p for p in proc.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
        if proc.is_dir()
        else []
    )
    for pid in pids:
        try:
            targets = {os.readlink(fd) for fd in (pid / "fd").iterdir()}
        except OSError:
            continue
        if any(t in nodes or re.match(r"/dev/nvidia", t) for t in targets):
            try:
                name = (pid / "comm").read_text().strip()
            except OSError:
                name = "?"
            found.append(f"{name} ({pid.name})")
    return found


def plan_now(
    root_label: str,
    files: RootFiles,
    host: HostModel,
    boot: Detected,
    init: Detected | None,
    targets: list[tuple[bool, Target]],
    refused: list[Refusal],
    *,
    live: bool,
) -> Plan:
    commands: list[tuple[str, ...]] = []
    if not live:
        refused.append(Refusal(None, "--at now changes the running host: only with --root /"))
    for bind, target in targets:
        if bind and not host.iommu.enabled:
            refused.append(Refusal(target.address, NO_IOMMU))
            continue
        busy = [h for a in target.functions for h in holders(files.host_path(f"/sys/bus/pci/devices/{a}"))]
        if bind and busy:
            refused.append(
                Refusal(
                    target.address, f"in use by {', '.join(busy)}: unbinding now could hang; close them first"
                )
            )
            continue
        commands += [(HELPER, "bind" if bind else "unbind", a) for a in target.functions]
    return Plan(
        root_label, boot, init, commands=tuple(commands) if not refused else (), refused=tuple(refused)
    )


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _driver(device: Path) -> str | None:
    link = device / "driver"
    return os.path.basename(os.readlink(link)) if link.is_symlink() else None


def bind_now(sysfs: Path, address: str, *, timeout: float = 10.0) -> None:
    """Move ``address`` to vfio-pci; on any failure give it back to the driver it had."""
    device = sysfs / "bus/pci/devices" / address
    original = _driver(device)
    if original == "vfio-pci":
        return
    try:
        _write(device / "driver_override", "vfio-pci")
        if original is not None:
            _write(device / "driver" / "unbind", address)
        _write(sysfs / "bus/pci/drivers_probe", address)
        deadline = time.monotonic() + timeout
        while _driver(device) != "vfio-pci":
            if time.monotonic() > deadline:
                raise OSError(f"{address} did not bind to vfio-pci within {timeout:.0f} s")
            time.sleep(0.1)
    except OSError:
        give_back(sysfs, address, original)
        raise


def give_back(sysfs: Path, address: str, driver: str | None = None) -> None:
    """Clear the override (a lone newline) and let the kernel pick the driver again."""
    device = sysfs / "bus/pci/devices" / address
    _write(device / "driver_override", "\n")
    if _driver(device) is not None:
        _write(device / "driver" / "unbind", address)
    if driver:
        try:
            _write(sysfs / "bus/pci/drivers" / driver / "bind", address)
            return
        except OSError:
            pass
    _write(sysfs / "bus/pci/drivers_probe", address)
