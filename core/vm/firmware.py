"""UEFI firmware (OVMF) as QEMU's firmware descriptors describe it.

Distributions ship one JSON file per firmware build in ``usr/share/qemu/firmware/`` (QEMU's
``docs/interop/firmware.json``); the administrator may add or mask files of the same name in
``etc/qemu/firmware/``. Files are considered in name order, the number prefix being the priority.
libvirt picks among the same files for ``<os firmware='efi'>``, so this list tells the wizard
whether secure boot (and pre-enrolled Microsoft keys, for Windows 11) is available at all.

API: ``find_firmware(reader) -> list[FirmwareEntry]`` reads through the host root of ``reader``; a
file that cannot be read or parsed is a problem in ``reader.problems`` (permission denied stays
permission denied); ``pick_ovmf(entries, secure_boot=...)`` chooses as libvirt does. The readiness
check (``core.checks.ovmf``) and the pre-flight both read descriptors through here.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from typing import Any

from vfiodeck.core.host.model import ProblemKind
from vfiodeck.core.host.sysfs import Reader

SEARCH_DIRS = ("etc/qemu/firmware", "usr/share/qemu/firmware")  # first wins on a shared file name


@dataclass(frozen=True)
class FirmwareEntry:
    descriptor: str  # path of the JSON file, relative to the root
    description: str
    interfaces: tuple[str, ...]  # "uefi", "bios", ...
    device: str | None  # "flash", "memory", "kernel"
    executable: str | None
    nvram_template: str | None
    targets: tuple[tuple[str, tuple[str, ...]], ...]  # (architecture, machine globs)
    features: frozenset[str]

    @property
    def secure_boot(self) -> bool:
        return "secure-boot" in self.features

    @property
    def enrolled_keys(self) -> bool:
        return "enrolled-keys" in self.features

    @property
    def is_uefi(self) -> bool:
        return "uefi" in self.interfaces

    def supports(self, arch: str, machine: str) -> bool:
        """True when one target covers ``arch`` and ``machine`` ("q35" matches "pc-q35-*")."""
        for target_arch, globs in self.targets:
            if target_arch != arch:
                continue
            names = (machine, f"pc-{machine}-") if not machine.startswith("pc-") else (machine,)
            if any(fnmatch.fnmatchcase(n, g) for g in globs for n in names):
                return True
        return False


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _filename(mapping: dict[str, Any], key: str) -> str | None:
    part = mapping.get(key)
    name = part.get("filename") if isinstance(part, dict) else None
    return str(name) if isinstance(name, str) else None


def parse_descriptor(rel: str, data: Any) -> FirmwareEntry:
    """One descriptor's JSON (already loaded). Missing or odd fields become empty values."""
    doc = data if isinstance(data, dict) else {}
    mapping: dict[str, Any] = doc["mapping"] if isinstance(doc.get("mapping"), dict) else {}
    targets = []
    for target in doc.get("targets") or []:
        if isinstance(target, dict) and isinstance(target.get("architecture"), str):
            targets.append((str(target["architecture"]), _strings(target.get("machines"))))
    device = mapping.get("device")
    return FirmwareEntry(
        descriptor=rel,
        description=str(doc.get("description") or ""),
        interfaces=_strings(doc.get("interface-types")),
        device=device if isinstance(device, str) else None,
        executable=_filename(mapping, "executable"),
        nvram_template=_filename(mapping, "nvram-template"),
        targets=tuple(targets),
        features=frozenset(_strings(doc.get("features"))),
    )


def _descriptor_files(reader: Reader) -> list[str]:
    chosen: dict[str, str] = {}
    for rel_dir in SEARCH_DIRS:
        for name in reader.listdir(rel_dir):
            if name.endswith(".json") and name not in chosen:
                chosen[name] = f"{rel_dir}/{name}"
    return [chosen[name] for name in sorted(chosen)]


def find_firmware(reader: Reader) -> list[FirmwareEntry]:
    """Every firmware descriptor under the root, in QEMU's priority order. An empty file in ``etc/``
    masks the packaged one of the same name, as in QEMU."""
    entries: list[FirmwareEntry] = []
    for rel in _descriptor_files(reader):
        text = reader.text(rel)
        if text is None or not text.strip():
            continue  # unreadable (recorded by the reader) or a mask
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            reader.problem(rel, ProblemKind.GARBAGE, f"not JSON: {exc.msg} (line {exc.lineno})")
            continue
        if not isinstance(data, dict):
            reader.problem(rel, ProblemKind.GARBAGE, "not a firmware descriptor (no JSON object)")
            continue
        entries.append(parse_descriptor(rel, data))
    return entries


def pick_ovmf(
    entries: list[FirmwareEntry],
    *,
    secure_boot: bool,
    enrolled_keys: bool | None = None,
    arch: str = "x86_64",
    machine: str = "q35",
) -> FirmwareEntry | None:
    """The first UEFI flash build for ``arch``/``machine`` with (or without) secure boot, the way
    libvirt picks it for ``<os firmware='efi'>`` with the matching ``<feature>`` elements."""
    for entry in entries:
        if not entry.is_uefi or entry.device not in (None, "flash") or not entry.supports(arch, machine):
            continue
        if entry.secure_boot != secure_boot:
            continue
        if enrolled_keys is not None and entry.enrolled_keys != enrolled_keys:
            continue
        return entry
    return None
