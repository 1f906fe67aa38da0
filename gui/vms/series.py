"""The numbers behind the graphs: fixed-size ring buffers per VM, no Qt and no pyqtgraph."""

from __future__ import annotations

import numpy as np

from vfiodeck.core.vm.stats import DomainRates

HISTORY = 120  # samples kept per series: two minutes at the default 1 s


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
        self.time = Ring()  # when each sample was taken (monotonic seconds)
        self.cpu = Ring()
        self.vcpus: list[Ring] = []
        self.memory = Ring()
        self.disk_read, self.disk_write = Ring(), Ring()
        self.net_rx, self.net_tx = Ring(), Ring()

    def add(self, r: DomainRates, when: float) -> None:
        self.time.append(when)
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


def seconds_ago(times: Ring) -> np.ndarray:
    """The x values of a ring's samples: seconds before the newest one (<= 0)."""
    t = times.view()
    return t - t[-1] if len(t) else t


def has_data(ring: Ring) -> bool:
    values = ring.view()
    return bool(len(values)) and not np.isnan(values).all()
