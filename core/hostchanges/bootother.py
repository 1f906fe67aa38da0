"""The kernel command line for the boot loaders other than plain GRUB.

- grub-bls: the default file for future kernels (bootgrub) plus grubby for the entries that exist,
  and ``/etc/kernel/cmdline`` when kernel-install reads it.
- systemd-boot: ``/etc/kernel/cmdline`` is the source kernel-install writes entries from (hand edits
  to loader/entries vanish with the next kernel); without it kernel-install copies /proc/cmdline, so
  we create it from that. Entries that no tool manages (named by hand, no machine id) are edited.
- kernelstub: only through ``kernelstub -a``, which keeps its configuration and the entry in step.
- limine: ``/etc/default/limine``'s ``KERNEL_CMDLINE[default]`` when limine-entry-tool manages
  entries, else every ``cmdline:``/``CMDLINE=`` line of limine.conf/.cfg (or the macro it uses).
- refind: the options field of every line of refind_linux.conf, else refind.conf ``options``.
- rpm-ostree: ``rpm-ostree kargs --append-if-missing``.
"""

from __future__ import annotations

import json
import re

from vfiodeck.core.hostchanges import bootgrub
from vfiodeck.core.hostchanges.bootgrub import CmdlineResult
from vfiodeck.core.hostchanges.detect import LIMINE_CONFIGS, REFIND_CONFIGS, entries_dir
from vfiodeck.core.hostchanges.files import RootFiles
from vfiodeck.core.hostchanges.model import FileChange
from vfiodeck.core.hostchanges.params import ensure_in_span, satisfied, tokens
from vfiodeck.core.hostchanges.shellvars import last_assignment

KERNEL_CMDLINE = "/etc/kernel/cmdline"
_EPHEMERAL = ("BOOT_IMAGE=", "initrd=")


def _missing(present: list[str], params: list[str]) -> list[str]:
    return [p for p in params if not satisfied(present, p)]


def _edit_spans(path: str, text: str, spans: list[tuple[int, int]], params: list[str]) -> FileChange | None:
    """Ensure ``params`` inside each span (offsets into ``text``), editing from the end backwards."""
    after = text
    for start, end in sorted(spans, reverse=True):
        after = after[:start] + ensure_in_span(after[start:end], params) + after[end:]
    return None if after == text else FileChange(path, text, after)


def plan_kernel_cmdline(files: RootFiles, params: list[str], proc_cmdline: str | None) -> CmdlineResult:
    result = CmdlineResult()
    text = files.read(KERNEL_CMDLINE)
    if text is None:
        if proc_cmdline is None:
            result.refused.append(f"{KERNEL_CMDLINE} is missing and /proc/cmdline cannot be read")
            return result
        base = " ".join(t for t in tokens(proc_cmdline) if not t.startswith(_EPHEMERAL))
        after = ensure_in_span(base, params) + "\n"
        result.changes.append(
            FileChange(KERNEL_CMDLINE, None, after, "kernel-install reads it; it copied /proc/cmdline so far")
        )
        return result
    change = _edit_spans(KERNEL_CMDLINE, text, [(0, len(text))], _missing(tokens(text), params))
    if change is not None:
        result.changes.append(change)
    return result


