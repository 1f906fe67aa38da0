"""On the machine itself: a virtio device in a VM without an IOMMU is refused for binding now."""

from __future__ import annotations

from pathlib import Path

import pytest

from vfiodeck.core.cli import main


def _virtio_address() -> str | None:
    for device in sorted(Path("/sys/bus/pci/devices").glob("*")):
        if (device / "vendor").read_text().strip() == "0x1af4" and (device / "class").read_text().startswith(
            "0x02"
        ):
            return device.name
    return None


@pytest.mark.host
def test_apply_now_on_a_virtio_device_without_iommu_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    address = _virtio_address()
    if address is None:
        pytest.skip("no virtio network device on this machine")
    if any(Path("/sys/kernel/iommu_groups").glob("*")):
        pytest.skip("this machine has an IOMMU")
    assert main(["apply", "--bind", address, "--at", "now", "--yes"]) == 1
    out = capsys.readouterr().out
    assert f"Refused {address}: no IOMMU" in out  # the reason, named
