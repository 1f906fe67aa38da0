"""Sizing and placing the topology layout's items: grids of children, the I/O strip, rails.

Pure: no Qt (see layout.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from vfiodeck.core.host.layout_types import GAP, PAD, Box, BoxKind, Item, Line, Measure


def _text_size(lines: Sequence[str], measure: Measure) -> tuple[float, float]:
    width = height = 0.0
    for text in lines:
        w, h = measure(text)
        width = max(width, w)
        height += h
    return width, height


def _columns(item: Item, count: int) -> int:
    if item.horizontal:
        return count
    if item.kind is BoxKind.PACKAGE and count <= 4:
        return count  # a package's nodes side by side read like the board
    return max(1, math.ceil(math.sqrt(count)))


def _rows(children: Sequence[Item], cols: int) -> list[Sequence[Item]]:
    return [children[i : i + cols] for i in range(0, len(children), cols)]


def _flow_size(children: Sequence[Item], cols: int) -> tuple[float, float]:
    width = height = 0.0
    for row in _rows(children, cols):
        width = max(width, sum(c.w for c in row) + GAP * (len(row) - 1))
        height += max(c.h for c in row) + GAP
    return width, max(0.0, height - GAP)


def size_item(item: Item, measure: Measure) -> None:
    for child in item.children:
        size_item(child, measure)
    for dev in item.devices:
        size_item(dev, measure)
    text_w, text_h = _text_size(item.lines, measure)
    if item.kind is BoxKind.PU:
        digit_w, _ = measure("000")  # every thread box as wide as a 3-digit one: grids line up
        item.w = max(text_w, digit_w) + 2 * PAD
        item.h = text_h + 2 * PAD
        return
    content_w = content_h = 0.0
    if item.children:
        content_w, content_h = _flow_size(item.children, _columns(item, len(item.children)))
    if item.devices:
        dev_w, dev_h = _flow_size(item.devices, _device_columns(item))
        content_w = max(content_w, dev_w)
        content_h += (2 * GAP if item.children else 0.0) + dev_h
    item.header = text_h + (GAP / 2 if text_h else 0.0)
    item.w = max(text_w, content_w) + 2 * PAD
    item.h = item.header + content_h + 2 * PAD


def _device_columns(item: Item) -> int:
    count = len(item.devices)
    if item.children:
        # Fit the strip under the CPU content; a one-device-wide node still gets one column.
        content_w, _ = _flow_size(item.children, _columns(item, len(item.children)))
        widest = max(d.w for d in item.devices)
        return max(1, min(count, int((content_w + GAP) // (widest + GAP))))
    return min(count, 4)


def place_top(items: list[Item], boxes: list[Box], lines: list[Line]) -> tuple[float, float]:
    packages = [i for i in items if i.kind is BoxKind.PACKAGE]
    others = [i for i in items if i.kind is not BoxKind.PACKAGE]
    cols = len(packages) if len(packages) <= 2 else math.ceil(math.sqrt(len(packages)))
    y = width = 0.0
    for group, group_cols in ((packages, max(cols, 1)), (others, max(len(others), 1))):
        for row in _rows(group, group_cols):
            x = 0.0
            for item in row:
                _place(item, x, y, None, boxes, lines)
                x += item.w + GAP
            width = max(width, x - GAP)
            y += max(i.h for i in row) + 2 * GAP
    return width, max(0.0, y - 2 * GAP)


def _place(item: Item, x: float, y: float, parent: str | None, boxes: list[Box], lines: list[Line]) -> None:
    boxes.append(
        Box(
            item.kind,
            item.key,
            x,
            y,
            item.w,
            item.h,
            item.lines,
            item.details,
            item.cpus,
            item.node,
            item.address,
            parent,
        )
    )
    if item.kind is BoxKind.PU:
        return
    cy = y + PAD + item.header
    if item.children:
        cols = _columns(item, len(item.children))
        cy = _place_flow(item.children, cols, x + PAD, cy, item.key, boxes, lines)
    if item.devices:
        rail_y = cy + GAP
        if item.children:
            cy += 2 * GAP
        first = len(boxes)
        _place_flow(item.devices, _device_columns(item), x + PAD, cy, item.key, boxes, lines)
        if item.children:
            first_row = [b for b in boxes[first:] if b.kind is BoxKind.DEVICE and b.y == cy]
            _rail(first_row, rail_y, item.key, lines)


def _place_flow(
    children: Sequence[Item],
    cols: int,
    x0: float,
    y: float,
    parent: str,
    boxes: list[Box],
    lines: list[Line],
) -> float:
    """Place children row by row from (x0, y); return the bottom of the last row."""
    for row in _rows(children, cols):
        x = x0
        for child in row:
            _place(child, x, y, parent, boxes, lines)
            x += child.w + GAP
        y += max(c.h for c in row) + GAP
    return y - GAP


def _rail(first_row: Sequence[Box], rail_y: float, key: str, lines: list[Line]) -> None:
    """A bus line between the CPUs and the I/O strip, with a drop to each device of its first row."""
    centers = [b.x + b.w / 2 for b in first_row]
    if not centers:
        return
    lines.append(Line(min(centers), rail_y, max(centers), rail_y, key))
    lines.append(Line(centers[0], rail_y - GAP, centers[0], rail_y, key))
    for box, cx in zip(first_row, centers, strict=True):
        lines.append(Line(cx, rail_y, cx, box.y, box.key))
