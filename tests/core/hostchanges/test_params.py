from vfiodeck.core.hostchanges.params import (
    append_to_span,
    ensure_in_span,
    has_param,
    missing,
    satisfied,
    tokens,
)


def test_keys_are_compared_whole_not_as_substrings() -> None:
    assert not has_param(["amd_iommu=pt"], "iommu=pt")
    assert has_param(["iommu=pt"], "iommu=pt")
    assert missing(["amd_iommu=on", "iommu=1"], ["iommu=pt"]) == ["iommu=pt"]


def test_comma_values_and_dash_underscore_names() -> None:
    assert has_param(["intel_iommu=on,igfx_off"], "intel_iommu=on")
    assert has_param(["vfio_pci.ids=10de:1b80"], "vfio-pci.ids=10de:1b80")


def test_quoted_values_stay_one_token() -> None:
    assert tokens('a dyndbg="file x +p" b') == ["a", 'dyndbg="file x +p"', "b"]


def test_append_keeps_trailing_blanks_and_newline() -> None:
    assert append_to_span("quiet splash \n", ["iommu=pt"]) == "quiet splash iommu=pt \n"
    assert append_to_span("", ["iommu=pt"]) == "iommu=pt"
    assert append_to_span(" ", ["iommu=pt"]) == "iommu=pt "


def test_set_parameter_replaces_the_last_of_its_key_in_place() -> None:
    text = "quiet vfio-pci.ids=10de:1b80 splash"
    after = ensure_in_span(text, ["vfio-pci.ids=10de:1b80,10de:10f0"])
    assert after == "quiet vfio-pci.ids=10de:1b80,10de:10f0 splash"
    assert satisfied(tokens(after), "vfio-pci.ids=10de:1b80,10de:10f0")
    assert ensure_in_span(after, ["vfio-pci.ids=10de:1b80,10de:10f0"]) == after
