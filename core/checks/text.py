"""The readiness checklist as text: grouped, one status mark per line, fixes under what fails.

Evidence quotes files a capture or a device may fill with anything (device names, command lines),
so control characters are escaped: a terminal never receives an escape sequence from a check.
"""

from __future__ import annotations

from vfiodeck.core.checks.model import Status
from vfiodeck.core.checks.readiness import Readiness
from vfiodeck.core.text import safe, short_address

MARKS = {Status.PASS: "[ ok ]", Status.WARN: "[warn]", Status.FAIL: "[FAIL]", Status.UNKNOWN: "[ ?? ]"}


def escape_controls(text: str) -> str:
    """C0/C1 control characters and DEL as \\xNN (tabs and newlines too: each value is one line):
    ``core.text.safe``, the one escaping rule."""
    return safe(text)


def checklist_lines(readiness: Readiness, *, indent: str = "") -> list[str]:
    lines: list[str] = []
    for group, checks in readiness.grouped():
        lines.append(f"{indent}{group.value}")
        for check in checks:
            lines.append(f"{indent}  {MARKS[check.status]} {escape_controls(check.title)}")
            if check.status is not Status.PASS:
                lines.append(f"{indent}         {escape_controls(check.evidence)}")
                if check.fix:
                    lines.append(f"{indent}         fix: {escape_controls(check.fix)}")
        if group.value == "Devices":
            lines += _device_lines(readiness, indent)
        lines.append("")
    return lines


def _device_lines(readiness: Readiness, indent: str) -> list[str]:
    lines = []
    for row in readiness.devices:
        name = escape_controls(row.name)
        lines.append(f"{indent}  {MARKS[row.status]} {short_address(row.address)} {name} ({row.kind})")
        for item in row.items:
            if item.status is not Status.PASS:
                lines.append(f"{indent}         {item.aspect}: {escape_controls(item.text)}")
    return lines


def checklist_text(readiness: Readiness, source: str) -> str:
    lines = [f"VFIO Deck readiness for {escape_controls(source)}", escape_controls(readiness.summary), ""]
    for note in (readiness.root_note, readiness.snapshot_note):
        if note:
            lines += [note, ""]
    lines += checklist_lines(readiness)
    return "\n".join(lines).rstrip("\n") + "\n"
