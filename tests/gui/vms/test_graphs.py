"""The graphs receive samples: curves grow, hidden graphs stay undrawn, the real tick works on the
test driver, and pyqtgraph is not imported until graphs are shown."""

from __future__ import annotations

import subprocess
import sys

from pytestqt.qtbot import QtBot

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.vm.stats import DomainSample, HostCpuSample, InterruptSample, StatsSample, VfioIrq
from vfiodeck.gui.vms.graphs import NO_DATA, NO_LIVE, GraphsPanel, Ring
from vfiodeck.gui.vms.page import VmsPage


def _sample(t: float, cpu_ns: int, vcpu_ns: tuple[int, ...]) -> StatsSample:
    dom = DomainSample(
        name="gaming",
        uuid="6a1b0d9e-2f7c-4a35-9d43-0c8f3e2b7a10",
        state=1,
        vcpus=len(vcpu_ns),
        cpu_time_ns=cpu_ns,
        vcpu_times_ns=vcpu_ns,
        memory_kib=8388608,
        memory_unused_kib=4194304,
        disk_read_bytes=int(t * 1000),
        disk_write_bytes=0,
    )
    return StatsSample(t, (dom,), bulk=True)


def test_ring_keeps_the_newest_values_in_order() -> None:
    ring = Ring(size=3)
    for v in range(8):
        ring.append(v)
    assert list(ring.view()) == [5.0, 6.0, 7.0]
    assert len(ring) == 3


def test_graphs_grow_with_samples_and_highlight_nothing_hidden(qtbot: QtBot, page: VmsPage) -> None:
    page.select("gaming")
    page.show_graphs(True)
    panel = page.graphs
    assert panel is not None
    panel.set_active(False)  # feed it by hand: no timer in this test
    page.show()
    qtbot.waitExposed(page)
    uri = page.model.find_name("gaming").uri
    vcpus = (0, 0, 0, 0)
    for i in range(4):
        t = float(i)
        panel.add_sample(uri, _sample(t, int(t * 2e9), tuple(int(t * 0.5e9) for _ in vcpus)))
    x, y = panel.cpu_curve.getData()
    assert len(y) == 3  # four samples, three intervals
    assert y[-1] == 50.0  # 2 s of CPU per 1 s over 4 vCPUs
    assert len(panel.vcpu_curves) == 4
    assert list(panel.vcpu_curves[0].getData()[1]) == [50.0, 50.0, 50.0]
    assert list(panel.mem_curve.getData()[1]) == [4096.0, 4096.0, 4096.0]
    assert list(panel.disk_curves[0].getData()[1]) == [1000.0, 1000.0, 1000.0]

    irq = VfioIrq("120", "0000:08:00.0", "msix", 0, 0)
    panel.set_vm(page.model.find_name("workstation"))  # passes 43:00.0: one interrupt curve
    assert list(panel.irq_curves) == ["0000:43:00.0"]
    cpu0 = HostCpuSample(0.0, (0.0, 0.0), (10.0, 10.0))
    cpu1 = HostCpuSample(1.0, (5.0, 1.0), (20.0, 20.0))
    irq0 = InterruptSample(0.0, (VfioIrq("120", "0000:43:00.0", "msix", 0, 100), irq))
    irq1 = InterruptSample(1.0, (VfioIrq("120", "0000:43:00.0", "msix", 0, 350), irq))
    panel.add_host_sample(cpu0, irq0)
    panel.add_host_sample(cpu1, irq1)
    assert panel.host_percent == (50.0, 10.0)
    assert list(panel.irq_curves["0000:43:00.0"].getData()[1]) == [250.0]

    page.show_graphs(False)  # hidden: rings fill, curves are not redrawn
    panel.set_vm(page.model.find_name("gaming"))
    before = len(panel.cpu_curve.getData()[1])
    panel.add_sample(uri, _sample(4.0, int(8e9), (2_000_000_000,) * 4))
    assert len(panel.series["6a1b0d9e-2f7c-4a35-9d43-0c8f3e2b7a10"].cpu) == 4
    assert len(panel.cpu_curve.getData()[1]) == before


def test_real_ticks_on_the_test_driver_draw_cpu(qtbot: QtBot, page: VmsPage) -> None:
    page.select("gaming")
    page.show()
    page.show_graphs(True)
    panel = page.graphs
    assert panel is not None
    panel.set_active(False)
    for _ in range(3):
        busy = set(panel._busy)
        panel.tick()
        qtbot.waitUntil(lambda busy=busy: not panel._busy)
    y = panel.cpu_curve.getData()[1]
    assert y is not None
    assert len(y) == 2  # three samples of dom.info() CPU time (the test driver's fallback)


