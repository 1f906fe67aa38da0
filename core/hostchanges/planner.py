"""One plan from a root and the user's choices: IOMMU parameters, vfio-pci binding at boot, the
initramfs; or, with ``at="now"``, the runtime binding steps. Pure: reads files, writes nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.hostchanges import bootgrub, bootother, initramfs, modprobe, sriov
from vfiodeck.core.hostchanges.binding import Target, normalise, resolve
from vfiodeck.core.hostchanges.bootgrub import CmdlineResult
from vfiodeck.core.hostchanges.detect import detect_bootloader, detect_initramfs
from vfiodeck.core.hostchanges.files import RootFiles
from vfiodeck.core.hostchanges.model import Detected, FileChange, Plan, Refusal
from vfiodeck.core.hostchanges.params import key_of, tokens, values_of


@dataclass(frozen=True)
class Request:
    iommu: bool = False
    bind: tuple[str, ...] = ()
    unbind: tuple[str, ...] = ()
    at: str = "boot"
    confirm_host_use: tuple[str, ...] = ()  # addresses the user confirmed the running host may lose
    vfs: tuple[str, ...] = ()  # "ADDR=N": SR-IOV virtual functions to create


def kernel_release(files: RootFiles) -> tuple[int, int] | None:
    text = files.read("/proc/sys/kernel/osrelease") or ""
    match = re.match(r"(\d+)\.(\d+)", text.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def iommu_params(files: RootFiles, host: HostModel) -> list[str]:
    """``intel_iommu=on`` where the kernel does not turn the Intel IOMMU on by itself, and ``iommu=pt``."""
    params = []
    vendor = host.cpu.vendor
    if vendor is None:
        found = re.search(r"^vendor_id\s*:\s*(\S+)", files.read("/proc/cpuinfo") or "", re.M)
        vendor = found.group(1) if found else None
    if vendor == "GenuineIntel":
        release = (files.read("/proc/sys/kernel/osrelease") or "").strip()
        config = files.read(f"/boot/config-{release}") if release else None
        if not (config and re.search(r"^CONFIG_INTEL_IOMMU_DEFAULT_ON=y$", config, re.M)):
            params.append("intel_iommu=on")
    params.append("iommu=pt")
    return params


def cmdline_tokens(files: RootFiles, boot: Detected) -> list[str]:
    """The parameters the next boot gets today, as far as the configuration says."""
    if boot.kind == "grub":
        return bootgrub.current_tokens(files) or []
    for path in ("/etc/kernel/cmdline",):
        text = files.read(path)
        if text is not None and boot.kind in ("systemd-boot", "grub-bls"):
            return tokens(text)
    return tokens(files.read("/proc/cmdline") or "")


def plan_cmdline(files: RootFiles, boot: Detected, params: list[str]) -> CmdlineResult:
    proc = files.read("/proc/cmdline")
    if boot.kind == "grub":
        return bootgrub.plan_grub(files, params, bls=False)
    if boot.kind == "grub-bls":
        return bootother.plan_grub_bls(files, params, proc)
    if boot.kind == "systemd-boot":
        return bootother.plan_systemd_boot(files, params, proc)
    if boot.kind == "kernelstub":
        return bootother.plan_kernelstub(files, params)
    if boot.kind == "limine":
        return bootother.plan_limine(files, params)
    if boot.kind == "refind":
        return bootother.plan_refind(files, params)
    if boot.kind == "rpm-ostree":
        return bootother.plan_rpm_ostree(params, proc)
    return CmdlineResult(refused=[boot.note or "the boot loader is unknown"])


def _binding(
    files: RootFiles, bind: list[Target], unbind: list[Target]
) -> tuple[modprobe.BindState, list[FileChange], list[str], str | None]:
    """The new state of our modprobe.d file, the other files' ids merged into it, and the text before."""
    before = files.read(modprobe.OURS)
    state = modprobe.read_state(before)
    foreign = modprobe.take_foreign_ids(files)
    state.ids += [i for i in foreign.ids if i not in state.ids]
    for target in unbind:
        state.ids = [i for i in state.ids if i not in target.ids]
        state.addresses = [a for a in state.addresses if a not in target.functions]
    for target in bind:
        if target.by_address:
            state.addresses += [a for a in target.functions if a not in state.addresses]
        else:
            state.ids += [i for i in target.ids if i not in state.ids]
        state.softdeps += [d for d in target.drivers if d not in state.softdeps]
    if not state.ids and not state.addresses:
        state.softdeps = []
    return state, foreign.changes, foreign.refused, before


