"""Lossless XML: an lxml tree that serializes back to the exact source text wherever it was not edited.

lxml keeps elements, attributes, namespaces and comments, but its serializer re-quotes attributes
(libvirt writes ``'``, lxml writes ``"``), collapses ``<a></a>`` and re-escapes text. A diff shown to
the user must contain only the intended change, so every node remembers the raw source text of its
start tag, end tag, text and tail; on output a node whose values are unchanged is written from that
raw text, and only edited parts are generated (single-quoted, like libvirt).

The raw spans come from a small scanner run after lxml has accepted the document as well-formed:
it only has to find tag boundaries, not to check anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from lxml import etree

from vfiodeck.core.vm.xmlscan import Span, scan

_Node = Any  # lxml's element, comment and PI proxies share no useful public base type in the stubs

_NAME_END = re.compile(r"[\s/>]")
_ATTR = re.compile(r"""(\s+)([^\s=/>]+)(\s*=\s*)("[^"]*"|'[^']*')""")


@dataclass(frozen=True)
class _Snap:
    """A node's values and raw text at parse time."""

    tag: object
    attrs: tuple[tuple[str, str], ...]
    text: str | None
    tail: str | None
    raw_start: str  # start tag, or the whole comment/PI
    raw_end: str | None  # end tag; None when self-closing (or not an element)
    raw_text: str
    raw_tail: str


def _attrs(node: _Node) -> tuple[tuple[str, str], ...]:
    if not isinstance(node.tag, str):
        return ()
    return tuple((str(k), str(v)) for k, v in node.attrib.items())


class LosslessTree:
    """Owns the source text and the lxml root, and writes the tree back with minimal change."""

    def __init__(self, text: str, root: _Node) -> None:
        self.text = text
        self.root = root
        self._snaps: dict[_Node, _Snap] = {}  # keeps the proxies alive, so identity stays stable
        self._prefix = ""
        self._suffix = ""
        self.mapped = self._map(scan(text))

    # -- mapping ------------------------------------------------------------------------------
    def _map(self, span: Span | None) -> bool:
        if span is None or span.end < 0:
            return False
        pairs: list[tuple[_Node, Span]] = []
        if not self._pair(self.root, span, pairs):
            self._snaps.clear()
            return False
        self._prefix = self.text[: span.begin]
        self._suffix = self.text[span.end :]
        return True

    def _pair(self, node: _Node, span: Span, pairs: list[tuple[_Node, Span]]) -> bool:
        kind = _kind(node)
        if kind != span.kind:
            return False
        kids = list(node) if kind == "element" else []
        spans = span.children or []
        if len(kids) != len(spans):
            return False
        text = self.text
        raw_text = ""
        if kind == "element":
            first = spans[0].begin if spans else span.end_begin
            raw_text = text[span.start_end : first]
        for i, (kid, kid_span) in enumerate(zip(kids, spans, strict=True)):
            if not self._pair(kid, kid_span, pairs):
                return False
            nxt = spans[i + 1].begin if i + 1 < len(spans) else span.end_begin
            self._set_tail(kid, text[kid_span.end : nxt])
        self._snaps[node] = _Snap(
            tag=node.tag,
            attrs=_attrs(node),
            text=node.text,
            tail=node.tail,
            raw_start=text[span.begin : span.start_end],
            raw_end=None if span.self_closing or kind != "element" else text[span.end_begin : span.end],
            raw_text=raw_text,
            raw_tail="",
        )
        return True

    def _set_tail(self, node: _Node, raw_tail: str) -> None:
        self._snaps[node] = replace(self._snaps[node], raw_tail=raw_tail)

    # -- output -------------------------------------------------------------------------------
    def render(self) -> str:
        if not self.mapped:
            return str(etree.tostring(self.root.getroottree(), encoding="unicode"))
        return self._prefix + self._node(self.root) + self._suffix

    def _node(self, node: _Node) -> str:
        snap = self._snaps.get(node)
        kind = _kind(node)
        if snap is None:
            return fresh(node)
        if kind != "element":
            same = node.text == snap.text and (kind == "comment" or node.target == snap.tag)
            return snap.raw_start if same else fresh(node)
        kids = list(node)
        start = snap.raw_start
        if node.tag != snap.tag or _attrs(node) != snap.attrs:
            start = self._start_tag(node, snap)
        empty = not kids and not node.text
        if snap.raw_end is None and empty:
            return start
        if snap.raw_end is None:  # was <x/>, now has content
            start = start[:-2].rstrip() + ">"
        end = snap.raw_end if snap.raw_end is not None and node.tag == snap.tag else f"</{_qname(node)}>"
        parts = [start, snap.raw_text if node.text == snap.text else escape_text(node.text)]
        for kid in kids:
            parts.append(self._node(kid))
            kid_snap = self._snaps.get(kid)
            same_tail = kid_snap is not None and kid.tail == kid_snap.tail
            parts.append(kid_snap.raw_tail if same_tail and kid_snap else escape_text(kid.tail))
        parts.append(end)
        return "".join(parts)

    def _start_tag(self, node: _Node, snap: _Snap) -> str:
        """The original start tag with only the changed attributes rewritten (quote style kept)."""
        raw = snap.raw_start
        name_end = _NAME_END.search(raw, 1)
        head_end = name_end.start() if name_end else len(raw) - 1
        head = raw[:head_end] if node.tag == snap.tag else "<" + _qname(node)
        old = dict(snap.attrs)
        new = dict(_attrs(node))
        out = [head]
        last = head_end
        for match in _ATTR.finditer(raw, head_end):
            last = match.end()
            ws, name, eq, value = match.groups()
            if name == "xmlns" or name.startswith("xmlns:"):
                out.append(match.group(0))
                continue
            key = _clark(node, name)
            if key not in new:
                continue
            if new[key] == old.get(key):
                out.append(match.group(0))
            else:
                quote = value[0]
                out.append(f"{ws}{name}{eq}{quote}{escape_attr(new[key], quote)}{quote}")
        for key, val in new.items():
            if key not in old:
                out.append(f" {_attr_qname(node, key)}='{escape_attr(val, chr(39))}'")
        out.append(raw[last:])
        return "".join(out)


