"""Stats sampling on the test driver, rate maths with injected timestamps, host CPU and vfio interrupts."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import libvirt
import psutil
import pytest

from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.errors import ConnectionLostError
from vfiodeck.core.vm.stats import (
    DomainSample,
    HostCpuSample,
    InterruptSample,
    StatsSample,
    StatsSampler,
    domain_rates,
    host_core_percent,
    interrupt_rates,
    live_data_available,
    parse_vfio_interrupts,
    rates,
    sample_from_record,
    sample_host_cpu,
    sample_interrupts,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
URI = "test://" + str(FIXTURES / "libvirt" / "host-two-vms.xml")
IRQ = FIXTURES / "interrupts"
NVME_HOST = IRQ / "intel-host-32cpu-vfio-msix-ir-pci-msix-posted-interrupts.txt"
TWO_HOSTS = IRQ / "vfio-msix-with-posted-interrupts-128cpu-excerpt-and-without-32cpu-excerpt.txt"
QEMU_GUEST = IRQ / "qemu-guest-noapic-xt-pic-and-pci-msix-without-ir.txt"


@pytest.fixture
def conn() -> Iterator[libvirt.virConnect]:
    hyp = Hypervisor(URI, events=False)
    hyp.connect()
    yield hyp.conn
    hyp.close()


def ticking_clock(step: float = 1.0) -> Iterator[float]:
    return itertools.count(100.0, step)


# -- sampler on the test driver ---------------------------------------------------------------------


def test_test_driver_falls_back_to_domain_info(conn: libvirt.virConnect) -> None:
    clock = ticking_clock()
    sample = StatsSampler(clock=lambda: next(clock)).sample(conn)
    assert not sample.bulk  # the test driver's bulk answer has only state.*
    assert sample.timestamp == 100.0
    by_name = {d.name: d for d in sample.domains}
    assert sorted(by_name) == ["alpha", "beta"]
    alpha = by_name["alpha"]
    assert (alpha.uuid, alpha.vcpus, alpha.memory_kib, alpha.memory_max_kib) == (
        "4dea22b3-1d52-d8f3-2516-782e98ab3fa0",
        2,
        2097152,
        2097152,
    )
    assert alpha.cpu_time_ns is not None
    assert alpha.cpu_time_ns > 0
    assert alpha.state == libvirt.VIR_DOMAIN_RUNNING


def test_cpu_time_advances_between_samples(conn: libvirt.virConnect) -> None:
    sampler = StatsSampler()
    first = sampler.sample(conn).by_uuid()["4dea22b3-1d52-d8f3-2516-782e98ab3fa0"]
    # The test driver derives CPU time from the clock: poll (briefly) until it moved.
    for _ in range(1000):
        later = sampler.sample(conn).by_uuid()["4dea22b3-1d52-d8f3-2516-782e98ab3fa0"]
        assert later.cpu_time_ns is not None
        assert first.cpu_time_ns is not None
        if later.cpu_time_ns > first.cpu_time_ns:
            break
    assert later.cpu_time_ns > first.cpu_time_ns


def test_stopped_domains_are_not_sampled(conn: libvirt.virConnect) -> None:
    conn.lookupByName("beta").destroy()
    for sampler in (StatsSampler(), StatsSampler(bulk=False)):
        assert [d.name for d in sampler.sample(conn).domains] == ["alpha"]


def test_per_domain_path_matches_bulk_fallback(conn: libvirt.virConnect) -> None:
    bulk = StatsSampler(clock=lambda: 1.0).sample(conn)
    each = StatsSampler(clock=lambda: 1.0, bulk=False).sample(conn)
    strip = lambda s: sorted((d.name, d.uuid, d.vcpus, d.memory_kib) for d in s.domains)  # noqa: E731
    assert strip(bulk) == strip(each)


def test_a_dead_connection_is_reported(conn: libvirt.virConnect) -> None:
    dead = libvirt.open(URI)
    dead.close()
    with pytest.raises(ConnectionLostError):
        StatsSampler().sample(dead)


# -- rate maths (pure) ------------------------------------------------------------------------------


def _dom(**kw: object) -> DomainSample:
    base: dict[str, object] = {"name": "win11", "uuid": "u1", "state": 1, "vcpus": 2, "cpu_time_ns": 0}
    base.update(kw)
    return DomainSample(**base)  # type: ignore[arg-type]


def test_cpu_percent_is_of_all_vcpus() -> None:
    prev = StatsSample(
        10.0, (_dom(cpu_time_ns=5_000_000_000, vcpu_times_ns=(2_000_000_000, 3_000_000_000)),), True
    )
    # 2 s later: vCPU0 busy 1.5 s, vCPU1 busy 0.5 s -> 2 s of 4 possible = 50 %
    cur = StatsSample(
        12.0, (_dom(cpu_time_ns=7_000_000_000, vcpu_times_ns=(3_500_000_000, 3_500_000_000)),), True
    )
    (r,) = rates(prev, cur)
    assert r.cpu_percent == pytest.approx(50.0)
    assert r.vcpu_percent == pytest.approx((75.0, 25.0))


def test_byte_rates_and_memory() -> None:
    prev = _dom(disk_read_bytes=1_000, disk_write_bytes=0, net_rx_bytes=500, net_tx_bytes=100)
    cur = _dom(
        disk_read_bytes=401_000,
        disk_write_bytes=8_192,
        net_rx_bytes=4_500,
        net_tx_bytes=100,
        memory_kib=16_777_216,
        memory_unused_kib=4_194_304,
    )
    r = domain_rates(prev, cur, 4.0)
    assert (r.disk_read_bps, r.disk_write_bps, r.net_rx_bps, r.net_tx_bps) == (
        100_000.0,
        2_048.0,
        1_000.0,
        0.0,
    )
    assert (r.memory_kib, r.memory_used_kib) == (16_777_216, 12_582_912)


def test_restarted_domain_gives_no_rate_for_one_interval() -> None:
    # CPU time and byte counters start again from zero after a restart.
    prev = _dom(cpu_time_ns=90_000_000_000, disk_read_bytes=10_000)
    cur = _dom(cpu_time_ns=1_000_000, disk_read_bytes=0)
    r = domain_rates(prev, cur, 1.0)
    assert r.cpu_percent is None
    assert r.disk_read_bps is None


def test_unknown_counters_stay_unknown() -> None:
    r = domain_rates(_dom(cpu_time_ns=None), _dom(cpu_time_ns=None), 1.0)
    assert (r.cpu_percent, r.disk_read_bps, r.net_rx_bps, r.memory_used_kib) == (None, None, None, None)
    assert r.vcpu_percent == ()


def test_no_time_passed_means_no_rates() -> None:
    s = StatsSample(5.0, (_dom(),), True)
    assert rates(s, s) == ()


def test_only_domains_in_both_samples_get_rates() -> None:
    prev = StatsSample(0.0, (_dom(uuid="a", name="a"),), True)
    cur = StatsSample(1.0, (_dom(uuid="a", name="a"), _dom(uuid="b", name="b")), True)
    assert [r.name for r in rates(prev, cur)] == ["a"]


def test_cpu_percent_is_clamped() -> None:
    # A tick that arrives late still must not draw 130 %: the clock and libvirt disagree by a little.
    r = domain_rates(_dom(cpu_time_ns=0, vcpus=1), _dom(cpu_time_ns=1_300_000_000, vcpus=1), 1.0)
    assert r.cpu_percent == 100.0


# -- host CPU ---------------------------------------------------------------------------------------


def test_host_cpu_sample_has_one_entry_per_cpu() -> None:
    sample = sample_host_cpu(clock=lambda: 3.0)
    assert len(sample.busy) == len(sample.total) == psutil.cpu_count()
    assert all(0 <= b <= t for b, t in zip(sample.busy, sample.total, strict=True))


def test_host_core_percent() -> None:
    prev = HostCpuSample(0.0, busy=(10.0, 50.0, 7.0), total=(100.0, 100.0, 7.0))
    cur = HostCpuSample(1.0, busy=(10.5, 51.0, 7.0), total=(101.0, 101.0, 7.0))
    assert host_core_percent(prev, cur) == (50.0, 100.0, None)


def test_host_core_percent_after_cpu_hotplug() -> None:
    prev = HostCpuSample(0.0, busy=(1.0,), total=(2.0,))
    cur = HostCpuSample(1.0, busy=(1.0, 1.0), total=(3.0, 3.0))
    assert host_core_percent(prev, cur) == (None, None)


# -- vfio interrupts from real /proc/interrupts captures ---------------------------------------------


def test_parses_the_vfio_msix_lines_of_a_32_cpu_host() -> None:
    irqs = parse_vfio_interrupts(NVME_HOST.read_text())
    assert [(i.irq, i.vector) for i in irqs] == [
        ("127", 0),
        ("130", 1),
        ("131", 2),
        ("132", 3),
        ("133", 4),
        ("134", 5),
        ("135", 6),
        ("136", 7),
        ("137", 8),
    ]
    assert {i.device for i in irqs} == {"0000:03:00.0"}
    assert {i.kind for i in irqs} == {"msix"}
    # Single-CPU rows, read off the file: vector 1 fired 4649920 times on CPU30, vector 7 once on CPU17.
    assert irqs[1].count == 4649920
    assert irqs[7].count == 1


def test_sums_the_per_cpu_columns() -> None:
    # Row 140 of the second host: 62 on CPU27 and 78 on CPU30.
    irqs = {i.irq: i for i in parse_vfio_interrupts(TWO_HOSTS.read_text())}
    assert irqs["140"].count == 140
    assert irqs["144"].count == 37 + 386
    assert irqs["100"].count == 0  # posted interrupts: the 128-CPU host never counts them
    assert irqs["100"].device == "0000:c8:00.0"


def test_a_guest_without_vfio_has_no_vfio_lines() -> None:
    assert parse_vfio_interrupts(QEMU_GUEST.read_text()) == ()


def test_garbage_is_ignored() -> None:
    assert parse_vfio_interrupts("\x00\xff not /proc/interrupts\n vfio-msix[0](0000:03:00.0)\n") == ()


def test_interrupt_rates_per_device() -> None:
    # Two captures of the same NVMe (0000:03:00.0) published by the same author; the second was taken
    # after the first. 9 vectors total 1190 in the excerpt and 19288201 in the full file.
    early = parse_vfio_interrupts(TWO_HOSTS.read_text())
    late = parse_vfio_interrupts(NVME_HOST.read_text())
    prev = InterruptSample(0.0, tuple(i for i in early if i.device == "0000:03:00.0"))
    cur = InterruptSample(10.0, late)
    assert prev.per_device() == {"0000:03:00.0": 1190}
    assert cur.per_device() == {"0000:03:00.0": 19288201}
    assert interrupt_rates(prev, cur) == {"0000:03:00.0": (19288201 - 1190) / 10.0}
    # Counters that go down (vectors re-registered when the VM restarted) give no rate.
    assert interrupt_rates(InterruptSample(0.0, late), InterruptSample(1.0, prev.irqs)) == {}


def test_sample_interrupts_reads_under_a_root(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "interrupts").write_text(NVME_HOST.read_text())
    sample = sample_interrupts(tmp_path, clock=lambda: 7.0)
    assert sample.timestamp == 7.0
    assert sample.per_device() == {"0000:03:00.0": 19288201}
    missing = sample_interrupts(tmp_path / "missing")
    assert missing.irqs == ()
    assert missing.problem == "proc/interrupts: not there"
    assert sample_interrupts(HostRoot(tmp_path)).per_device() == {"0000:03:00.0": 19288201}


def test_live_data_only_for_the_live_host(tmp_path: Path) -> None:
    assert live_data_available(None)
    assert live_data_available(HostRoot.live_host())
    assert not live_data_available(HostRoot(tmp_path))


# -- real getAllDomainStats records (QEMU under libvirt's embedded driver, captured here) -----------


def test_rates_from_two_real_qemu_records() -> None:
    doc = json.loads((FIXTURES / "libvirt" / "qemu-embed-allstats-spin.json").read_text())
    first, second = (
        StatsSample(s["timestamp"], (sample_from_record(s["name"], s["uuid"], s["record"]),), True)
        for s in doc["samples"]
    )
    dom = second.domains[0]
    assert (dom.name, dom.vcpus, dom.cpu_time_ns, dom.vcpu_times_ns) == (
        "spin",
        2,
        1966802000,
        (1690000000, 0),
    )
    assert (dom.memory_kib, dom.memory_max_kib, dom.memory_unused_kib) == (65536, 65536, None)
    assert (dom.disk_read_bytes, dom.disk_write_bytes, dom.net_rx_bytes) == (512, 0, None)
    (r,) = rates(first, second)
    elapsed = 728.968474054 - 727.909317225
    assert r.cpu_percent == pytest.approx((1966802000 - 1244630000) / (elapsed * 2e9) * 100)
    # vCPU 1 is the application processor: the boot sector never wakes it.
    assert r.vcpu_percent == pytest.approx(((1690000000 - 1010000000) / (elapsed * 1e9) * 100, 0.0))
    assert (r.disk_read_bps, r.disk_write_bps, r.net_rx_bps) == (0.0, 0.0, None)
