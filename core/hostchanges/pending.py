"""A guided setup waiting for its reboot: kept in the user's state folder so the "reboot to finish"
banner survives restarting the app, and checked after the reboot against the running host."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.hostchanges.files import RootFiles
from vfiodeck.core.hostchanges.params import has_param, tokens


@dataclass(frozen=True)
class Pending:
    root: str  # the root's label: "/" for this computer
    address: str  # the candidate's device
    functions: tuple[str, ...]
    params: tuple[str, ...]  # kernel parameters the next boot must have
    boot_id: str | None  # the boot it was applied in
    entry: str | None  # the journal entry


def state_file() -> Path:
    from platformdirs import user_state_path

    return user_state_path("vfio-deck") / "pending-setup.json"


def save(pending: Pending, path: Path | None = None) -> None:
    target = path or state_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_suffix(".tmp")
    temp.write_text(json.dumps(asdict(pending)))
    temp.replace(target)


def load(path: Path | None = None) -> Pending | None:
    try:
        data = json.loads((path or state_file()).read_text())
        return Pending(
            root=str(data["root"]),
            address=str(data["address"]),
            functions=tuple(data["functions"]),
            params=tuple(data["params"]),
            boot_id=data.get("boot_id"),
            entry=data.get("entry"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clear(path: Path | None = None) -> None:
    (path or state_file()).unlink(missing_ok=True)


def boot_id(files: RootFiles) -> str | None:
    text = files.read("/proc/sys/kernel/random/boot_id")
    return text.strip() if text else None


def rebooted(pending: Pending, files: RootFiles) -> bool:
    now = boot_id(files)
    return now is not None and now != pending.boot_id


def verify(pending: Pending, host: HostModel) -> list[str]:
    """What is still missing after the reboot (empty: the setup is complete)."""
    problems = []
    present = tokens(host.cmdline or "")
    missing = [p for p in pending.params if not has_param(present, p)]
    if missing:
        problems.append(f"/proc/cmdline lacks {' '.join(missing)}")
    for address in pending.functions:
        dev = host.device(address)
        driver = dev.driver if dev is not None else None
        if driver != "vfio-pci":
            problems.append(f"{address} is on {driver or 'no driver'}, not vfio-pci")
    return problems
