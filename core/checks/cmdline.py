"""Kernel command line helpers: look up parameters and quote them as evidence."""

from __future__ import annotations

CMDLINE = "proc/cmdline"


def tokens(cmdline: str) -> list[str]:
    return cmdline.split()


def values(cmdline: str, key: str) -> list[str]:
    """Every value given to ``key=`` (a parameter may repeat: "iommu=pt iommu=1")."""
    prefix = key + "="
    return [tok[len(prefix) :] for tok in tokens(cmdline) if tok.startswith(prefix)]


def has_value(cmdline: str, key: str, value: str) -> bool:
    """True when ``key`` is given ``value`` (also as one item of a comma list: "iommu=on,igfx_off")."""
    return any(value in given.split(",") for given in values(cmdline, key))


def quote(cmdline: str, keys: tuple[str, ...]) -> str:
    """ "proc/cmdline: ... intel_iommu=on iommu=pt ..." with only the named parameters shown."""
    shown = [tok for tok in tokens(cmdline) if tok.split("=", 1)[0] in keys]
    if not shown:
        return f"{CMDLINE}: none of {', '.join(keys)}"
    return f"{CMDLINE}: ... {' '.join(shown)} ..."
