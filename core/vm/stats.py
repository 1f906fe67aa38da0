"""Statistics for the graphs: samples from libvirt, rates computed from two consecutive samples.

One ``getAllDomainStats`` call per connection per tick covers every running domain. Drivers whose bulk
answer lacks ``cpu.time`` (the test driver returns only ``state.*``) fall back to ``dom.info()`` per
domain. Rates are pure functions of two samples with their own timestamps, so they are tested without
waiting and a late tick never shows a spike.

Host side: ``sample_host_cpu()`` and ``sample_interrupts(root)`` sample the live host only; ask
``live_data_available(root)`` first, and show "live data unavailable for a snapshot" otherwise.
``InterruptSample.problem`` says why there are no counters (permission denied stays that).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import libvirt

from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.sysfs import Reader
from vfiodeck.core.vm.errors import translate

_STAT_GROUPS = (
    libvirt.VIR_DOMAIN_STATS_STATE
    | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
    | libvirt.VIR_DOMAIN_STATS_BALLOON
    | libvirt.VIR_DOMAIN_STATS_VCPU
    | libvirt.VIR_DOMAIN_STATS_INTERFACE
    | libvirt.VIR_DOMAIN_STATS_BLOCK
)


@dataclass(frozen=True)
class DomainSample:
    """Cumulative counters of one running domain at one instant. None: the driver did not say."""

    name: str
    uuid: str
    state: int  # virDomainState
    vcpus: int | None
    cpu_time_ns: int | None
    vcpu_times_ns: tuple[int, ...] = ()  # by vCPU number; empty when the driver gives none
    memory_kib: int | None = None  # memory the guest has now (balloon current)
    memory_max_kib: int | None = None
    memory_unused_kib: int | None = None  # as the guest's balloon driver reports it
    disk_read_bytes: int | None = None  # summed over all disks
    disk_write_bytes: int | None = None
    net_rx_bytes: int | None = None  # summed over all interfaces
    net_tx_bytes: int | None = None


@dataclass(frozen=True)
class StatsSample:
    timestamp: float  # seconds on the sampler's clock (monotonic by default)
    domains: tuple[DomainSample, ...]
    bulk: bool  # True when one getAllDomainStats call answered everything

    def by_uuid(self) -> dict[str, DomainSample]:
        return {d.uuid: d for d in self.domains}


@dataclass(frozen=True)
class DomainRates:
    name: str
    uuid: str
    cpu_percent: float | None  # 100 = every vCPU busy all the time
    vcpu_percent: tuple[float, ...]  # each vCPU, 0-100
    memory_kib: int | None
    memory_used_kib: int | None
    disk_read_bps: float | None  # bytes per second
    disk_write_bps: float | None
    net_rx_bps: float | None
    net_tx_bps: float | None


def _int(record: Mapping[str, object], key: str) -> int | None:
    value = record.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _summed(record: Mapping[str, object], prefix: str, suffix: str) -> int | None:
    """Sum ``prefix.N.suffix`` over N = 0 .. ``prefix.count`` - 1; None if no item reports it."""
    count = _int(record, f"{prefix}.count")
    if count is None:
        return None
    values = [_int(record, f"{prefix}.{i}.{suffix}") for i in range(count)]
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def sample_from_record(name: str, uuid: str, record: Mapping[str, object]) -> DomainSample:
    """A ``DomainSample`` from one getAllDomainStats record (a flat dict of typed parameters)."""
    vcpus = _int(record, "vcpu.current")
    vcpu_times: list[int] = []
    for i in range(vcpus or 0):
        value = _int(record, f"vcpu.{i}.time")
        if value is None:
            vcpu_times = []  # a gap would misalign vCPU numbers: report none rather than wrong ones
            break
        vcpu_times.append(value)
    current = _int(record, "balloon.current")
    return DomainSample(
        name=name,
        uuid=uuid,
        state=_int(record, "state.state") or 0,
        vcpus=vcpus,
        cpu_time_ns=_int(record, "cpu.time"),
        vcpu_times_ns=tuple(vcpu_times),
        memory_kib=current,
        memory_max_kib=_int(record, "balloon.maximum"),
        memory_unused_kib=_int(record, "balloon.unused"),
        disk_read_bytes=_summed(record, "block", "rd.bytes"),
        disk_write_bytes=_summed(record, "block", "wr.bytes"),
        net_rx_bytes=_summed(record, "net", "rx.bytes"),
        net_tx_bytes=_summed(record, "net", "tx.bytes"),
    )


def sample_from_info(dom: libvirt.virDomain) -> DomainSample:
    """The per-domain fallback: ``dom.info()`` gives state, memory, vCPU count and total CPU time."""
    state, max_mem, mem, vcpus, cpu_time = dom.info()
    return DomainSample(
        name=dom.name(),
        uuid=dom.UUIDString(),
        state=state,
        vcpus=vcpus,
        cpu_time_ns=cpu_time,
        memory_kib=mem,
        memory_max_kib=max_mem,
    )


class StatsSampler:
    """Takes one ``StatsSample`` of every running domain per ``sample()`` call.

    ``bulk=False`` forces the per-domain path (for comparison in bench/stats.py). The clock is
    injectable so tests control timestamps.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, bulk: bool = True) -> None:
        self._clock = clock
        self._bulk = bulk

    def sample(self, conn: libvirt.virConnect) -> StatsSample:
        try:
            if self._bulk:
                return self._sample_bulk(conn)
            return self._sample_each(conn, conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE))
        except libvirt.libvirtError as err:
            raise translate(err) from err

    def _sample_bulk(self, conn: libvirt.virConnect) -> StatsSample:
        try:
            records = conn.getAllDomainStats(_STAT_GROUPS, libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE)
        except libvirt.libvirtError as err:
            if err.get_error_code() not in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED):
                raise
            self._bulk = False  # this driver never will: stop asking every tick
            return self._sample_each(conn, conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE))
        timestamp = self._clock()
        domains: list[DomainSample] = []
        for dom, record in records:
            if "cpu.time" in record:
                domains.append(sample_from_record(dom.name(), dom.UUIDString(), record))
            else:
                fallback = _info_or_none(dom)
                if fallback is not None:
                    domains.append(fallback)
        return StatsSample(timestamp, tuple(domains), bulk=all("cpu.time" in r for _d, r in records))

    def _sample_each(self, conn: libvirt.virConnect, doms: list[libvirt.virDomain]) -> StatsSample:
        timestamp = self._clock()
        samples = (_info_or_none(dom) for dom in doms)
        return StatsSample(timestamp, tuple(s for s in samples if s is not None), bulk=False)


