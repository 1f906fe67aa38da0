"""Which rows of the group map a kind filter and a search show: plain lists, one pass, no Qt.

The tree model filters itself with these rather than through a QSortFilterProxyModel, which
called back into Python for every row and its parents (0.5 s a keystroke at 1000 devices).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from vfiodeck.core.host.model import PciDevice
from vfiodeck.core.text import device_name


class Node(Protocol):
    parent: int  # -1 for a group row
    children: list[int]
    kind: str


def search_text(dev: PciDevice) -> str:
    """Lowercase text the search box matches: address, ids, names, driver."""
    parts = (
        dev.address,
        dev.ids,
        dev.vendor_name,
        dev.device_name,
        dev.class_name,
        dev.subsystem_name,
        dev.driver,
        device_name(dev),
    )
    return " ".join(p for p in parts if p).lower()


def matching(words: tuple[str, ...], pool: Iterable[int], text: Callable[[int], str]) -> set[int] | None:
    """The nodes of ``pool`` whose text holds every word; None when there are no words."""
    if not words:
        return None
    return {n for n in pool if all(w in text(n) for w in words)}


def narrows(new: tuple[str, ...], old: tuple[str, ...]) -> bool:
    """True when whatever matches ``new`` also matches ``old`` (typing on), so only the old
    matches need looking at."""
    return all(any(o in n for n in new) for o in old)


def shown(
    nodes: Sequence[Node],
    top: Sequence[int],
    devices: Iterable[int],
    kinds: frozenset[str] | None,
    matches: set[int] | None,
) -> tuple[list[int], dict[int, list[int]]]:
    """The group rows shown and each node's children shown: the devices that match, the rows
    above them (their group, the function they hang below) and every function tied below a
    match. A group row never matches by itself."""
    accepted = [
        n for n in (matches if matches is not None else devices) if kinds is None or nodes[n].kind in kinds
    ]
    seen: set[int] = set()
    for n in accepted:
        p = n
        while p >= 0 and p not in seen:
            seen.add(p)
            p = nodes[p].parent
    stack = [c for n in accepted for c in nodes[n].children]
    while stack:
        c = stack.pop()
        seen.add(c)
        stack.extend(nodes[c].children)
    kids: dict[int, list[int]] = {}
    for n in seen:
        below = [c for c in nodes[n].children if c in seen]
        if below:
            kids[n] = below
    return [t for t in top if t in seen], kids
