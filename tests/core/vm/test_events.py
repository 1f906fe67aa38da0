"""Lifecycle events from libvirt's test driver, delivered on the event-loop thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.events import (
    LifecycleEvent,
    LifecycleKind,
    ensure_event_loop,
    event_loop_running,
    subscribe_lifecycle,
)

HOST_XML = Path(__file__).resolve().parents[2] / "fixtures" / "libvirt" / "host-two-vms.xml"
URI = "test://" + str(HOST_XML)
TIMEOUT = 5.0  # generous upper bound: events normally arrive within milliseconds

DELTA_XML = """<domain type='test'>
  <name>delta</name>
  <memory unit='KiB'>524288</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
</domain>"""


class Recorder:
    def __init__(self) -> None:
        self.events: queue.Queue[tuple[LifecycleEvent, str]] = queue.Queue()

    def __call__(self, event: LifecycleEvent) -> None:
        self.events.put((event, threading.current_thread().name))

    def next(self) -> tuple[LifecycleEvent, str]:
        return self.events.get(timeout=TIMEOUT)


@pytest.fixture
def hv() -> Iterator[Hypervisor]:
    hyp = Hypervisor(URI)
    hyp.connect()
    yield hyp
    hyp.close()


def test_event_loop_starts_once() -> None:
    ensure_event_loop()
    ensure_event_loop()
    assert event_loop_running()
    assert [t.name for t in threading.enumerate()].count("libvirt-events") == 1


def test_lifecycle_events_reach_the_callback_on_the_loop_thread(hv: Hypervisor) -> None:
    rec = Recorder()
    sub = hv.watch(rec)
    assert sub is not None
    hv.destroy("alpha")
    event, thread = rec.next()
    assert (event.name, event.uuid, event.kind) == (
        "alpha",
        "4dea22b3-1d52-d8f3-2516-782e98ab3fa0",
        LifecycleKind.STOPPED,
    )
    assert event.detail == libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED
    assert thread == "libvirt-events"
    sub.cancel()


def test_define_start_stop_undefine_in_order(hv: Hypervisor) -> None:
    rec = Recorder()
    sub = hv.watch(rec)
    assert sub is not None
    hv.define(DELTA_XML)
    hv.start("delta")
    hv.destroy("delta")
    hv.undefine("delta")
    kinds = [rec.next()[0] for _ in range(4)]
    assert [(e.name, e.kind) for e in kinds] == [
        ("delta", LifecycleKind.DEFINED),
        ("delta", LifecycleKind.STARTED),
        ("delta", LifecycleKind.STOPPED),
        ("delta", LifecycleKind.UNDEFINED),
    ]
    sub.cancel()


def test_cancelled_subscription_hears_nothing(hv: Hypervisor) -> None:
    first, second = Recorder(), Recorder()
    sub = hv.watch(first)
    keep = hv.watch(second)
    assert sub is not None
    assert keep is not None
    sub.cancel()
    sub.cancel()  # idempotent
    assert not sub.active
    hv.destroy("beta")
    assert second.next()[0].name == "beta"  # the event was delivered ...
    assert first.events.empty()  # ... but not to the cancelled callback
    keep.cancel()


def test_a_failing_callback_does_not_stop_the_loop(hv: Hypervisor) -> None:
    def broken(_event: LifecycleEvent) -> None:
        raise RuntimeError("bug in a listener")

    rec = Recorder()
    bad = hv.watch(broken)
    good = hv.watch(rec)
    assert bad is not None
    assert good is not None
    hv.destroy("alpha")
    hv.destroy("beta")
    assert [rec.next()[0].name for _ in range(2)] == ["alpha", "beta"]
    assert event_loop_running()
    bad.cancel()
    good.cancel()


def test_no_events_switch_means_polling() -> None:
    hyp = Hypervisor(URI, events=False)
    hyp.connect()
    assert hyp.watch(lambda _e: None) is None
    hyp.close()


def test_cancel_after_the_connection_closed_is_harmless(hv: Hypervisor) -> None:
    sub = subscribe_lifecycle(hv.conn, lambda _e: None)
    assert sub is not None
    hv.close()
    sub.cancel()
    assert not sub.active


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (0, LifecycleKind.DEFINED),
        (5, LifecycleKind.STOPPED),
        (8, LifecycleKind.CRASHED),
        (42, LifecycleKind.UNKNOWN),
    ],
)
def test_kind_from_libvirt(value: int, kind: LifecycleKind) -> None:
    assert LifecycleKind.from_libvirt(value) is kind
