"""The pinning plan is shown on the topology view before it is applied."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from vfiodeck.core.host.candidates import find_candidates
from vfiodeck.core.host.root import HostRoot
from vfiodeck.core.host.scan import scan_host
from vfiodeck.core.plan.pinning import plan_pinning
from vfiodeck.gui.topology_view import TopologyView
from vfiodeck.resources import demo_host_path


def test_overlay_marks_the_planned_cpus_on_the_demo_host(qtbot: QtBot) -> None:
    host = scan_host(HostRoot.open(demo_host_path()))
    view = TopologyView()
    qtbot.addWidget(view)
    view.set_host(host, find_candidates(host))
    gtx1060 = host.device("0000:43:00.0")
    assert gtx1060 is not None
    assert gtx1060.numa_node == 1
    plan = plan_pinning(host.topology, 8, device_nodes=(1,))
    view.set_pinning_overlay(plan.vcpupin_map(), plan.emulator_cpus)

    overlay = view.pinning_overlay
    assert sorted(overlay) == sorted(f"cpu:{cpu}" for cpu in plan.vcpupin)
    assert overlay[f"cpu:{plan.vcpupin[0]}"] == "v0"
    node1 = next(n for n in host.topology.numa_nodes if n.id == 1)
    assert set(plan.vcpupin) <= set(node1.cpus)  # the GPU's node
    view.resize(900, 600)
    view.show()
    assert not view.grab().isNull()  # paints with the overlay

    view.set_pinning_overlay({})
    assert view.pinning_overlay == {}
