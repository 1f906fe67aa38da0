"""vfio-pci in the initramfs, loaded before any GPU driver, for each initramfs tool.

- mkinitcpio: ``MODULES`` as the main file *and* ``/etc/mkinitcpio.conf.d/*.conf`` leave it (a
  drop-in may assign it outright; the old string syntax works too); ours puts the vfio modules first.
- dracut: ``force_drivers+=" ... "`` in our own drop-in (force_drivers loads them, add_drivers only
  includes them); never vfio_virqfd on kernels from 6.2, where it was folded into vfio.
- initramfs-tools: lines of ``/etc/initramfs-tools/modules``, loaded in order: ours go before the
  first GPU driver listed there.
- booster: ``modules_force_load`` in ``/etc/booster.yaml``, without which booster ignores vfio-pci.ids.
"""

from __future__ import annotations

import re

from vfiodeck.core.hostchanges.bootgrub import CmdlineResult
from vfiodeck.core.hostchanges.files import RootFiles
from vfiodeck.core.hostchanges.model import FileChange
from vfiodeck.core.hostchanges.shellvars import Value, as_words, evaluate

GPU_DRIVERS = frozenset(
    {"amdgpu", "radeon", "nouveau", "nvidia", "nvidia_drm", "nvidia_modeset", "i915", "xe"}
)
MKINITCPIO_DROPIN = "/etc/mkinitcpio.conf.d/vfio-deck.conf"
DRACUT_DROPIN = "/etc/dracut.conf.d/vfio-deck.conf"
ITOOLS_MODULES = "/etc/initramfs-tools/modules"
BOOSTER = "/etc/booster.yaml"
REGENERATE = {
    "mkinitcpio": ("mkinitcpio", "-P"),
    "dracut": ("dracut", "--regenerate-all", "--force"),
    "initramfs-tools": ("update-initramfs", "-u", "-k", "all"),
    "booster": ("/usr/lib/booster/regenerate_images",),
}
_HEADER = "# Written by VFIO Deck (vfio-deck undo removes it): vfio-pci before the GPU drivers.\n"


def vfio_modules(kernel: tuple[int, int] | None) -> list[str]:
    """The modules to load early; vfio_virqfd only for a kernel known to be older than 6.2."""
    base = ["vfio_pci", "vfio", "vfio_iommu_type1"]
    return base + ["vfio_virqfd"] if kernel is not None and kernel < (6, 2) else base


def norm(module: str) -> str:
    return module.replace("-", "_")


def in_order(modules: list[str], wanted: list[str]) -> bool:
    """Every wanted module is listed, and before the first GPU driver."""
    names = [norm(m) for m in modules]
    gpu_at = next((i for i, n in enumerate(names) if n in GPU_DRIVERS), len(names))
    return all(w in names and names.index(w) < gpu_at for w in wanted)


def _sourced(files: RootFiles, main: str, folder: str, skip: str) -> dict[str, Value]:
    env = evaluate(files.read(main) or "")
    for path in files.listdir(folder, ".conf"):
        if path != skip:
            env = evaluate(files.read(path) or "", env)
    return env


def plan_initramfs(files: RootFiles, kind: str, wanted: list[str]) -> CmdlineResult:
    planner = {
        "mkinitcpio": _mkinitcpio,
        "dracut": _dracut,
        "initramfs-tools": _initramfs_tools,
        "booster": _booster,
    }[kind]
    result = planner(files, wanted)
    if result.changes:
        result.commands.append(REGENERATE[kind])
    return result