def _info_or_none(dom: libvirt.virDomain) -> DomainSample | None:
    """A domain that stopped or vanished between the list and the read has no sample this tick."""
    try:
        return sample_from_info(dom)
    except libvirt.libvirtError as err:
        if err.get_error_code() in (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_OPERATION_INVALID):
            return None
        raise


def _per_second(prev: int | None, cur: int | None, elapsed: float) -> float | None:
    # A counter that went backwards means the domain restarted: no honest rate for this interval.
    if prev is None or cur is None or cur < prev:
        return None
    return (cur - prev) / elapsed


def _percent(prev_ns: int, cur_ns: int, elapsed: float, cpus: int) -> float | None:
    if cur_ns < prev_ns or cpus <= 0:
        return None
    return min(100.0, max(0.0, (cur_ns - prev_ns) / (elapsed * 1e9 * cpus) * 100.0))


def domain_rates(prev: DomainSample, cur: DomainSample, elapsed: float) -> DomainRates:
    """Rates of one domain over ``elapsed`` seconds (must be > 0)."""
    cpu = None
    if prev.cpu_time_ns is not None and cur.cpu_time_ns is not None and cur.vcpus:
        cpu = _percent(prev.cpu_time_ns, cur.cpu_time_ns, elapsed, cur.vcpus)
    vcpu: tuple[float, ...] = ()
    if len(prev.vcpu_times_ns) == len(cur.vcpu_times_ns):
        pairs = zip(prev.vcpu_times_ns, cur.vcpu_times_ns, strict=True)
        each = [_percent(p, c, elapsed, 1) for p, c in pairs]
        vcpu = tuple(v for v in each if v is not None) if None not in each else ()
    used = None
    if cur.memory_kib is not None and cur.memory_unused_kib is not None:
        used = cur.memory_kib - cur.memory_unused_kib
    return DomainRates(
        name=cur.name,
        uuid=cur.uuid,
        cpu_percent=cpu,
        vcpu_percent=vcpu,
        memory_kib=cur.memory_kib,
        memory_used_kib=used,
        disk_read_bps=_per_second(prev.disk_read_bytes, cur.disk_read_bytes, elapsed),
        disk_write_bps=_per_second(prev.disk_write_bytes, cur.disk_write_bytes, elapsed),
        net_rx_bps=_per_second(prev.net_rx_bytes, cur.net_rx_bytes, elapsed),
        net_tx_bps=_per_second(prev.net_tx_bytes, cur.net_tx_bytes, elapsed),
    )


def rates(prev: StatsSample, cur: StatsSample) -> tuple[DomainRates, ...]:
    """Rates for every domain present in both samples, in ``cur``'s order. Empty when no time passed
    (two samples with the same timestamp carry no rate)."""
    elapsed = cur.timestamp - prev.timestamp
    if elapsed <= 0:
        return ()
    before = prev.by_uuid()
    return tuple(domain_rates(before[d.uuid], d, elapsed) for d in cur.domains if d.uuid in before)


# -- host side ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HostCpuSample:
    """Cumulative busy and total seconds of each logical CPU, by CPU number."""

    timestamp: float
    busy: tuple[float, ...]
    total: tuple[float, ...]