def _kind(node: _Node) -> str:
    if isinstance(node, etree._Comment):
        return "comment"
    if isinstance(node, etree._ProcessingInstruction):
        return "pi"
    return "element" if isinstance(node.tag, str) else "other"


def _qname(node: _Node) -> str:
    local = etree.QName(node).localname
    return f"{node.prefix}:{local}" if node.prefix else local


def _clark(node: _Node, name: str) -> str:
    if ":" not in name:
        return name
    prefix, local = name.split(":", 1)
    if prefix == "xml":
        return f"{{http://www.w3.org/XML/1998/namespace}}{local}"
    uri = node.nsmap.get(prefix)
    return f"{{{uri}}}{local}" if uri else name


def _attr_qname(node: _Node, key: str) -> str:
    if not key.startswith("{"):
        return key
    uri, local = key[1:].split("}", 1)
    for prefix, ns in node.nsmap.items():
        if ns == uri and prefix:
            return f"{prefix}:{local}"
    return local


def escape_text(value: str | None) -> str:
    if not value:
        return ""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(value: str, quote: str) -> str:
    out = value.replace("&", "&amp;").replace("<", "&lt;")
    return out.replace("'", "&apos;") if quote == "'" else out.replace('"', "&quot;")


def _new_namespaces(node: _Node) -> str:
    """xmlns declarations a created element needs: those its parent does not already declare
    (a new ``<metadata>`` child in our own namespace, for instance)."""
    parent = node.getparent()
    inherited = parent.nsmap if parent is not None else {}
    return "".join(
        f" xmlns:{prefix}='{uri}'" if prefix else f" xmlns='{uri}'"
        for prefix, uri in node.nsmap.items()
        if inherited.get(prefix) != uri
    )