def _mkinitcpio(files: RootFiles, wanted: list[str]) -> CmdlineResult:
    result = CmdlineResult()
    effective = as_words(
        _sourced(files, "/etc/mkinitcpio.conf", "/etc/mkinitcpio.conf.d", "").get("MODULES", "")
    )
    if effective is None:
        result.refused.append("mkinitcpio: MODULES is built with a command; add vfio_pci by hand")
        return result
    hooks = as_words(_sourced(files, "/etc/mkinitcpio.conf", "/etc/mkinitcpio.conf.d", "").get("HOOKS", ""))
    if hooks is not None and "modconf" not in hooks:
        result.notes.append(
            "mkinitcpio: HOOKS has no modconf, so modprobe.d (vfio-pci's ids or addresses) is not in the "
            "initramfs; add modconf to HOOKS if a GPU driver is loaded from the initramfs"
        )
    if in_order(effective, wanted):
        return result
    later = [
        p
        for p in files.listdir("/etc/mkinitcpio.conf.d", ".conf")
        if p > MKINITCPIO_DROPIN and re.search(r"^[ \t]*MODULES=", files.read(p) or "", re.M)
    ]
    if later:
        result.refused.append(f"{later[-1]} sets MODULES after {MKINITCPIO_DROPIN}; add vfio_pci first there")
        return result
    before = files.read(MKINITCPIO_DROPIN)
    after = f"{_HEADER}MODULES=({' '.join(wanted)} ${{MODULES[@]}})\n"
    if before == after:  # ours is there, yet an earlier list puts a GPU driver first: nothing we can add
        result.refused.append("mkinitcpio: a GPU driver stays ahead of vfio_pci in MODULES")
        return result
    result.changes.append(
        FileChange(MKINITCPIO_DROPIN, before, after, "mkinitcpio sources mkinitcpio.conf.d last")
    )
    return result


def _dracut(files: RootFiles, wanted: list[str]) -> CmdlineResult:
    result = CmdlineResult()
    env = _sourced(files, "/etc/dracut.conf", "/etc/dracut.conf.d", DRACUT_DROPIN)
    forced = {norm(m) for m in as_words(env.get("force_drivers", "")) or []}
    before = files.read(DRACUT_DROPIN)
    todo = [m for m in wanted if m not in forced]
    if before is not None:  # keep what ours already forces
        ours = as_words(evaluate(before).get("force_drivers", "")) or []
        todo = [m for m in ours if m not in todo] + todo
        if set(map(norm, ours)) >= {m for m in wanted if m not in forced}:
            return result
    if not todo:
        return result
    after = f'{_HEADER}force_drivers+=" {" ".join(todo)} "\n'
    result.changes.append(FileChange(DRACUT_DROPIN, before, after, "dracut reads dracut.conf.d"))
    return result


def _module_lines(text: str) -> list[tuple[int, str]]:
    """(offset of the line, module name) for each live line of a modules file."""
    found = []
    offset = 0
    for line in text.splitlines(keepends=True):
        words = line.split("#", 1)[0].split()
        if words and words[0] not in ("options", "softdep", "alias", "install"):
            found.append((offset, norm(words[0])))
        offset += len(line)
    return found


def _initramfs_tools(files: RootFiles, wanted: list[str]) -> CmdlineResult:
    result = CmdlineResult()
    text = files.read(ITOOLS_MODULES)
    lines = _module_lines(text or "")
    names = [n for _, n in lines]
    if in_order(names, wanted):
        return result
    gpu_index = next((i for i, n in enumerate(names) if n in GPU_DRIVERS), None)
    gpu = lines[gpu_index][0] if gpu_index is not None else None
    ahead = names[:gpu_index] if gpu_index is not None else names
    todo = [w for w in wanted if w not in ahead]
    block = "".join(f"{m}\n" for m in todo)
    base = text or ""
    if gpu is None:
        sep = "" if base.endswith("\n") or not base else "\n"
        after = base + sep + block
    else:
        after = base[:gpu] + block + base[gpu:]
    result.changes.append(FileChange(ITOOLS_MODULES, text, after, "loaded in the order listed"))
    return result


_FORCE = re.compile(r"^modules_force_load:[ \t]*(.*?)[ \t]*$", re.M)


def _booster(files: RootFiles, wanted: list[str]) -> CmdlineResult:
    result = CmdlineResult()
    text = files.read(BOOSTER) or ""
    match = _FORCE.search(text)
    listed = [norm(m.strip()) for m in match.group(1).split(",") if m.strip()] if match else []
    todo = [m for m in wanted if m not in listed]
    if not todo:
        return result
    if match is None:
        sep = "" if text.endswith("\n") or not text else "\n"
        after = f"{text}{sep}modules_force_load: {','.join(todo)}\n"
    else:
        end = match.end(1)
        joined = ",".join(todo)
        after = text[:end] + ("," if match.group(1) else "") + joined + text[end:]
    result.changes.append(FileChange(BOOSTER, files.read(BOOSTER), after, "booster loads these before udev"))
    return result
