"""Writes tests/fixtures/pci.ids: the system's pci.ids trimmed to the vendors, devices and
subsystems that the test fixtures and the demo host hold, with the file's licence header.

The tests read names through this file (see conftest.py: VFIODECK_PCI_IDS), so device names are the
same on every machine, with or without pciutils/hwdata installed. Run it again after adding a fixture:

    python tests/make_pci_ids.py [/usr/share/misc/pci.ids]
"""

from __future__ import annotations

import re
import sys
import tarfile
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
OUT = TESTS / "fixtures" / "pci.ids"
_PAIR = re.compile(r"\b([0-9a-f]{4}):([0-9a-f]{4})\b")


def _ids_in_texts() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in [*TESTS.rglob("*.txt"), *TESTS.rglob("*.py"), *TESTS.rglob("*.xml")]:
        if path == OUT:
            continue
        found.update(_PAIR.findall(path.read_text(errors="replace").lower()))
    return found


def _ids_in_tarballs() -> tuple[set[tuple[str, str]], set[tuple[str, str, str, str]]]:
    pairs: set[tuple[str, str]] = set()
    subsystems: set[tuple[str, str, str, str]] = set()
    tarballs = [*TESTS.rglob("*.tar.bz2"), *TESTS.rglob("*.tar.gz"), *REPO.glob("resources/**/*.tar.gz")]
    for tarball in tarballs:
        with tarfile.open(tarball) as tar:
            files: dict[str, dict[str, str]] = {}
            for member in tar:
                parts = member.name.split("/")
                if (
                    member.isfile()
                    and "devices" in parts
                    and parts[-1]
                    in (
                        "vendor",
                        "device",
                        "subsystem_vendor",
                        "subsystem_device",
                    )
                ):
                    fh = tar.extractfile(member)
                    if fh is not None:
                        value = fh.read().decode(errors="replace").strip().lower().removeprefix("0x")
                        files.setdefault("/".join(parts[:-1]), {})[parts[-1]] = value
        for attrs in files.values():
            vid, did = attrs.get("vendor"), attrs.get("device")
            if vid and did:
                pairs.add((vid, did))
                svid, sdid = attrs.get("subsystem_vendor"), attrs.get("subsystem_device")
                if svid and sdid:
                    subsystems.add((vid, did, svid, sdid))
    return pairs, subsystems


def trim(
    source: str,
    pairs: set[tuple[str, str]],
    subsystems: set[tuple[str, str, str, str]],
    all_subsystems_of: set[tuple[str, str]],
) -> str:
    vendors = {v for v, _ in pairs} | {s[2] for s in subsystems}
    out: list[str] = []
    lines = source.splitlines()
    header_end = next(i for i, line in enumerate(lines) if re.match(r"[0-9a-f]{4}  ", line))
    out += lines[:header_end]
    out.insert(4, "#\tTrimmed for VFIO Deck's tests to the ids its fixtures hold (tests/make_pci_ids.py).")
    vendor = device = None
    in_classes = False
    for line in lines[header_end:]:
        if line.startswith("C "):
            in_classes = True
        if in_classes:
            out.append(line)
            continue
        if not line or line.startswith("#"):
            continue
        if not line.startswith("\t"):
            vendor, device = line[:4], None
            if vendor in vendors:
                out.append(line)
        elif not line.startswith("\t\t"):
            device = line[1:5]
            if (vendor, device) in pairs:
                out.append(line)
        elif (vendor, device) in pairs:
            svid, sdid = line[2:6], line[7:11]
            if (vendor, device, svid, sdid) in subsystems or (vendor, device) in all_subsystems_of:
                out.append(line)
    return "\n".join(out) + "\n"


def main() -> None:
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/misc/pci.ids").read_text()
    pairs, subsystems = _ids_in_tarballs()
    named = _ids_in_texts()  # what tests and listings name: keep every subsystem of those
    OUT.write_text(trim(source, pairs | named, subsystems, named))
    print(f"wrote {OUT}: {len(pairs)} devices, {OUT.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
