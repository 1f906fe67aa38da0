"""Text shown to a person: values from a host root are untrusted and may hold terminal controls.

A snapshot's cpuinfo, pci.ids or driver names can carry escape sequences (clear the screen, set
the title, write the clipboard with OSC 52) and non-UTF-8 bytes (lone surrogates, which make
``print`` raise). Everything printed passes through ``safe_text`` (or ``safe`` for one value).
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, bidirectional overrides/isolates (they reorder
# what is shown), and the surrogates Python uses for undecodable bytes.
_UNSAFE_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_IN_VALUE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode() keeps it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """``text`` with every control character but tab and newline written as ``\\xNN``."""
    return _UNSAFE_IN_TEXT.sub(_escape, text)


def safe(value: object) -> str:
    """One value for a line of text: newlines and tabs are escaped too."""
    return _UNSAFE_IN_VALUE.sub(_escape, str(value))
