"""What does the stats sampler cost? Figures and ratios measured in the same run; no assertions.

    .venv/bin/python bench/stats.py [SECONDS]     (default 60)

(a) Per-tick cost with 50 defined and started domains on libvirt's test driver: one bulk
    ``getAllDomainStats`` call against one ``dom.info()`` call per domain, and the sampler in both
    modes. The test driver's bulk answer has only ``state.*``, so there the bulk sampler still reads
    ``dom.info()`` per domain for CPU time; against real QEMU the single bulk call is the whole tick.
    The test driver runs in-process, so a call costs no round trip and per-domain calls can come out
    cheaper here; the bulk call's gain is one RPC per tick instead of one or more per domain against a
    daemon (qemu:///system, qemu+ssh://), which this benchmark machine does not run.
(b) CPU use of one 1 Hz tick (domain stats of 8 running domains + rates + host per-core CPU +
    /proc/interrupts) over SECONDS seconds, as % of one core, from ``time.process_time``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import libvirt

from vfiodeck.core.vm.stats import (
    StatsSampler,
    host_core_percent,
    interrupt_rates,
    rates,
    sample_host_cpu,
    sample_interrupts,
)

EMPTY_NODE = """<node>
  <cpu><nodes>1</nodes><sockets>1</sockets><cores>16</cores><threads>2</threads><mhz>3600</mhz></cpu>
  <memory>268435456</memory>
</node>
"""

DOMAIN = """<domain type='test'>
  <name>bench-{i:02d}</name>
  <memory unit='MiB'>2048</memory>
  <vcpu>4</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
</domain>"""


def open_host(count: int, workdir: Path) -> libvirt.virConnect:
    """A fresh test-driver host with ``count`` defined and started domains."""
    node = workdir / f"node-{count}.xml"
    node.write_text(EMPTY_NODE)
    conn = libvirt.open("test://" + str(node))
    for i in range(count):
        conn.defineXML(DOMAIN.format(i=i)).create()
    return conn


def per_call(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds per call over ``repeat`` calls, in 5 interleaved batches (the machine is shared)."""
    batches = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        batches.append((time.perf_counter() - start) / repeat)
    return statistics.median(batches)


def bench_tick_cost(workdir: Path) -> None:
    conn = open_host(50, workdir)
    doms = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
    bulk_call = per_call(
        lambda: conn.getAllDomainStats(0, libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE), 200
    )
    info_calls = per_call(lambda: [d.info() for d in doms], 200)
    bulk_sampler = StatsSampler()
    each_sampler = StatsSampler(bulk=False)
    sampler_bulk = per_call(lambda: bulk_sampler.sample(conn), 200)
    sampler_each = per_call(lambda: each_sampler.sample(conn), 200)
    conn.close()
    print("(a) per-tick cost, 50 running domains, libvirt test driver")
    print(f"    one getAllDomainStats call          {bulk_call * 1e6:9.1f} us")
    print(f"    50 dom.info() calls                 {info_calls * 1e6:9.1f} us")
    print(f"    ratio per-domain / bulk             {info_calls / bulk_call:9.1f} x")
    print(f"    sampler, bulk mode (falls back)     {sampler_bulk * 1e6:9.1f} us")
    print(f"    sampler, per-domain mode            {sampler_each * 1e6:9.1f} us")
    print(f"    ratio sampler bulk / per-domain     {sampler_bulk / sampler_each:9.2f} x")


def bench_cpu_use(workdir: Path, seconds: float) -> None:
    conn = open_host(8, workdir)
    sampler = StatsSampler()
    prev, prev_host, prev_irq = sampler.sample(conn), sample_host_cpu(), sample_interrupts()
    ticks = 0
    busy = 0.0
    wall_start = time.monotonic()
    cpu_start = time.process_time()
    next_tick = wall_start + 1.0
    while time.monotonic() - wall_start < seconds:
        time.sleep(max(0.0, next_tick - time.monotonic()))
        next_tick += 1.0
        t0 = time.process_time()
        cur, host, irq = sampler.sample(conn), sample_host_cpu(), sample_interrupts()
        rates(prev, cur)
        host_core_percent(prev_host, host)
        interrupt_rates(prev_irq, irq)
        prev, prev_host, prev_irq = cur, host, irq
        busy += time.process_time() - t0
        ticks += 1
    wall = time.monotonic() - wall_start
    cpu = time.process_time() - cpu_start
    conn.close()
    print(f"(b) 1 Hz sampling of 8 running domains for {wall:.0f} s ({ticks} ticks)")
    print(f"    process CPU                         {cpu / wall * 100:9.3f} % of one core")
    print(f"    of which inside the ticks           {busy / wall * 100:9.3f} % of one core")
    print(f"    CPU per tick                        {busy / max(ticks, 1) * 1e3:9.3f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("seconds", nargs="?", type=float, default=60.0, help="duration of (b), default 60")
    args = parser.parse_args(argv)
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    with tempfile.TemporaryDirectory() as tmp:
        bench_tick_cost(Path(tmp))
        bench_cpu_use(Path(tmp), args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
