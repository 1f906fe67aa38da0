"""Live graphs of the selected VM (pyqtgraph): CPU total and per vCPU, memory, disk, network, the
host's cores with the VM's pinned cores highlighted, and the interrupt rates of its passed devices.

One sample per connection per tick (``StatsSampler``: one ``getAllDomainStats`` call) and one host
sample, each on a worker; a tick is skipped while the last one is still running. Curves are created
once and fed with ``setData`` from numpy ring buffers; while the panel is hidden the buffers fill
but nothing is redrawn. This module imports pyqtgraph: the page imports it only when graphs open.
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
    DomainRates,
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
from vfiodeck.gui.jobs import Jobs as JobRunner
from vfiodeck.gui.vms.connection import ConnectionController, DomainRow, LinkState

HISTORY = 120  # samples kept per series: two minutes at the default 1 s
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _sample(sampler: StatsSampler, hv: Hypervisor) -> StatsSample:
    return sampler.sample(hv.conn)


class Ring:
    """A fixed-size history; ``view()`` is the samples in order, without copying on append."""

    def __init__(self, size: int = HISTORY) -> None:
        self._data = np.full(2 * size, np.nan)
        self._size = size
        self._end = 0

    def append(self, value: float | None) -> None:
        if self._end == len(self._data):  # full twice over: keep the newest half, start again there
            self._data[: self._size] = self._data[self._size :]
            self._end = self._size
        self._data[self._end] = np.nan if value is None else value
        self._end += 1

    def view(self) -> np.ndarray:
        return self._data[max(0, self._end - self._size) : self._end]

    def __len__(self) -> int:
        return min(self._end, self._size)


class VmSeries:
    """Every ring of one VM."""

    def __init__(self) -> None:
        self.cpu = Ring()
        self.vcpus: list[Ring] = []
        self.memory = Ring()
        self.disk_read, self.disk_write = Ring(), Ring()
        self.net_rx, self.net_tx = Ring(), Ring()

    def add(self, r: DomainRates) -> None:
        self.cpu.append(r.cpu_percent)
        while len(self.vcpus) < len(r.vcpu_percent):
            self.vcpus.append(Ring())
        for ring, value in zip(self.vcpus, r.vcpu_percent, strict=False):
            ring.append(value)
        used = r.memory_used_kib if r.memory_used_kib is not None else r.memory_kib
        self.memory.append(None if used is None else used / 1024)
        self.disk_read.append(r.disk_read_bps)
        self.disk_write.append(r.disk_write_bps)
        self.net_rx.append(r.net_rx_bps)
        self.net_tx.append(r.net_tx_bps)


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
        self.pinned: tuple[int, ...] = ()
        self._samplers: dict[str, StatsSampler] = {}
        self._prev: dict[str, StatsSample] = {}
        self._prev_host: tuple[HostCpuSample, InterruptSample] | None = None
        self._busy: set[str] = set()
        self.host_percent: tuple[float | None, ...] = ()
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
        self.host_plot = self._plot(1, 1, "This machine's cores % (pinned: orange)", (0, 100))
        self.irq_plot = self._plot(1, 2, "Passed-device interrupts/s")
        self.cpu_curve = self.cpu_plot.plot(pen=pg.mkPen("#222", width=2), name="total")
        self.vcpu_curves: list[pg.PlotDataItem] = []
        self.mem_curve = self.mem_plot.plot(pen=pg.mkPen(PALETTE[2], width=2))
        self.disk_curves = (
            self.disk_plot.plot(pen=pg.mkPen(PALETTE[0]), name="read"),
            self.disk_plot.plot(pen=pg.mkPen(PALETTE[3]), name="write"),
        )
        self.net_curves = (
            self.net_plot.plot(pen=pg.mkPen(PALETTE[0]), name="rx"),
            self.net_plot.plot(pen=pg.mkPen(PALETTE[1]), name="tx"),
        )
        self.host_bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.host_plot.addItem(self.host_bars)
        self.irq_curves: dict[str, pg.PlotDataItem] = {}

    def _plot(self, row: int, col: int, title: str, y: tuple[int, int] | None = None) -> pg.PlotItem:
        plot = self.canvas.addPlot(row=row, col=col, title=title)
        plot.showGrid(x=False, y=True, alpha=0.3)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        if y is not None:
            plot.setYRange(*y, padding=0)
        else:
            plot.enableAutoRange(axis="y")
        return plot

    # -- inputs ----------------------------------------------------------------------------
    def set_host(self, host: HostModel | None) -> None:
        self.host = host

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
        for curve in self.vcpu_curves:
            self.cpu_plot.removeItem(curve)
        for curve in self.irq_curves.values():
            self.irq_plot.removeItem(curve)
        self.vcpu_curves, self.irq_curves = [], {}
        if row is None:
            self.title.setText("Select a VM to see its graphs.")
            return
        self.title.setText(f"{row.info.name} ({row.info.state.value}) on {row.uri}")
        for i in range(row.info.vcpus):
            pen = pg.mkPen(PALETTE[i % len(PALETTE)], width=1)
            self.vcpu_curves.append(self.cpu_plot.plot(pen=pen, name=f"vCPU {i}"))
        for i, address in enumerate(row.devices):
            pen = pg.mkPen(PALETTE[(i + 3) % len(PALETTE)], width=1)
            self.irq_curves[address] = self.irq_plot.plot(pen=pen, name=address)
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
        if "host" not in self._busy:
            self._busy.add("host")
            self.runner.run(
                lambda: (sample_host_cpu(), sample_interrupts()),
                self._host_sampled,
                lambda _e: self._busy.discard("host"),
            )

    def _sample_failed(self, uri: str, _error: object) -> None:
        self._busy.discard(uri)

    def _sampled(self, uri: str, sample: object) -> None:
        self._busy.discard(uri)
        if isinstance(sample, StatsSample):
            self.add_sample(uri, sample)

    def _host_sampled(self, pair: object) -> None:
        self._busy.discard("host")
        if isinstance(pair, tuple):
            self.add_host_sample(pair[0], pair[1])

    def add_sample(self, uri: str, sample: StatsSample) -> None:
        """Rates against the previous sample of ``uri`` go into every running VM's rings."""
        prev = self._prev.get(uri)
        self._prev[uri] = sample
        if prev is None:
            return
        for r in rates(prev, sample):
            self.series.setdefault(r.uuid, VmSeries()).add(r)
        self.redraw()

    def add_host_sample(self, cpu: HostCpuSample, irqs: InterruptSample) -> None:
        prev = self._prev_host
        self._prev_host = (cpu, irqs)
        if prev is None:
            return
        self.host_percent = host_core_percent(prev[0], cpu)
        irq = interrupt_rates(prev[1], irqs)
        for address in self.row.devices if self.row is not None else ():
            self.irq_series.setdefault(address, Ring()).append(irq.get(address))
        self.redraw()

    # -- drawing ---------------------------------------------------------------------------
    def redraw(self) -> None:
        if not self.isVisible():
            return  # the rings keep filling; nothing is drawn that nobody sees
        series = self.series.get(self.row.info.uuid) if self.row is not None else None
        if series is not None:
            self.cpu_curve.setData(series.cpu.view())
            for curve, ring in zip(self.vcpu_curves, series.vcpus, strict=False):
                curve.setData(ring.view())
            memory = series.memory.view()
            self.mem_curve.setData(memory)
            if len(memory) and not np.isnan(memory).all():
                self.mem_plot.setYRange(0, float(np.nanmax(memory)) * 1.1 or 1.0, padding=0)
            self.disk_curves[0].setData(series.disk_read.view())
            self.disk_curves[1].setData(series.disk_write.view())
            self.net_curves[0].setData(series.net_rx.view())
            self.net_curves[1].setData(series.net_tx.view())
        for address, curve in self.irq_curves.items():
            irq_ring = self.irq_series.get(address)
            if irq_ring is not None:
                curve.setData(irq_ring.view())
        if self.host_percent:
            heights = [p or 0.0 for p in self.host_percent]
            brushes = ["#ff7f0e" if i in self.pinned else "#9ecae1" for i in range(len(heights))]
            self.host_bars.setOpts(x=list(range(len(heights))), height=heights, width=0.8, brushes=brushes)
