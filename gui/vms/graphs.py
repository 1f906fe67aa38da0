"""Live graphs of the selected VM (pyqtgraph): CPU total and per vCPU, memory, disk, network, the
host's cores with the VM's pinned cores highlighted, and the interrupt rates of its passed devices.

One sample per connection per tick (``StatsSampler``: one ``getAllDomainStats`` call) and one host
sample, each on a worker; a tick is skipped while the last one is still running. Curves are created
once and fed with ``setData`` from numpy ring buffers, all of them once per tick, when the tick's
last sample is back; while the panel is hidden or its window minimised the buffers fill but nothing
is drawn. The x axes are seconds before now over a fixed window, so axes are not laid out again
every tick. The host plots read the host being shown: a snapshot's cores come from its topology
and nothing of this machine is sampled for it. This module imports pyqtgraph: the page imports it
only when graphs open.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.domainxml import DomainXml
from vfiodeck.core.vm.stats import (
    HostCpuSample,
    InterruptSample,
    StatsSample,
    StatsSampler,
    host_core_percent,
    interrupt_rates,
    rates,
    sample_host_cpu,
    sample_interrupts,
)
from vfiodeck.gui.vms.connection import ConnectionController, DomainRow, LinkState
from vfiodeck.gui.vms.series import HISTORY, Ring, VmSeries, has_data, seconds_ago

__all__ = ["HISTORY", "GraphsPanel", "Ring", "VmSeries"]
from vfiodeck.gui.jobs import Jobs as JobRunner

NO_DATA = "no data from this driver"
NO_LIVE = "live data unavailable for a snapshot"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _sample(sampler: StatsSampler, hv: Hypervisor) -> StatsSample:
    return sampler.sample(hv.conn)


class GraphsPanel(QWidget):
    def __init__(
        self,
        controllers: Mapping[str, ConnectionController],
        runner: JobRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controllers = controllers
        self.runner = runner
        self.host: HostModel | None = None
        self.row: DomainRow | None = None
        self.series: dict[str, VmSeries] = {}  # by UUID
        self.irq_series: dict[str, Ring] = {}  # by PCI address
        self.irq_time = Ring()
        self.pinned: tuple[int, ...] = ()
        self._samplers: dict[str, StatsSampler] = {}
        self._prev: dict[str, StatsSample] = {}
        self._prev_host: tuple[HostCpuSample, InterruptSample] | None = None
        self._busy: set[str] = set()
        self.host_percent: tuple[float | None, ...] = ()
        self.redraws = 0  # how many times the curves were fed: once per tick at most
        self._bars: tuple[list[float], list[str]] = ([], [])
        self._dirty = False
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.tick)

    # -- widgets ---------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.title = QLabel("Select a VM to see its graphs.")
        top.addWidget(self.title, 1)
        top.addWidget(QLabel("Update every"))
        self.interval = QSpinBox()
        self.interval.setRange(1, 60)
        self.interval.setSuffix(" s")
        self.interval.valueChanged.connect(lambda s: self.timer.setInterval(s * 1000))
        top.addWidget(self.interval)
        layout.addLayout(top)
        pg.setConfigOptions(antialias=False, background="w", foreground="#333")
        self.canvas = pg.GraphicsLayoutWidget()
        layout.addWidget(self.canvas, 1)
        self.cpu_plot = self._plot(0, 0, "CPU %", (0, 100))
        self.mem_plot = self._plot(0, 1, "Memory (MiB)")
        self.disk_plot = self._plot(0, 2, "Disk (bytes/s)")
        self.net_plot = self._plot(1, 0, "Network (bytes/s)")
        self.host_plot = self._plot(1, 1, "Host cores % (pinned: orange)", (0, 100))
        self.irq_plot = self._plot(1, 2, "Passed-device interrupts/s")
        self.cpu_curve = self._curve(self.cpu_plot, pg.mkPen("#222", width=2), "total")
        self.vcpu_curves: list[pg.PlotDataItem] = []
        self.mem_curve = self._curve(self.mem_plot, pg.mkPen(PALETTE[2], width=2))
        self.disk_curves = (
            self._curve(self.disk_plot, pg.mkPen(PALETTE[0]), "read"),
            self._curve(self.disk_plot, pg.mkPen(PALETTE[3]), "write"),
        )
        self.net_curves = (
            self._curve(self.net_plot, pg.mkPen(PALETTE[0]), "rx"),
            self._curve(self.net_plot, pg.mkPen(PALETTE[1]), "tx"),
        )
        self.host_bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.host_plot.addItem(self.host_bars)
        self.host_plot.setLabel("bottom", "logical CPU")
        self.irq_curves: dict[str, pg.PlotDataItem] = {}
        self.notes: dict[str, pg.TextItem] = {}
        for key, plot in self._plots().items():
            note = pg.TextItem("", color="#777", anchor=(0.5, 0.5))
            note.setParentItem(plot.getViewBox())
            self.notes[key] = note
            plot.getViewBox().sigResized.connect(lambda vb, n=note: n.setPos(vb.width() / 2, vb.height() / 2))

    def _plots(self) -> dict[str, pg.PlotItem]:
        return {
            "cpu": self.cpu_plot,
            "memory": self.mem_plot,
            "disk": self.disk_plot,
            "net": self.net_plot,
            "host": self.host_plot,
            "irq": self.irq_plot,
        }

    def _curve(self, plot: pg.PlotItem, pen: object, name: str | None = None) -> pg.PlotDataItem:
        # clipToView draws only the visible samples; autoDownsample thins them past one per pixel.
        return plot.plot(pen=pen, name=name, clipToView=True, autoDownsample=True)

    def _plot(self, row: int, col: int, title: str, y: tuple[int, int] | None = None) -> pg.PlotItem:
        plot = self.canvas.addPlot(row=row, col=col, title=title)
        plot.showGrid(x=False, y=True, alpha=0.3)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        if row == 0 or col != 1:  # every plot but the host's cores runs over time
            plot.setXRange(-HISTORY, 0, padding=0)
            plot.setLabel("bottom", "seconds ago")
        if y is not None:
            plot.setYRange(*y, padding=0)
        else:
            plot.enableAutoRange(axis="y")
        return plot

    # -- inputs ----------------------------------------------------------------------------
    def set_host(self, host: HostModel | None) -> None:
        """A host (re)loaded: what was drawn for the last one goes."""
        self.host = host
        self._prev_host = None
        self.host_percent = ()
        self.irq_series, self.irq_time = {}, Ring()
        self._prev.clear()
        self.series.clear()
        self.redraw()

    @property
    def samples_host(self) -> bool:
        """Only the live host's cores and interrupts can be sampled; a snapshot's cannot."""
        return self.host is None or self.host.is_live

    def set_active(self, active: bool) -> None:
        if active:
            self.timer.start()
            self.tick()
        else:
            self.timer.stop()

    def set_vm(self, row: DomainRow | None) -> None:
        """Show ``row``'s graphs: per-vCPU and per-device curves are made here, once per VM."""
        if row is not None and self.row is not None and row.key == self.row.key:
            self.row = row
            return
        self.row = row
        self.pinned = ()
        self.irq_series, self.irq_time = {}, Ring()  # the last VM's devices are not this one's
        for curve in self.vcpu_curves:
            self.cpu_plot.removeItem(curve)
        for curve in self.irq_curves.values():
            self.irq_plot.removeItem(curve)
        self.vcpu_curves, self.irq_curves = [], {}
        if row is None:
            self.title.setText("Select a VM to see its graphs.")
            self.redraw()
            return
        self.title.setText(f"{row.info.name} ({row.info.state.value}) on {row.uri}")
        for i in range(row.info.vcpus):
            pen = pg.mkPen(PALETTE[i % len(PALETTE)], width=1)
            self.vcpu_curves.append(self._curve(self.cpu_plot, pen, f"vCPU {i}"))
        for i, address in enumerate(row.devices):
            pen = pg.mkPen(PALETTE[(i + 3) % len(PALETTE)], width=1)
            self.irq_curves[address] = self._curve(self.irq_plot, pen, address)
        ctrl = self.controllers.get(row.uri)
        if ctrl is not None and ctrl.state is LinkState.UP:
            name, key = row.info.name, row.key

            def pins() -> tuple[int, ...]:
                doc = DomainXml.parse(ctrl.hv.inactive_xml(name))
                return tuple(sorted({c for cpus in doc.vcpupins().values() for c in cpus}))

            self.runner.run(pins, lambda cpus: self._set_pinned(key, cpus))
        self.redraw()

    def _set_pinned(self, key: tuple[str, str], cpus: tuple[int, ...]) -> None:
        if self.row is not None and self.row.key == key:
            self.pinned = cpus
            self.redraw()

    # -- sampling --------------------------------------------------------------------------
    def tick(self) -> None:
        for uri, ctrl in self.controllers.items():
            if ctrl.state is not LinkState.UP or uri in self._busy:
                continue  # the last sample is still being taken: skip, never queue up
            self._busy.add(uri)
            sampler = self._samplers.setdefault(uri, StatsSampler())
            self.runner.run(
                functools.partial(_sample, sampler, ctrl.hv),
                functools.partial(self._sampled, uri),
                functools.partial(self._sample_failed, uri),
            )
        if self.samples_host and "host" not in self._busy:
            self._busy.add("host")
            self.runner.run(
                lambda: (sample_host_cpu(), sample_interrupts()),
                self._host_sampled,
                lambda _e: self._busy.discard("host"),
            )

    def _sample_failed(self, uri: str, _error: object) -> None:
        self._busy.discard(uri)
        self._tick_done()

    def _sampled(self, uri: str, sample: object) -> None:
        self._busy.discard(uri)
        if isinstance(sample, StatsSample):
            self._feed(uri, sample)
        self._tick_done()

    def _host_sampled(self, pair: object) -> None:
        self._busy.discard("host")
        if isinstance(pair, tuple):
            self._feed_host(pair[0], pair[1])
        self._tick_done()

    def _tick_done(self) -> None:
        """One repaint per tick: when the tick's last sample is back, not once per sample."""
        if not self._busy and self._dirty:
            self.redraw()

    def add_sample(self, uri: str, sample: StatsSample) -> None:
        """Rates against the previous sample of ``uri`` go into every running VM's rings."""
        self._feed(uri, sample)
        self.redraw()

    def add_host_sample(self, cpu: HostCpuSample, irqs: InterruptSample) -> None:
        self._feed_host(cpu, irqs)
        self.redraw()

    def _feed(self, uri: str, sample: StatsSample) -> None:
        prev = self._prev.get(uri)
        self._prev[uri] = sample
        if prev is None:
            return
        for r in rates(prev, sample):
            self.series.setdefault(r.uuid, VmSeries()).add(r, sample.timestamp)
        self._dirty = True

    def _feed_host(self, cpu: HostCpuSample, irqs: InterruptSample) -> None:
        prev = self._prev_host
        self._prev_host = (cpu, irqs)
        if prev is None:
            return
        self.host_percent = host_core_percent(prev[0], cpu)
        irq = interrupt_rates(prev[1], irqs)
        self.irq_time.append(irqs.timestamp)
        for address in self.row.devices if self.row is not None else ():
            self.irq_series.setdefault(address, Ring()).append(irq.get(address))
        self._dirty = True

    # -- drawing ---------------------------------------------------------------------------
    def showEvent(self, event: object) -> None:  # noqa: N802
        super().showEvent(event)  # type: ignore[arg-type]
        if self._dirty:
            self.redraw()  # what filled in while hidden, drawn once

    def _drawable(self) -> bool:
        window = self.window()
        return self.isVisible() and not (window is not None and window.isMinimized())

    def redraw(self) -> None:
        if not self._drawable():
            self._dirty = True  # the rings keep filling; nothing is drawn that nobody sees
            return
        self._dirty = False
        self.redraws += 1
        series = self.series.get(self.row.info.uuid) if self.row is not None else None
        self._draw_vm(series)
        self._draw_irqs()
        self._draw_host()

    def _draw_vm(self, series: VmSeries | None) -> None:
        empty = np.empty(0)
        x = seconds_ago(series.time) if series is not None else empty
        pairs: list[tuple[pg.PlotDataItem, Ring | None]] = [
            (self.cpu_curve, series.cpu if series else None),
            (self.mem_curve, series.memory if series else None),
            (self.disk_curves[0], series.disk_read if series else None),
            (self.disk_curves[1], series.disk_write if series else None),
            (self.net_curves[0], series.net_rx if series else None),
            (self.net_curves[1], series.net_tx if series else None),
        ]
        pairs += [
            (c, series.vcpus[i] if series and i < len(series.vcpus) else None)
            for i, c in enumerate(self.vcpu_curves)
        ]
        for curve, ring in pairs:
            self._set(curve, x, ring)
        memory = series.memory.view() if series is not None else empty
        if len(memory) and not np.isnan(memory).all():
            top = float(np.nanmax(memory)) * 1.1 or 1.0
            if self.mem_plot.viewRange()[1][1] != top:
                self.mem_plot.setYRange(0, top, padding=0)
        waiting = series is None
        self._note("cpu", "" if not waiting else ("waiting for samples" if self.row else ""))
        for key, rings in (
            ("memory", (series.memory,) if series else ()),
            ("disk", (series.disk_read, series.disk_write) if series else ()),
            ("net", (series.net_rx, series.net_tx) if series else ()),
        ):
            self._note(key, "" if waiting or any(has_data(r) for r in rings) else NO_DATA)

    def _draw_irqs(self) -> None:
        x = seconds_ago(self.irq_time)
        for address, curve in self.irq_curves.items():
            self._set(curve, x, self.irq_series.get(address))
        if not self.samples_host:
            self._note("irq", NO_LIVE)
        elif self.row is not None and not self.row.devices:
            self._note("irq", "no passed-through devices")
        else:
            self._note("irq", "")

    def _draw_host(self) -> None:
        if self.samples_host:
            heights = [p or 0.0 for p in self.host_percent]
            self._note("host", "")
        else:  # a snapshot: its cores, from its topology, with nothing sampled
            assert self.host is not None
            heights = [0.0] * (max((c.id for c in self.host.topology.cpus), default=-1) + 1)
            self._note("host", NO_LIVE)
        brushes = ["#ff7f0e" if i in self.pinned else "#9ecae1" for i in range(len(heights))]
        if (heights, brushes) != self._bars:  # unchanged bars (a snapshot's) are not drawn again
            self._bars = (heights, brushes)
            self.host_bars.setOpts(x=list(range(len(heights))), height=heights, width=0.8, brushes=brushes)

    @staticmethod
    def _set(curve: pg.PlotDataItem, x: np.ndarray, ring: Ring | None) -> None:
        """Feed a curve; one with nothing to show (the driver gives no such figure) is emptied once
        and then left alone, so it causes no repaint."""
        if ring is None or not has_data(ring):
            if curve.yData is not None and len(curve.yData):
                curve.setData([], [])
            return
        y = ring.view()
        curve.setData(x[-len(y) :], y, connect="finite")

    def _note(self, key: str, text: str) -> None:
        note = self.notes[key]
        if note.textItem.toPlainText() != text:
            note.setText(text)
