"""Finds the raw source spans of an XML document's nodes (start tag, end tag, text, tail).

Run only after lxml has accepted the document as well-formed: it has to find tag boundaries, not to
check anything. Used by lossless.py to write unedited nodes back byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Span:
    """Where one node sits in the source, as offsets into the text."""

    kind: str  # "element", "comment" or "pi"
    begin: int
    start_end: int  # end of the start tag (for comments/PIs: end of the node)
    end_begin: int = -1  # beginning of the end tag; -1 until seen, == start_end when self-closing
    end: int = -1
    self_closing: bool = False
    children: list[Span] | None = None


def _skip_to(text: str, pos: int, token: str) -> int:
    found = text.find(token, pos)
    return len(text) if found < 0 else found + len(token)


def _tag_end(text: str, pos: int) -> int:
    """Index just past the ``>`` closing the tag that starts at ``pos``; quotes may hold ``>``."""
    quote = ""
    i = pos
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == ">":
            return i + 1
        i += 1
    return len(text)


def _doctype_end(text: str, pos: int) -> int:
    bracket = text.find("[", pos)
    close = text.find(">", pos)
    if 0 <= bracket < close:
        return _skip_to(text, _skip_to(text, bracket, "]"), ">")
    return len(text) if close < 0 else close + 1


def scan(text: str) -> Span | None:
    """The root element's span tree, or None when the text has no element."""
    stack: list[Span] = []
    root: Span | None = None
    pos = 0
    while True:
        lt = text.find("<", pos)
        if lt < 0:
            return root
        if text.startswith("<!--", lt):
            end = _skip_to(text, lt + 4, "-->")
            if stack:
                _add_child(stack[-1], Span("comment", lt, end, end=end))
        elif text.startswith("<![CDATA[", lt):
            end = _skip_to(text, lt, "]]>")  # character data: part of a text run
        elif text.startswith("<!", lt):
            end = _doctype_end(text, lt)
        elif text.startswith("<?", lt):
            end = _skip_to(text, lt, "?>")
            if stack:
                _add_child(stack[-1], Span("pi", lt, end, end=end))
        elif text.startswith("</", lt):
            end = _tag_end(text, lt)
            if stack:
                closed = stack.pop()
                closed.end_begin, closed.end = lt, end
        else:
            end = _tag_end(text, lt)
            span = Span("element", lt, end, children=[])
            if stack:
                _add_child(stack[-1], span)
            elif root is None:
                root = span
            if text[end - 2 : end] == "/>":
                span.self_closing = True
                span.end_begin = span.end = end
            else:
                stack.append(span)
        pos = end


def _add_child(parent: Span, child: Span) -> None:
    assert parent.children is not None
    parent.children.append(child)
