"""The graphs receive samples: curves grow, hidden graphs stay undrawn, the real tick works on the
test driver, and pyqtgraph is not imported until graphs are shown."""

from __future__ import annotations

import subprocess
import sys

from pytestqt.qtbot import QtBot

from vfiodeck.core.vm.stats import DomainSample, HostCpuSample, InterruptSample, StatsSample, VfioIrq
from vfiodeck.gui.vms.graphs import Ring
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
