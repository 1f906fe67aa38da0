"""Domain definitions changed by VFIO Deck, kept across restarts, each apply and undo a compare-and-swap.

API (blocking: libvirt calls and a small JSON file; run on a worker):
- ``apply_define(hv, name, expected_inactive_xml, new_xml, *, host, what="", history=None)
  -> HistoryEntry``: re-read ``name``'s inactive XML and define ``new_xml`` only when it is still
  ``expected_inactive_xml`` (what the preview was computed from; None: the VM must not exist yet).
  Otherwise raise ``DefinitionChangedError`` whose ``diff`` shows what changed meanwhile (an edit in
  virt-manager or ``virsh edit``). The entry is recorded in ``history`` (default: ``History()``).
- ``XmlChange(vm, old_xml, new_xml, addresses)``: a definition before/after an edit, with ``diff``.
- ``check_unchanged(hv, name, expected, doing)``: the compare half alone (hot-plug, delete use it);
  ``record(hv, name, before, host=, what=, history=)`` the history half.
- ``undo(hv, entry, *, history=None)``: the same check against the definition the apply left, then
  define ``entry.before`` again (or undefine a VM the apply created), and drop the entry.
- ``History(path=None)``: the persistent list under the XDG state dir
  (``platformdirs.user_state_path("vfio-deck") / "definitions.json"``). ``entries(uri, host)`` and
  ``last(uri, host)`` only see entries of that connection URI *and* host, so an undo never crosses to
  another host; ``host`` is what the window shows (``HostModel.source``).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import platformdirs

from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.domainxml import diff
from vfiodeck.core.vm.errors import DomainNotFoundError, VmError

MAX_ENTRIES = 200  # oldest dropped first; each holds two definitions of a few KiB


class DefinitionChangedError(VmError):
    """The definition is not what the preview showed: nothing was defined. ``diff`` says what changed."""

    def __init__(self, message: str, diff_text: str) -> None:
        super().__init__(message, detail=diff_text)
        self.diff = diff_text


@dataclass(frozen=True)
class XmlChange:
    """One domain definition before and after an edit: what the user confirms and undo restores."""

    vm: str
    old_xml: str
    new_xml: str
    addresses: tuple[str, ...] = ()  # the hostdevs added (or removed), when the change is about devices

    @property
    def before(self) -> str:
        return self.old_xml

    @property
    def after(self) -> str:
        return self.new_xml

    @property
    def diff(self) -> str:
        return diff(self.old_xml, self.new_xml, f"{self.vm}.xml")

    @property
    def changes(self) -> bool:
        return self.old_xml != self.new_xml


@dataclass(frozen=True)
class HistoryEntry:
    id: str
    uri: str
    host: str
    vm: str
    what: str  # "Assign GeForce GTX 1080 (08:00.0) to win11", for the Undo button's tooltip
    before: str | None  # the inactive definition before the change; None: the change created the VM
    after: str  # the inactive definition libvirt reported right after the change
    at: float  # seconds since the epoch

    @property
    def diff(self) -> str:
        return diff(self.before or "", self.after, f"{self.vm}.xml")


def default_path() -> Path:
    return platformdirs.user_state_path("vfio-deck") / "definitions.json"


class History:
    """The persistent entries, oldest first. Safe to share between threads of one process."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_path()
        self._lock = threading.Lock()

    def _load(self) -> list[HistoryEntry]:
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as err:
            raise VmError(f"Can't read the definition history {self.path}: {err}") from err
        entries = data.get("entries", []) if isinstance(data, dict) else []
        try:
            return [HistoryEntry(**e) for e in entries]
        except TypeError as err:
            raise VmError(f"The definition history {self.path} is damaged: {err}") from err

    def _save(self, entries: list[HistoryEntry]) -> None:
        """Written whole to a temporary file and renamed over the old one: never half-written."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"schema": 1, "entries": [asdict(e) for e in entries[-MAX_ENTRIES:]]}, indent=1)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".definitions-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError:
            os.unlink(tmp)
            raise

    def entries(self, uri: str, host: str) -> list[HistoryEntry]:
        with self._lock:
            return [e for e in self._load() if e.uri == uri and e.host == host]

    def last(self, uri: str, host: str) -> HistoryEntry | None:
        found = self.entries(uri, host)
        return found[-1] if found else None

    def record(self, entry: HistoryEntry) -> None:
        with self._lock:
            self._save([*self._load(), entry])

    def drop(self, entry: HistoryEntry) -> None:
        with self._lock:
            self._save([e for e in self._load() if e.id != entry.id])


def _current(hv: Hypervisor, name: str) -> str | None:
    try:
        return hv.inactive_xml(name)
    except DomainNotFoundError:
        return None


def check_unchanged(hv: Hypervisor, name: str, expected: str | None, doing: str = "changed") -> None:
    """Raise ``DefinitionChangedError`` (with the diff) unless ``name``'s inactive XML is still
    ``expected`` (None: the VM must not exist). ``doing`` completes "nothing was ...". Blocking."""
    _check(name, expected, _current(hv, name), doing)


def _check(name: str, expected: str | None, current: str | None, doing: str) -> None:
    if current == expected:
        return
    if current is None:
        raise DefinitionChangedError(f"“{name}” was removed since the preview: nothing was {doing}.", "")
    text = diff(expected or "", current, f"{name}.xml")
    raise DefinitionChangedError(
        f"“{name}” was changed outside VFIO Deck since the preview (virt-manager, virsh edit): nothing "
        f"was {doing}. Look at the change, then try again.",
        text,
    )


def record(
    hv: Hypervisor, name: str, before: str | None, *, host: str, what: str, history: History | None
) -> HistoryEntry:
    """Record the change just made to ``name`` (its definition now is the entry's ``after``)."""
    entry = HistoryEntry(
        id=uuid.uuid4().hex,
        uri=hv.uri,
        host=host,
        vm=name,
        what=what or f"Change {name}",
        before=before,
        after=hv.inactive_xml(name),
        at=time.time(),
    )
    (history or History()).record(entry)
    return entry


def apply_define(
    hv: Hypervisor,
    name: str,
    expected_inactive_xml: str | None,
    new_xml: str,
    *,
    host: str,
    what: str = "",
    history: History | None = None,
) -> HistoryEntry:
    """Define ``new_xml`` if ``name`` is still ``expected_inactive_xml``; record it for undo."""
    _check(name, expected_inactive_xml, _current(hv, name), "defined")
    hv.define(new_xml)
    return record(hv, name, expected_inactive_xml, host=host, what=what, history=history)


def undo(hv: Hypervisor, entry: HistoryEntry, *, history: History | None = None) -> None:
    """Restore ``entry.before`` if ``entry.vm`` is still what the change left; then forget the entry."""
    if hv.uri != entry.uri:
        raise VmError(f"That change was made on {entry.uri}, not on {hv.uri}.")
    _check(entry.vm, entry.after, _current(hv, entry.vm), "undone")
    if entry.before is None:
        hv.undefine(entry.vm)
    else:
        hv.define(entry.before)
    (history or History()).drop(entry)