def sample_host_cpu(clock: Callable[[], float] = time.monotonic) -> HostCpuSample:
    """This machine's CPU counters (psutil): only meaningful when the live host is shown
    (``live_data_available``)."""
    import psutil

    busy: list[float] = []
    total: list[float] = []
    for cpu in psutil.cpu_times(percpu=True):
        fields = cpu._asdict()
        # Linux counts guest time inside user and nice already: adding it again would double it.
        all_time = sum(fields.values()) - fields.get("guest", 0.0) - fields.get("guest_nice", 0.0)
        idle = fields.get("idle", 0.0) + fields.get("iowait", 0.0)
        busy.append(all_time - idle)
        total.append(all_time)
    return HostCpuSample(clock(), tuple(busy), tuple(total))


def host_core_percent(prev: HostCpuSample, cur: HostCpuSample) -> tuple[float | None, ...]:
    """Utilisation of each logical CPU between two samples, 0-100; None where the counters did not
    advance (an offline CPU) or the CPU count changed (hotplug: the numbering no longer matches)."""
    if len(prev.total) != len(cur.total):
        return (None,) * len(cur.total)
    out: list[float | None] = []
    for pb, pt, cb, ct in zip(prev.busy, prev.total, cur.busy, cur.total, strict=True):
        span = ct - pt
        out.append(min(100.0, max(0.0, (cb - pb) / span * 100.0)) if span > 0 else None)
    return tuple(out)


@dataclass(frozen=True)
class VfioIrq:
    """One /proc/interrupts line that vfio-pci registered for an assigned device."""

    irq: str  # the first column without its colon
    device: str  # PCI address, lowercase
    kind: str  # "msix", "msi" or "intx"
    vector: int | None  # the MSI/MSI-X vector; None for INTx
    count: int  # summed over all CPUs


# vfio-pci names its handlers "vfio-msix[N](BDF)", "vfio-msi[N](BDF)" and "vfio-intx(BDF)"
# (drivers/vfio/pci/vfio_pci_intrs.c).
_VFIO_NAME = re.compile(
    r"vfio-(msix|msi|intx)(?:\[(\d+)\])?\(([0-9A-Fa-f]{4,5}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7])\)"
)


def parse_vfio_interrupts(text: str) -> tuple[VfioIrq, ...]:
    """The vfio lines of a /proc/interrupts text. Lines that don't parse are skipped: the file's
    layout varies with kernel version and CPU count, and a graph can live without one line."""
    found: list[VfioIrq] = []
    for line in text.splitlines():
        match = _VFIO_NAME.search(line)
        if match is None:
            continue
        tokens = line.split()
        if not tokens or not tokens[0].endswith(":"):
            continue
        counts: list[int] = []
        for token in tokens[1:]:
            if not token.isdigit():
                break  # the per-CPU columns end where the chip name starts
            counts.append(int(token))
        kind, vector, device = match.groups()
        found.append(
            VfioIrq(
                irq=tokens[0][:-1],
                device=device.lower(),
                kind=kind,
                vector=int(vector) if vector is not None else None,
                count=sum(counts),
            )
        )
    return tuple(found)


@dataclass(frozen=True)
class InterruptSample:
    timestamp: float
    irqs: tuple[VfioIrq, ...]
    problem: str | None = None  # why there are no counters ("proc/interrupts: permission denied")

    def per_device(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for irq in self.irqs:
            totals[irq.device] = totals.get(irq.device, 0) + irq.count
        return totals


def live_data_available(root: HostRoot | None) -> bool:
    """Host CPU load and interrupt counters can be sampled only on the live host: a snapshot or the
    demo host has none (say "live data unavailable for a snapshot" instead of drawing this machine)."""
    return root is None or root.live


def sample_interrupts(
    root: HostRoot | Path | None = None, clock: Callable[[], float] = time.monotonic
) -> InterruptSample:
    """vfio interrupt counters under ``root`` (None: the live host). When /proc/interrupts can't be
    read, no lines and ``problem`` says why: permission denied stays permission denied."""
    host = HostRoot.live_host() if root is None else root if isinstance(root, HostRoot) else HostRoot(root)
    reader = Reader(host)
    text = reader.text("proc/interrupts")
    if text is None:
        why = reader.problems[0].detail if reader.problems else "not there"
        return InterruptSample(clock(), (), f"proc/interrupts: {why}")
    return InterruptSample(clock(), parse_vfio_interrupts(text))


def interrupt_rates(prev: InterruptSample, cur: InterruptSample) -> dict[str, float]:
    """Interrupts per second of each assigned device, over all its vectors. A device whose count went
    down (its VM restarted and vfio re-registered the vectors) is left out for this interval."""
    elapsed = cur.timestamp - prev.timestamp
    if elapsed <= 0:
        return {}
    before = prev.per_device()
    return {
        dev: (count - before[dev]) / elapsed
        for dev, count in cur.per_device().items()
        if dev in before and count >= before[dev]
    }
