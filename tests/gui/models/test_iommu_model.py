"""The group tree model and its filter, without any view, on hosts built from real listings."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from pytestqt.modeltest import ModelTester

from vfiodeck.core.host.candidates import find_candidates
from vfiodeck.core.host.model import HostModel
from vfiodeck.gui.models.iommu_model import (
    PCI_MIME,
    Badge,
    Column,
    IommuGroupModel,
    Role,
)

Host = Callable[[str], HostModel]


def make(host: HostModel) -> IommuGroupModel:
    model = IommuGroupModel()
    model.set_host(host, find_candidates(host))
    return model


def rows(model: QAbstractItemModel, parent: QModelIndex | None = None) -> list[QModelIndex]:
    parent = parent or QModelIndex()
    out = []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        out.append(index)
        out.extend(rows(model, index))
    return out


def addresses(model: QAbstractItemModel) -> list[str]:
    return [i.data(Role.ADDRESS) for i in rows(model) if i.data(Role.ADDRESS)]


def find(model: QAbstractItemModel, address: str) -> QModelIndex:
    return next(i for i in rows(model) if i.data(Role.ADDRESS) == address)


def cell(index: QModelIndex, column: Column) -> object:
    return index.siblingAtColumn(column).data(Qt.ItemDataRole.DisplayRole)


def test_passes_qt_model_tester(qtmodeltester: ModelTester, listing_host: Host) -> None:
    qtmodeltester.check(make(listing_host("b550m-msi")))


def test_every_group_and_device_has_a_row(listing_host: Host) -> None:
    host = listing_host("b550m-msi")
    model = make(host)
    assert model.rowCount() == len(host.iommu.groups) == 20
    assert sorted(addresses(model)) == sorted(d.address for d in host.pci_devices)
    top = [model.index(r, 0).data(Role.GROUP) for r in range(model.rowCount())]
    assert top == [g.id for g in host.iommu.groups]


def test_gpu_functions_hang_below_the_gpu(listing_host: Host) -> None:
    """The Turing card at 2b:00.0 has HDMI audio, USB-C and UCSI functions in its group (14)."""
    model = make(listing_host("b550m-msi"))
    gpu = find(model, "0000:2b:00.0")
    children = [model.index(r, 0, gpu).data(Role.ADDRESS) for r in range(model.rowCount(gpu))]
    assert children == ["0000:2b:00.1", "0000:2b:00.2", "0000:2b:00.3"]
    assert cell(gpu, Column.DEVICE) == "GeForce RTX 2070 SUPER"
    assert gpu.data(Role.BADGE) == Badge.ALONE
    assert cell(find(model, "0000:2b:00.1"), Column.VERDICT) == "function of 2b:00.0"


def test_blocked_candidate_names_its_blockers(listing_host: Host) -> None:
    """The GT 710 at 04:00.0 sits in the chipset group 13 with a USB controller and a NIC."""
    model = make(listing_host("b550m-msi"))
    gt710 = find(model, "0000:04:00.0")
    assert gt710.data(Role.BADGE) == Badge.BLOCKERS
    assert gt710.data(Role.KIND) == "gpu"
    nic = find(model, "0000:2a:00.0")
    assert "blocks 02:00.0, 04:00.0" in str(cell(nic, Column.VERDICT))


def test_bridges_are_bridge_only(listing_host: Host) -> None:
    host = listing_host("b550m-msi")
    model = make(host)
    functions = {a for c in find_candidates(host) for a in c.functions}
    bridges = [d.address for d in host.pci_devices if d.is_bridge and d.address not in functions]
    assert bridges
    for address in bridges:
        assert find(model, address).data(Role.BADGE) == Badge.BRIDGE


def test_driver_column_shows_the_bound_driver(listing_host: Host) -> None:
    model = make(listing_host("z690"))
    assert cell(find(model, "0000:00:02.0"), Column.DRIVER) == "i915"


def test_function_in_another_group_is_still_tied(listing_host: Host) -> None:
    """z690: the GPU at 03:00.0 and its audio 03:00.1 are in groups 21 and 22: the audio is a
    candidate of its own and offered with the GPU (a companion)."""
    model = make(listing_host("z690"))
    audio = find(model, "0000:03:00.1")
    assert audio.parent().data(Role.GROUP) == 22
    assert cell(audio, Column.VERDICT) == "passable alone; offered with 03:00.0"


def test_filter_by_kind_keeps_gpus_and_their_functions(listing_host: Host) -> None:
    host = listing_host("b550m-msi")
    proxy = make(host)
    proxy.set_kind("gpu")
    shown = addresses(proxy)
    assert shown == [
        "0000:04:00.0",
        "0000:04:00.1",
        "0000:2b:00.0",
        "0000:2b:00.1",
        "0000:2b:00.2",
        "0000:2b:00.3",
    ]
    assert sorted(proxy.index(r, 0).data(Role.GROUP) for r in range(proxy.rowCount())) == [13, 14]
    proxy.set_kind("nic")
    assert addresses(proxy) == ["0000:2a:00.0"]
    proxy.set_kind("all")
    assert len(addresses(proxy)) == len(host.pci_devices)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a matching GPU keeps the functions tied below it
        ("10de:1e84", ["0000:2b:00.0", "0000:2b:00.1", "0000:2b:00.2", "0000:2b:00.3"]),  # id
        ("2a:00.0", ["0000:2a:00.0"]),  # address
        ("gt 710", ["0000:04:00.0", "0000:04:00.1"]),  # name words, any case
        # a matching function shows with its GPU above it, for context
        ("type-c ucsi", ["0000:2b:00.0", "0000:2b:00.3"]),
        (
            "nvidia audio",
            ["0000:04:00.0", "0000:04:00.1", "0000:2b:00.0", "0000:2b:00.1"],
        ),  # vendor and class
    ],
)
def test_search(listing_host: Host, text: str, expected: list[str]) -> None:
    proxy = make(listing_host("b550m-msi"))
    proxy.set_search(text)
    assert addresses(proxy) == expected


def test_search_by_driver(listing_host: Host) -> None:
    proxy = make(listing_host("z690"))
    proxy.set_search("i915")
    assert addresses(proxy) == ["0000:00:02.0"]


def test_drag_carries_addresses(listing_host: Host) -> None:
    model = make(listing_host("b550m-msi"))
    gpu = find(model, "0000:2b:00.0")
    mime = model.mimeData([gpu])
    assert model.mimeTypes() == [PCI_MIME]
    assert json.loads(bytes(mime.data(PCI_MIME).data()).decode()) == [
        "0000:2b:00.0",
        "0000:2b:00.1",
        "0000:2b:00.2",
        "0000:2b:00.3",
    ]
    group = gpu.parent()
    assert group.data(Role.GROUP) == 14
    assert json.loads(bytes(model.mimeData([group]).data(PCI_MIME).data()).decode()) == [
        "0000:2b:00.0",
        "0000:2b:00.1",
        "0000:2b:00.2",
        "0000:2b:00.3",
    ]
    assert model.flags(gpu) & Qt.ItemFlag.ItemIsDragEnabled


def test_no_iommu_puts_devices_in_one_row(hwloc_root: Callable[[str], object]) -> None:
    from vfiodeck.core.host.scan import scan_host

    host = scan_host(hwloc_root("2pa-pcidomain32bits"))  # type: ignore[arg-type]
    model = make(host)
    assert model.rowCount() == 1
    assert str(model.index(0, 0).data()).startswith("No IOMMU group")
    assert len(addresses(model)) == len(host.pci_devices) == 9
    # The QEMU guest's VGA carries the console (boot_vga=1, connector card0-VGA-1 connected): the
    # host-in-use badge wins, and the verdict column still says the IOMMU is off.
    gpus = [i for i in rows(model) if i.data(Role.KIND) == "gpu"]
    assert {i.data(Role.BADGE) for i in gpus} == {Badge.HOST_USES}
    assert [cell(i, Column.VERDICT) for i in gpus] == ["used by the host: display; IOMMU off"]


def test_typing_on_narrows_and_erasing_widens(listing_host: Host) -> None:
    model = make(listing_host("b550m-msi"))
    model.set_search("nvidia")
    nvidia = addresses(model)
    model.set_search("nvidia aud")  # narrower: searched among the last matches only
    assert addresses(model) == ["0000:04:00.0", "0000:04:00.1", "0000:2b:00.0", "0000:2b:00.1"]
    model.set_search("nvidia")
    assert addresses(model) == nvidia
    model.set_search("")
    assert len(addresses(model)) == len(listing_host("b550m-msi").pci_devices)


def test_filtered_model_passes_qt_model_tester(qtmodeltester: ModelTester, listing_host: Host) -> None:
    model = make(listing_host("b550m-msi"))
    model.set_search("nvidia")
    qtmodeltester.check(model)


def test_index_for_an_address_follows_the_filter(listing_host: Host) -> None:
    model = make(listing_host("b550m-msi"))
    assert model.index_for("0000:2a:00.0").data(Role.ADDRESS) == "0000:2a:00.0"
    model.set_kind("gpu")
    assert not model.index_for("0000:2a:00.0").isValid()
    assert model.index_for("0000:2b:00.1").parent().data(Role.ADDRESS) == "0000:2b:00.0"
    assert not model.index_for("0000:ff:00.0").isValid()
