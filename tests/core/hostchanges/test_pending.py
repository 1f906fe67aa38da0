from pathlib import Path

from vfiodeck.core.hostchanges import pending


def test_verify_names_what_is_missing(listing_host) -> None:  # type: ignore[no-untyped-def]
    host = listing_host("z690")  # its lspci -nnk shows 04:00.0/.1 on vfio-pci, 03:00.0 on amdgpu
    ready = pending.Pending("/", "0000:04:00.0", ("0000:04:00.0", "0000:04:00.1"), (), None, None)
    assert pending.verify(ready, host) == []
    not_yet = pending.Pending("/", "0000:03:00.0", ("0000:03:00.0",), ("iommu=pt",), None, None)
    assert pending.verify(not_yet, host) == [
        "/proc/cmdline lacks iommu=pt",
        "0000:03:00.0 is on amdgpu, not vfio-pci",
    ]


def test_state_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    assert pending.load(path) is None
    state = pending.Pending("/", "0000:01:00.0", ("0000:01:00.0",), ("iommu=pt",), "b", "e")
    pending.save(state, path)
    assert pending.load(path) == state
    pending.clear(path)
    assert pending.load(path) is None