def make_plan(root_label: str, files: RootFiles, host: HostModel, request: Request, *, live: bool) -> Plan:
    boot = detect_bootloader(files)
    init = detect_initramfs(files)
    refused: list[Refusal] = []
    if request.at == "now" and not host.iommu.enabled:
        from vfiodeck.core.hostchanges.runtime import NO_IOMMU

        refused += [Refusal(normalise(a) or a, NO_IOMMU) for a in request.bind]
        request = Request(request.iommu, (), request.unbind, request.at, request.confirm_host_use)
    targets: list[tuple[bool, Target]] = []
    for binding, addresses in ((True, request.bind), (False, request.unbind)):
        for address in addresses:
            found = resolve(host, address, request.confirm_host_use)
            if isinstance(found, Refusal):
                # giving a device back never needs its group to be clean
                if binding or "IOMMU group" not in found.reason:
                    refused.append(found)
            else:
                targets.append((binding, found))
    vf_changes, vf_commands, vf_refused = sriov.plan_vfs(files, list(request.vfs), now=request.at == "now")
    refused += vf_refused
    if request.at == "now":
        from vfiodeck.core.hostchanges.runtime import plan_now

        now: Plan = plan_now(root_label, files, host, boot, init, targets, refused, live=live)
        if not now.refused and vf_commands:
            now = Plan(now.root, boot, init, commands=tuple(vf_commands) + now.commands)
        return now
    params = iommu_params(files, host) if request.iommu else []
    part = _plan_binding(files, boot, init, targets) if targets else _Part()
    params += part.params
    refused += part.refused
    if files.exists("/etc/NIXOS"):
        refused.append(Refusal(None, nixos_snippet(params, part)))
        return Plan(root_label, boot, init, refused=tuple(refused))
    changes, commands = part.changes + vf_changes, part.commands
    if params and boot.kind == "unknown":
        refused.append(Refusal(None, f"boot loader: {boot.note}; nothing is guessed"))
        return Plan(root_label, boot, init, refused=tuple(refused))
    if params:
        boot_result = plan_cmdline(files, boot, params)
        refused += [Refusal(None, r) for r in boot_result.refused]
        changes = boot_result.changes + changes
        commands = boot_result.commands + commands
    return Plan(
        root=root_label,
        bootloader=boot,
        initramfs=init,
        changes=tuple(changes),
        commands=tuple(dict.fromkeys(commands)),
        reboot=bool(changes or commands),
        refused=tuple(refused),
        notes=tuple(part.notes),
    )


@dataclass
class _Part:
    changes: list[FileChange] = field(default_factory=list)
    commands: list[tuple[str, ...]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    state: modprobe.BindState | None = None


def _plan_binding(
    files: RootFiles, boot: Detected, init: Detected | None, targets: list[tuple[bool, Target]]
) -> _Part:
    part = _Part()
    bind = [t for b, t in targets if b]
    unbind = [t for b, t in targets if not b]
    state, foreign_changes, foreign_refused, before = _binding(files, bind, unbind)
    part.state = state
    part.refused += [Refusal(None, r) for r in foreign_refused]
    after = state.render()
    part.changes += foreign_changes
    if after != before:
        part.changes.append(FileChange(modprobe.OURS, before, after, "vfio-pci binding at boot"))
    part.notes += [f"{t.address}: {t.why}" for t in bind]
    on_cmdline = [t for t in cmdline_tokens(files, boot) if key_of(t) == "vfio_pci.ids"]
    if on_cmdline:  # the command line's ids are applied after modprobe.d's: keep the two in step
        merged = [i for i in values_of(on_cmdline[-1]) if i]
        for target in unbind:
            merged = [i for i in merged if i not in target.ids]
        merged += [i for i in state.ids if i not in merged]
        part.params.append(f"{on_cmdline[-1].split('=', 1)[0]}={','.join(merged)}")
    if bind:
        init_result = _initramfs(files, init)
        part.refused += [Refusal(None, r) for r in init_result.refused]
        part.notes += init_result.notes
        part.changes += init_result.changes
        part.commands += init_result.commands
    return part


def nixos_snippet(params: list[str], part: _Part) -> str:
    """NixOS builds /etc and the boot entries from its configuration: never edit, say what to add."""
    lines = ["NixOS: nothing is edited; add this to configuration.nix and run nixos-rebuild boot:"]
    if params:
        lines.append("boot.kernelParams = [ " + " ".join(f'"{p}"' for p in params) + " ];")
    state = part.state
    if state is not None and (state.ids or state.addresses):
        lines.append('boot.initrd.kernelModules = [ "vfio_pci" "vfio" "vfio_iommu_type1" ];')
        rendered = "\\n".join(
            line for line in (state.render() or "").splitlines() if not line.startswith("#")
        )
        lines.append(f'boot.extraModprobeConfig = "{rendered}";')
    return " ".join(lines)


def _initramfs(files: RootFiles, init: Detected | None) -> CmdlineResult:
    if init is None:
        return CmdlineResult()
    if init.kind == "unknown":
        return CmdlineResult(refused=[f"initramfs: {init.note}"])
    wanted = initramfs.vfio_modules(kernel_release(files))
    return initramfs.plan_initramfs(files, init.kind, wanted)
