"""Whether a document's prolog declares a DOCTYPE internal subset (``<!DOCTYPE domain [ ... ]>``).

libvirt never writes one, and a comment inside it can hold a fake ``<domain>`` that a text scanner
takes for the real one (an edit would land in the comment). Such documents are refused, not read.
"""

from __future__ import annotations


def has_internal_subset(text: str) -> bool:
    pos = 0
    while (lt := text.find("<", pos)) >= 0:
        if text.startswith("<?", lt):
            pos = _past(text, lt, "?>")
        elif text.startswith("<!--", lt):
            pos = _past(text, lt + 4, "-->")
        elif text.startswith("<!DOCTYPE", lt):
            return _doctype_opens_subset(text, lt + len("<!DOCTYPE"))
        else:
            return False  # the root element: the prolog is over
    return False


def _past(text: str, pos: int, token: str) -> int:
    found = text.find(token, pos)
    return len(text) if found < 0 else found + len(token)


def _doctype_opens_subset(text: str, pos: int) -> bool:
    """Whether a ``[`` comes before the ``>`` that ends the declaration (quoted ids may hold either)."""
    quote = ""
    for ch in text[pos:]:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            return True
        elif ch == ">":
            return False
    return False
