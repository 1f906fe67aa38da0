"""The group map on the Host page: expansion kept per group, filters, sizing without measuring cells."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from vfiodeck.core.host.candidates import find_candidates
from vfiodeck.core.host.model import HostModel
from vfiodeck.gui.host_page import HostPage
from vfiodeck.gui.models.iommu_model import Badge, Column, Role

Host = Callable[[str], HostModel]


def page_with(qtbot: QtBot, host: HostModel) -> HostPage:
    page = HostPage()
    qtbot.addWidget(page)
    page.set_host(host, tuple(find_candidates(host)))
    return page


def top_rows(page: HostPage) -> dict[object, bool]:
    """Group id -> expanded, for every group row shown."""
    model = page.model
    return {
        model.index(r, 0).data(Role.GROUP): page.tree.isExpanded(model.index(r, 0))
        for r in range(model.rowCount())
    }


def test_bridge_only_groups_start_folded_and_the_rest_open(qtbot: QtBot, listing_host: Host) -> None:
    page = page_with(qtbot, listing_host("x399"))
    model = page.model
    for r in range(model.rowCount()):
        index = model.index(r, 0)
        assert page.tree.isExpanded(index) == (index.data(Role.BADGE) != Badge.BRIDGE)


def test_a_folded_group_stays_folded_across_search_and_reload(qtbot: QtBot, listing_host: Host) -> None:
    host = listing_host("b550m-msi")
    page = page_with(qtbot, host)
    gpu_group = page.model.index_for("0000:2b:00.0").parent()
    group_id = gpu_group.data(Role.GROUP)
    page.tree.collapse(gpu_group)
    assert group_id in page.collapsed_groups
    page.search.setText("nvidia")
    assert page.tree.isExpanded(page.model.index_for("0000:2b:00.0").parent())  # a search shows every match
    page.search.setText("")
    assert top_rows(page)[group_id] is False
    page.set_host(host, tuple(find_candidates(host)))  # Refresh
    assert top_rows(page)[group_id] is False
    page.tree.expand(page.model.index_for("0000:2b:00.0").parent())
    assert group_id not in page.collapsed_groups


def test_select_address_clears_a_filter_that_hides_it(qtbot: QtBot, listing_host: Host) -> None:
    page = page_with(qtbot, listing_host("b550m-msi"))
    page.kind_box.setCurrentIndex(1)  # GPUs
    assert page.select_address("0000:2a:00.0")
    assert page.selected_address() == "0000:2a:00.0"
    assert page.search.text() == ""
    assert not page.select_address("0000:ff:00.0")


def test_columns_have_widths_without_measuring_cells(qtbot: QtBot, listing_host: Host) -> None:
    page = page_with(qtbot, listing_host("z690"))
    metrics = page.tree.fontMetrics()
    assert page.tree.columnWidth(Column.DEVICE) == 330
    assert page.tree.columnWidth(Column.ADDRESS) > metrics.horizontalAdvance("0000:00:00.0")
    assert page.tree.header().stretchLastSection()
