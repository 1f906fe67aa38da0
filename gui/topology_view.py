"""Paints a ``TopologyLayout`` (computed in core) in a zoomable QGraphicsView.

One graphics item draws every box; hit tests and highlights use the layout's own geometry, so
the view holds no topology logic. Ctrl+wheel, +/- zoom; 0 or "Fit" fits the drawing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QToolTip,
    QWidget,
)

from vfiodeck.core.host.layout import PAD, Box, BoxKind, TopologyLayout, layout_topology
from vfiodeck.core.host.model import Candidate, HostModel

FILL = {
    BoxKind.PACKAGE: "#eceff1",
    BoxKind.NODE: "#e8f5e9",
    BoxKind.CACHE: "#e3f2fd",
    BoxKind.CORE: "#fafafa",
    BoxKind.PU: "#ffffff",
    BoxKind.DEVICE: "#f3e5f5",
    BoxKind.TRAY: "#fff3e0",
}
BORDER = {
    BoxKind.PACKAGE: "#546e7a",
    BoxKind.NODE: "#2e7d32",
    BoxKind.CACHE: "#1565c0",
    BoxKind.CORE: "#9e9e9e",
    BoxKind.PU: "#9e9e9e",
    BoxKind.DEVICE: "#6a1b9a",
    BoxKind.TRAY: "#ef6c00",
}
HIGHLIGHT_FILL = "#fff59d"
PINNED_FILL = "#a5d6a7"  # a vCPU of the planned VM runs here
EMULATOR_FILL = "#ffcc80"  # the VM's emulator thread runs here
SELECTED_BORDER = "#d84315"
MIN_SCALE, MAX_SCALE = 0.1, 6.0


def topology_font() -> QFont:
    font = QFont()
    font.setPointSizeF(9.0)
    return font


def layout_for(host: HostModel, candidates: tuple[Candidate, ...], font: QFont) -> TopologyLayout:
    bold = QFont(font)
    bold.setBold(True)  # the first line of a box is bold: measure every line as if it were
    metrics = QFontMetricsF(bold)

    def measure(text: str) -> tuple[float, float]:
        return metrics.horizontalAdvance(text) + 2, metrics.height()

    return layout_topology(host, measure, [c.device for c in candidates])


class _LayoutItem(QGraphicsItem):
    def __init__(self, layout: TopologyLayout, font: QFont) -> None:
        super().__init__()
        self.layout = layout
        self.font = font
        self.selected: str | None = None
        self.lit: frozenset[str] = frozenset()
        self.pinned: dict[str, str] = {}  # "cpu:N" -> "v3": the pinning overlay
        self.emulator: frozenset[str] = frozenset()

    def _fill(self, box: Box, lit: bool) -> str:
        if lit and box.kind in (BoxKind.PU, BoxKind.CORE, BoxKind.DEVICE):
            return HIGHLIGHT_FILL
        if box.key in self.pinned:
            return PINNED_FILL
        if box.key in self.emulator:
            return EMULATOR_FILL
        return FILL[box.kind]

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-2, -2, self.layout.width + 4, self.layout.height + 4)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setFont(self.font)
        metrics = QFontMetricsF(self.font)
        exposed = option.exposedRect  # type: ignore[attr-defined]
        for line in self.layout.lines:
            lit = line.key in self.lit
            painter.setPen(QPen(QColor(SELECTED_BORDER if lit else "#6a1b9a"), 2.0 if lit else 1.2))
            painter.drawLine(QPointF(line.x1, line.y1), QPointF(line.x2, line.y2))
        for box in self.layout.boxes:
            rect = QRectF(box.x, box.y, box.w, box.h)
            if not rect.intersects(exposed):
                continue
            lit = box.key in self.lit
            painter.setBrush(QBrush(QColor(self._fill(box, lit))))
            width = 3.0 if box.key == self.selected else 2.0 if lit else 1.0
            color = SELECTED_BORDER if (box.key == self.selected or lit) else BORDER[box.kind]
            pen = QPen(QColor(color), width)
            if box.kind is BoxKind.TRAY:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRoundedRect(rect, 3, 3)
            painter.setPen(QColor("#212121"))
            y = box.y + PAD
            for i, text in enumerate(box.lines):
                flags = (
                    Qt.AlignmentFlag.AlignHCenter if box.kind is BoxKind.PU else Qt.AlignmentFlag.AlignLeft
                )
                font = QFont(self.font)
                font.setBold(i == 0 and box.kind is not BoxKind.PU)
                painter.setFont(font)
                painter.drawText(
                    QRectF(box.x + PAD, y, box.w - 2 * PAD, metrics.height()),
                    int(flags | Qt.AlignmentFlag.AlignVCenter),
                    text,
                )
                y += metrics.height()
            if box.key in self.pinned:
                small = QFont(self.font)
                small.setPointSizeF(self.font.pointSizeF() * 0.75)
                painter.setFont(small)
                painter.drawText(
                    QRectF(box.x, box.y + box.h - metrics.height(), box.w, metrics.height()),
                    int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter),
                    self.pinned[box.key],
                )
            painter.setFont(self.font)


class TopologyView(QGraphicsView):
    """Emits ``selected(key)`` when a box is clicked ("pci:ADDR", "cpu:N", "core:...", "node:N")."""

    selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("topologyView")
        self.setAccessibleName("CPU and NUMA topology")
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setBackgroundBrush(QBrush(QColor("#ffffff")))
        self.font_ = topology_font()
        self._item: _LayoutItem | None = None
        self._fitted = False

    @property
    def topology(self) -> TopologyLayout | None:
        return self._item.layout if self._item else None

    @property
    def selected_key(self) -> str | None:
        return self._item.selected if self._item else None

    @property
    def lit(self) -> frozenset[str]:
        return self._item.lit if self._item else frozenset()

    def set_host(self, host: HostModel | None, candidates: tuple[Candidate, ...] = ()) -> None:
        scene = self.scene()
        scene.clear()
        self._item = None
        if host is None:
            return
        self._item = _LayoutItem(layout_for(host, candidates, self.font_), self.font_)
        scene.addItem(self._item)
        scene.setSceneRect(self._item.boundingRect().adjusted(-10, -10, 10, 10))
        self._fitted = False
        self.resetTransform()
        if self.isVisible():
            self.fit_if_large()

    # -- pinning overlay --------------------------------------------------------------------
    def set_pinning_overlay(self, vcpus: Mapping[int, Iterable[int]], emulator: Iterable[int] = ()) -> None:
        """Show a pinning plan before it is applied: each host CPU a vCPU runs on is tinted and
        labelled "vN"; the emulator thread's CPUs get their own tint. An empty plan clears it."""
        if self._item is None:
            return
        pinned: dict[str, list[str]] = {}
        for vcpu, cpus in sorted(vcpus.items()):
            for cpu in cpus:
                pinned.setdefault(f"cpu:{cpu}", []).append(f"v{vcpu}")
        self._item.pinned = {key: ",".join(labels) for key, labels in pinned.items()}
        self._item.emulator = frozenset(f"cpu:{cpu}" for cpu in emulator)
        self._item.update()

    @property
    def pinning_overlay(self) -> dict[str, str]:
        return dict(self._item.pinned) if self._item else {}

    # -- selection --------------------------------------------------------------------------
    def select(self, key: str | None, emit: bool = True) -> None:
        if self._item is None:
            return
        layout = self._item.layout
        if key is not None and layout.box(key) is None:
            key = None
        self._item.selected = key
        self._item.lit = layout.highlight(key) if key else frozenset()
        self._item.update()
        if key is not None:
            box = layout.box(key)
            if box is not None:
                self.ensureVisible(QRectF(box.x, box.y, box.w, box.h), 20, 20)
            if emit:
                self.selected.emit(key)

    def select_device(self, address: str | None) -> None:
        """Highlight a device chosen elsewhere (the group tree) without echoing it back."""
        self.select(f"pci:{address}" if address else None, emit=False)

    def _key_at(self, pos: QPointF) -> str | None:
        if self._item is None:
            return None
        scene_pos = self.mapToScene(pos.toPoint())
        box = self._item.layout.box_at(scene_pos.x(), scene_pos.y())
        return box.key if box else None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            key = self._key_at(event.position())
            if key is not None and not key.startswith(("package:", "tray:")):
                self.select(key)
        super().mousePressEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ToolTip and self._item is not None:
            help_event = QHelpEvent(event.type(), event.pos(), event.globalPos())  # type: ignore[attr-defined]
            key = self._key_at(QPointF(help_event.pos()))
            box = self._item.layout.box(key) if key else None
            if box is not None:
                QToolTip.showText(help_event.globalPos(), "\n".join(box.details or box.lines), self)
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def tooltip_for(self, key: str) -> str:
        box = self._item.layout.box(key) if self._item else None
        return "\n".join(box.details or box.lines) if box else ""

    # -- zoom -------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        target = min(MAX_SCALE, max(MIN_SCALE, self.zoom * factor))
        self.scale(target / self.zoom, target / self.zoom)

    def zoom_in(self) -> None:
        self.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.zoom_by(0.8)

    def fit(self) -> None:
        if self._item is not None:
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def fit_if_large(self) -> None:
        """Fit a drawing larger than the view; never blow a small one up past 100 %."""
        if self._item is None:
            return
        self._fitted = True
        rect = self.scene().sceneRect()
        view = self.viewport().rect()
        if rect.width() > view.width() or rect.height() > view.height():
            self.fit()
        else:
            self.resetTransform()

    def showEvent(self, event: object) -> None:  # noqa: N802
        super().showEvent(event)  # type: ignore[arg-type]
        if not self._fitted:
            self.fit_if_large()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_by(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key == Qt.Key.Key_Minus:
            self.zoom_out()
        elif key == Qt.Key.Key_0:
            self.fit()
        else:
            super().keyPressEvent(event)
