"""plan_new_vm and define_new_vm: the wizard's choices checked against the host, defined on the test
driver (opened per test on a copied file) with a disk that works on a fresh libvirt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from vfiodeck.core.host.model import HostModel
from vfiodeck.core.plan.assign import NoteKind
from vfiodeck.core.plan.newvm import DiskChoice, NewVmChoices, define_new_vm, name_taken, plan_new_vm
from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.domainxml import DomainXml
from vfiodeck.core.vm.history import DefinitionChangedError, History
from vfiodeck.core.vm.storage import NoStoragePoolError, pool_for

HOST_XML = Path(__file__).resolve().parents[2] / "gui" / "vms" / "host-vms.xml"
X399_USB = "0000:01:00.0"  # the chipset USB controller: shares group with SATA, two NICs and Wi-Fi


@pytest.fixture
def x399(listing_host: Callable[[str], HostModel]) -> HostModel:
    return listing_host("x399")


@pytest.fixture(scope="module")
def demo() -> HostModel:
    """The bundled demo host: the X399's PCI devices with a two-node Xeon topology."""
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.host.scan import scan_host
    from vfiodeck.resources import demo_host_path

    return scan_host(HostRoot.open(demo_host_path()))


def _choices(**kw: object) -> NewVmChoices:
    base = NewVmChoices(name="win11", memory_mib=8192, vcpus=4, disk=DiskChoice("none"), pin=False)
    return replace(base, **kw)  # type: ignore[arg-type]


def test_windows_11_preset_turns_on_secure_boot_and_tpm_and_takes_a_virtio_iso(x399: HostModel) -> None:
    plan = plan_new_vm(x399, _choices(virtio_iso="/isos/virtio-win.iso"))
    assert plan.ok
    assert plan.spec.secure_boot
    assert plan.spec.tpm
    assert "/isos/virtio-win.iso" in plan.xml
    assert ("Firmware", "UEFI, Secure Boot, TPM 2.0") in plan.summary
    linux = plan_new_vm(x399, _choices(preset="linux"))
    assert not linux.spec.tpm
    assert not linux.spec.secure_boot


def test_the_disk_is_named_after_the_vm(x399: HostModel) -> None:
    plan = plan_new_vm(x399, _choices(name="gamer", disk=DiskChoice("new", "/srv/vms", 64)))
    assert plan.disk is not None
    assert plan.disk.path == "/srv/vms/gamer.qcow2"
    assert "/srv/vms/gamer.qcow2" in plan.xml


def test_blockers_only_by_explicit_choice(x399: HostModel) -> None:
    refused = plan_new_vm(x399, _choices(devices=(X399_USB,)))
    assert not refused.ok
    needed = next(n for n in refused.notes if n.kind is NoteKind.BLOCKERS_NEEDED)
    assert needed.devices
    taken = plan_new_vm(x399, _choices(devices=(X399_USB,), take_blockers=True))
    assert taken.ok
    assert set(needed.devices) <= set(DomainXml.parse(taken.xml).pci_hostdevs())
    assert any(row[0] == "Blockers taken" for row in taken.summary)


def test_memory_and_vcpus_are_checked_against_the_host(demo: HostModel) -> None:
    threads = len(demo.topology.cpus)
    plan = plan_new_vm(demo, _choices(memory_mib=10**7, vcpus=threads + 1))
    assert f"{threads + 1} vCPUs is more than this host's {threads} CPUs." in plan.problems
    assert any("of memory is more than this host has" in p for p in plan.problems)


def test_memory_larger_than_the_node_is_not_held_to_it(demo: HostModel) -> None:
    node = max(demo.topology.numa_nodes, key=lambda n: n.memory_mib or 0)
    assert node.memory_mib
    total = sum(n.memory_mib or 0 for n in demo.topology.numa_nodes)
    fits = plan_new_vm(demo, _choices(memory_mib=4096, pin=True))
    tune = DomainXml.parse(fits.xml).numatune()
    assert tune is not None
    assert tune.mode == "strict"
    plan = plan_new_vm(demo, _choices(memory_mib=min(node.memory_mib + 1024, total), pin=True))
    assert any(n.kind is NoteKind.MEMORY_OVER_NODE for n in plan.notes)
    tune = DomainXml.parse(plan.xml).numatune()
    assert tune is not None
    assert tune.mode == "preferred"


def test_define_on_a_fresh_libvirt_creates_the_pool_only_when_asked(
    hv: Hypervisor, x399: HostModel, tmp_path: Path
) -> None:
    images = str(tmp_path / "images")
    plan = plan_new_vm(x399, _choices(name="fresh", disk=DiskChoice("new", images, 20)))
    history = History(tmp_path / "state.json")
    with pytest.raises(NoStoragePoolError):
        define_new_vm(hv, plan, plan.disk, host="x399", history=history)
    assert not name_taken(hv, "fresh")
    entry = define_new_vm(hv, plan, plan.disk, host="x399", create_pool=True, history=history)
    assert pool_for(hv, images) == "default"
    assert name_taken(hv, "fresh")
    assert entry.before is None
    assert hv.conn.storagePoolLookupByName("default").listVolumes() == ["fresh.qcow2"]


def test_a_name_taken_meanwhile_is_refused_and_the_new_disk_removed(
    hv: Hypervisor, x399: HostModel, tmp_path: Path
) -> None:
    images = str(tmp_path / "images")
    assert name_taken(hv, "gaming")
    plan = plan_new_vm(x399, _choices(name="gaming", disk=DiskChoice("new", images, 20)))
    with pytest.raises(DefinitionChangedError):
        define_new_vm(hv, plan, plan.disk, host="x399", create_pool=True, history=History(tmp_path / "s"))
    assert hv.conn.storagePoolLookupByName("default").listVolumes() == []