def test_pyqtgraph_is_imported_only_with_the_graphs() -> None:
    code = "import sys; import vfiodeck.gui.vms.page; print('pyqtgraph' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _open(qtbot: QtBot, page: VmsPage, name: str = "gaming") -> GraphsPanel:
    page.select(name)
    page.show_graphs(True)
    panel = page.graphs
    assert panel is not None
    panel.set_active(False)  # fed by hand
    page.show()
    qtbot.waitExposed(page)
    return panel


def test_one_redraw_per_tick_when_its_last_sample_is_back(qtbot: QtBot, page: VmsPage) -> None:
    panel = _open(qtbot, page)
    uri = page.model.find_name("gaming").uri
    cpu = HostCpuSample(0.0, (0.0,), (1.0,))
    irqs = InterruptSample(0.0, ())
    for t in range(3):
        panel._busy = {uri, "host"}
        before = panel.redraws
        panel._sampled(uri, _sample(float(t), t * 10**9, (0, 0, 0, 0)))
        assert panel.redraws == before  # the host sample of this tick is still out
        panel._host_sampled((cpu, irqs))
        assert panel.redraws == before + (1 if t else 0)  # the first tick has no rate yet


def test_time_axis_is_seconds_before_the_newest_sample(qtbot: QtBot, page: VmsPage) -> None:
    panel = _open(qtbot, page)
    uri = page.model.find_name("gaming").uri
    for t in (10.0, 12.0, 13.0):
        panel.add_sample(uri, _sample(t, int(t * 1e9), (0, 0, 0, 0)))
    x, _y = panel.cpu_curve.getData()
    assert list(x) == [-1.0, 0.0]
    assert panel.cpu_plot.getAxis("bottom").labelText == "seconds ago"


def test_notes_say_what_the_driver_does_not_give(qtbot: QtBot, page: VmsPage) -> None:
    panel = _open(qtbot, page)
    uri = page.model.find_name("gaming").uri
    for t in range(3):
        panel.add_sample(uri, _sample(float(t), t * 10**9, (0, 0, 0, 0)))
    assert panel.notes["net"].textItem.toPlainText() == NO_DATA  # no interface stats in the sample
    assert panel.notes["disk"].textItem.toPlainText() == ""
    assert panel.notes["host"].textItem.toPlainText() == NO_LIVE  # a listing is not this machine


def test_another_vm_or_a_reload_clears_the_curves(qtbot: QtBot, page: VmsPage, demo_host: HostModel) -> None:
    panel = _open(qtbot, page)
    uri = page.model.find_name("gaming").uri
    for t in range(3):
        panel.add_sample(uri, _sample(float(t), t * 10**9, (0, 0, 0, 0)))
    assert len(panel.cpu_curve.getData()[1]) == 2
    panel.set_vm(page.model.find_name("workstation"))  # nothing sampled for it yet
    assert panel.cpu_curve.getData()[1] is None or len(panel.cpu_curve.getData()[1]) == 0
    panel.set_vm(page.model.find_name("gaming"))
    assert len(panel.cpu_curve.getData()[1]) == 2
    page.set_host(demo_host)
    assert panel.series == {}
    assert panel.cpu_curve.getData()[1] is None or len(panel.cpu_curve.getData()[1]) == 0


def test_a_snapshot_shows_its_own_cores_and_samples_nothing_here(
    qtbot: QtBot, page: VmsPage, demo_host: HostModel
) -> None:
    panel = _open(qtbot, page)
    page.set_host(demo_host)
    assert not panel.samples_host
    panel.tick()
    assert "host" not in panel._busy
    assert len(panel.host_bars.opts["height"]) == len(demo_host.topology.cpus)
    assert panel.notes["irq"].textItem.toPlainText() == NO_LIVE


def test_nothing_is_drawn_while_hidden_and_the_backlog_once_shown(qtbot: QtBot, page: VmsPage) -> None:
    panel = _open(qtbot, page)
    uri = page.model.find_name("gaming").uri
    page.hide()
    before = panel.redraws
    for t in range(4):
        panel.add_sample(uri, _sample(float(t), t * 10**9, (0, 0, 0, 0)))
    assert panel.redraws == before
    page.show()
    qtbot.waitExposed(page)
    assert panel.redraws == before + 1
    assert len(panel.cpu_curve.getData()[1]) == 3