def fresh(node: _Node) -> str:
    """A node we created (or rewrote): libvirt's style, single-quoted attributes, ``<x/>`` when empty."""
    kind = _kind(node)
    if kind == "comment":
        return f"<!--{node.text or ''}-->"
    if kind == "pi":
        return f"<?{node.target} {node.text}?>" if node.text else f"<?{node.target}?>"
    if kind != "element":
        return str(etree.tostring(node, encoding="unicode", with_tail=False))
    attrs = "".join(f" {_attr_qname(node, k)}='{escape_attr(v, chr(39))}'" for k, v in _attrs(node))
    head = f"<{_qname(node)}{_new_namespaces(node)}{attrs}"
    kids = list(node)
    if not kids and not node.text:
        return head + "/>"
    body = escape_text(node.text) + "".join(fresh(k) + escape_text(k.tail) for k in kids)
    return f"{head}>{body}</{_qname(node)}>"


# -- edits that keep the surrounding layout ------------------------------------------------------
def _leading_ws(node: _Node) -> str:
    """The whitespace between the previous node (or the parent's start tag) and ``node``."""
    prev = node.getprevious()
    before = prev.tail if prev is not None else node.getparent().text
    return before or ""


def indent_of(node: _Node) -> str:
    before = _leading_ws(node)
    return before.rsplit("\n", 1)[1] if "\n" in before else ""


def indent_step(root: _Node) -> str:
    """The document's indentation unit, from the root's first child (libvirt uses two spaces)."""
    for kid in root:
        step = indent_of(kid)
        if step:
            return step
    return "  "


def child_indent(parent: _Node, step: str) -> str:
    for kid in parent:
        if _kind(kid) == "element" and "\n" in _leading_ws(kid):
            return indent_of(kid)
    parent_indent = indent_of(parent) if parent.getparent() is not None else ""
    return parent_indent + step


def layout(node: _Node, indent: str, step: str) -> None:
    """Give a node we built (and its descendants) line breaks and indentation below ``indent``."""
    kids = list(node)
    if not kids:
        return
    node.text = "\n" + indent + step
    for i, kid in enumerate(kids):
        layout(kid, indent + step, step)
        kid.tail = "\n" + indent + (step if i + 1 < len(kids) else "")


def insert(parent: _Node, node: _Node, index: int, step: str) -> None:
    """Insert ``node`` as child ``index`` of ``parent``, indented like its new siblings."""
    indent = child_indent(parent, step)
    layout(node, indent, step)
    kids = list(parent)
    if not kids:
        node.tail = "\n" + (indent_of(parent) if parent.getparent() is not None else "")
        parent.text = "\n" + indent
    elif index == 0:
        node.tail = parent.text if parent.text is not None else "\n" + indent
    else:
        prev = kids[index - 1]
        node.tail = prev.tail
        prev.tail = "\n" + indent
    parent.insert(index, node)


def insert_ordered(parent: _Node, node: _Node, order: tuple[str, ...], step: str) -> None:
    """Insert where libvirt itself would write ``node``: before the first sibling that libvirt writes
    after it (``order`` is libvirt's output order), else at the end. A define/dump cycle then leaves
    it where it is, and the diff stays the one the user saw."""
    rank = {tag: i for i, tag in enumerate(order)}
    mine = rank.get(str(node.tag), len(order))
    kids = list(parent)
    index = len(kids)
    for i, kid in enumerate(kids):
        if isinstance(kid.tag, str) and rank.get(kid.tag, -1) > mine:
            index = i
            break
    insert(parent, node, index, step)


def remove(node: _Node) -> None:
    """Remove ``node`` and the line it stood on: the whitespace before it takes its tail's place."""
    parent = node.getparent()
    prev = node.getprevious()
    if prev is not None:
        prev.tail = node.tail
    else:
        parent.text = node.tail
    parent.remove(node)
