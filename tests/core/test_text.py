"""The shared vocabulary: CPU lists, PCI addresses, sizes and device names, one rule each."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from vfiodeck.core.text import (
    cards,
    cpulist_text,
    device_label,
    device_name,
    kib_text,
    mib_text,
    parse_cpulist,
    short_address,
    size_text,
    slot_of,
    split_pci_address,
)


@dataclass(frozen=True)
class Dev:
    device_name: str | None
    class_name: str | None = None
    class_id: str | None = None
    ids: str | None = None


def test_cpulists_round_trip_in_both_dialects() -> None:
    assert parse_cpulist("0-3,8,10-11\n\x00") == (0, 1, 2, 3, 8, 10, 11)
    assert parse_cpulist("0-7,^2") == (0, 1, 3, 4, 5, 6, 7)
    assert parse_cpulist("") == ()
    for bad in ("a", "3-1", "1-", "-1", None):
        assert parse_cpulist(bad) is None
    assert cpulist_text([5, 0, 1, 2, 9, 10]) == "0-2,5,9-10"
    assert parse_cpulist(cpulist_text(range(0, 80, 2))) == tuple(range(0, 80, 2))


def test_addresses() -> None:
    assert short_address("0000:08:00.0") == "08:00.0"
    assert short_address("10000:00:04.0") == "10000:00:04.0"
    assert slot_of("0000:08:00.1") == "0000:08:00"
    assert split_pci_address("0000:0a:1f.7") == (0, 10, 31, 7)
    with pytest.raises(ValueError, match="invalid"):
        split_pci_address("0000:zz:00.0")


@pytest.mark.parametrize(
    ("n_bytes", "text"),
    [(512, "512 B"), (4096, "4 KiB"), (1536 * 1024**2, "1.5 GiB"), (24 * 1024**3, "24 GiB"),
     (int(12.4 * 1024**2), "12 MiB"), (3 * 1024**4, "3 TiB")],
)  # fmt: skip
def test_sizes(n_bytes: int, text: str) -> None:
    assert size_text(n_bytes) == text


def test_kib_and_mib_are_the_same_rule() -> None:
    assert kib_text(32768) == "32 MiB" == mib_text(32)
    assert mib_text(48128) == "47 GiB"


def test_a_gpu_is_named_by_its_marketing_name_a_sata_controller_never_by_its_mode() -> None:
    gpu = Dev("GP104 [GeForce GTX 1080]", class_id="0300")
    sata = Dev("FCH SATA Controller [AHCI mode]", class_id="0106")
    assert device_name(gpu) == "GeForce GTX 1080"
    assert device_name(sata) == "FCH SATA Controller [AHCI mode]"
    assert device_name(Dev(None, "USB controller", "0c03", "1022:145f")) == "USB controller [1022:145f]"
    assert device_label(gpu, "0000:08:00.0") == "GeForce GTX 1080 (08:00.0)"
    assert device_label(None, "0000:08:00.0") == "08:00.0"


def test_cards_are_function_0_of_each_slot_in_order() -> None:
    assert cards(["0000:08:00.1", "0000:08:00.0", "0000:43:00.1"]) == ("0000:08:00.0", "0000:43:00.0")