def _entry_option_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the ``options`` values of an entry that boots a Linux kernel (not an EFI program)."""
    if not re.search(r"^[ \t]*linux[ \t]", text, re.M):
        return []
    return [(m.start(1), m.end(1)) for m in re.finditer(r"^[ \t]*options[ \t]+(.*)$", text, re.M)]


def _machine_id(files: RootFiles) -> str | None:
    text = (files.read("/etc/machine-id") or "").strip()
    return text or None


def plan_systemd_boot(files: RootFiles, params: list[str], proc_cmdline: str | None) -> CmdlineResult:
    folder = entries_dir(files)
    machine_id = _machine_id(files)
    entries = files.listdir(folder, ".conf") if folder else []
    managed = files.exists(KERNEL_CMDLINE) or files.exists("/etc/kernel/install.conf")
    managed = managed or any(machine_id and p.rsplit("/", 1)[1].startswith(machine_id) for p in entries)
    if managed or not entries:
        result = plan_kernel_cmdline(files, params, proc_cmdline)
        if result.changes:
            proxmox = files.exists("/etc/kernel/proxmox-boot-uuids")
            result.commands.append(
                ("proxmox-boot-tool", "refresh") if proxmox else ("kernel-install", "add-all")
            )
        return result
    result = CmdlineResult()
    for path in entries:
        text = files.read(path) or ""
        spans = _entry_option_spans(text)
        present = [t for s, e in spans for t in tokens(text[s:e])]
        change = _edit_spans(path, text, spans, _missing(present, params)) if spans else None
        if change is not None:
            result.changes.append(change)
    return result


def plan_grub_bls(files: RootFiles, params: list[str], proc_cmdline: str | None) -> CmdlineResult:
    result = bootgrub.plan_grub(files, params, bls=True)
    if files.exists(KERNEL_CMDLINE):
        extra = plan_kernel_cmdline(files, params, proc_cmdline)
        result.changes += extra.changes
        result.refused += extra.refused
    existing = _bls_tokens(files)
    todo = _missing(existing, params) if existing is not None else params
    if todo:
        result.commands.append(("grubby", "--update-kernel=ALL", f"--args={' '.join(todo)}"))
    return result


def _bls_tokens(files: RootFiles) -> list[str] | None:
    """The parameters every existing BLS entry has (their literal options or grubenv's kernelopts)."""
    folder = entries_dir(files)
    paths = files.listdir(folder, ".conf") if folder else []
    if not paths:
        return None
    env = files.read("/boot/grub2/grubenv") or ""
    kernelopts = re.search(r"^kernelopts=(.*)$", env, re.M)
    common: set[str] | None = None
    for path in paths:
        text = files.read(path) or ""
        line = " ".join(text[s:e] for s, e in _entry_option_spans(text))
        if "$kernelopts" in line:
            line = line.replace("$kernelopts", kernelopts.group(1) if kernelopts else "")
        found = set(tokens(line))
        common = found if common is None else common & found
    return sorted(common or set())


def plan_kernelstub(files: RootFiles, params: list[str]) -> CmdlineResult:
    result = CmdlineResult()
    try:
        config = json.loads(files.read("/etc/kernelstub/configuration") or "")
    except ValueError:
        result.refused.append("/etc/kernelstub/configuration is not valid JSON")
        return result
    section = config.get("user") or config.get("default") or {}
    options = section.get("kernel_options", [])
    present = options.split() if isinstance(options, str) else [str(o) for o in options]
    todo = _missing(present, params)
    if todo:
        result.commands.append(("kernelstub", "-a", " ".join(todo)))
    return result


_LIMINE_LINE = re.compile(r"^[ \t]*(?:cmdline|kernel_cmdline)[ \t]*[:=][ \t]*(.*?)[ \t]*$", re.M | re.I)
_MACRO_USE = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def plan_limine(files: RootFiles, params: list[str]) -> CmdlineResult:
    result = CmdlineResult()
    text = files.read("/etc/default/limine")
    if text is not None:
        name = "KERNEL_CMDLINE[default]"
        found = last_assignment(text, name)
        if found is None:
            sep = "" if text.endswith("\n") or not text else "\n"
            after = f'{text}{sep}{name}+="{" ".join(params)}"\n'
            result.changes.append(FileChange("/etc/default/limine", text, after))
        elif found.quote in ('"', "'"):
            start, end = found.inner(text)
            change = _edit_spans("/etc/default/limine", text, [(start, end)], params)
            result.changes += [change] if change else []
        else:
            result.refused.append(f"/etc/default/limine: {name} is not one quoted value")
        if result.changes:
            result.commands.append(("limine-update",))
        return result
    for path in LIMINE_CONFIGS:
        conf = files.read(path)
        if conf is None:
            continue
        change = _edit_spans(path, conf, _limine_spans(conf), params)
        result.changes += [change] if change else []
    return result


def _limine_spans(conf: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for match in _LIMINE_LINE.finditer(conf):
        macros = _MACRO_USE.findall(match.group(1))
        if not macros:
            spans.append(match.span(1))
            continue
        for macro in macros:  # the value lives in the macro's definition: edit it once there
            definition = re.search(rf"^[ \t]*\$\{{{macro}\}}[ \t]*=(.*?)[ \t]*$", conf, re.M)
            if definition and definition.span(1) not in spans:
                spans.append(definition.span(1))
    return spans


_REFIND_LINE = re.compile(r'^[ \t]*"[^"\n]*"[ \t]+"([^"\n]*)"', re.M)
_REFIND_OPTIONS = re.compile(r'^[ \t]*options[ \t]+"([^"\n]*)"')


def _refind_stanza_spans(text: str) -> list[tuple[int, int]]:
    """The ``options`` values of the enabled menuentry stanzas that boot a Linux kernel (one with an
    initrd or a vmlinuz loader); a stanza with ``disabled`` at its own level is skipped."""
    spans: list[tuple[int, int]] = []
    depth, offset = 0, 0
    block: list[tuple[int, str]] = []
    for line in text.splitlines(keepends=True):
        stripped = line.split("#", 1)[0].strip()
        if depth == 0 and stripped.startswith("menuentry"):
            block = []
        if depth >= 1:
            block.append((offset, line) if depth == 1 else (offset, ""))
        depth += stripped.count("{") - stripped.count("}")
        if depth == 0 and block:
            spans += _stanza_options(block)
            block = []
        offset += len(line)
    return spans


def _stanza_options(block: list[tuple[int, str]]) -> list[tuple[int, int]]:
    words = [line.split("#", 1)[0].split() for _, line in block]
    keys = [w[0].lower() for w in words if w]
    loader = " ".join(w[1] for w in words if len(w) > 1 and w[0].lower() == "loader").lower()
    if "disabled" in keys or not ("initrd" in keys or "vmlinuz" in loader or "bzimage" in loader):
        return []
    found = []
    for offset, line in block:
        match = _REFIND_OPTIONS.match(line)
        if match:
            found.append((offset + match.start(1), offset + match.end(1)))
    return found


def plan_refind(files: RootFiles, params: list[str]) -> CmdlineResult:
    result = CmdlineResult()
    candidates = [("/boot/refind_linux.conf", None), *((p, _refind_stanza_spans) for p in REFIND_CONFIGS)]
    for path, finder in candidates:
        text = files.read(path)
        if text is None:
            continue
        spans = [m.span(1) for m in _REFIND_LINE.finditer(text)] if finder is None else finder(text)
        if not spans:
            continue
        change = _edit_spans(path, text, spans, params)
        result.changes += [change] if change else []
        return result
    result.refused.append(
        "rEFInd: no refind_linux.conf line or enabled Linux stanza to add the parameters to"
    )
    return result


def plan_rpm_ostree(params: list[str], proc_cmdline: str | None) -> CmdlineResult:
    result = CmdlineResult()
    todo = _missing(tokens(proc_cmdline or ""), params)
    if todo:
        result.commands.append(("rpm-ostree", "kargs", *(f"--append-if-missing={p}" for p in todo)))
    return result
