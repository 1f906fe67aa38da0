"""A domain definition with a DOCTYPE internal subset is refused: a comment there can hold a fake
``<domain>`` that the lossless scanner would take for the real one, so an edit would land in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from vfiodeck.core.vm.doctype import has_internal_subset
from vfiodeck.core.vm.domainxml import DomainXml, DomainXmlError

REAL = (
    Path(__file__).parents[2]
    / "fixtures"
    / "libvirt-xml"
    / "valid"
    / "cpu-host-passthrough.x86_64-latest.xml"
)
FAKE = "<domain type='kvm'><name>decoy</name><devices></devices></domain>"


@pytest.mark.parametrize(
    "prolog",
    [
        f"<!DOCTYPE domain [ <!-- {FAKE} --> ]>\n",
        f"<!DOCTYPE domain [ <!-- ]> {FAKE} --> ]>\n",  # the subset seems to end inside the comment
        f"<?xml version='1.0'?>\n<!-- hello -->\n<!DOCTYPE domain [\n<!-- {FAKE} -->\n]>\n",
        "<!DOCTYPE domain SYSTEM 'x>y' [ <!ELEMENT domain ANY> ]>\n",
    ],
)
def test_internal_subset_is_refused(prolog: str) -> None:
    text = prolog + REAL.read_text()
    with pytest.raises(DomainXmlError) as err:
        DomainXml.parse(text)
    assert "internal subset" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("text", "subset"),
    [
        ("<domain/>", False),
        ("<!DOCTYPE domain>\n<domain/>", False),
        ("<!DOCTYPE domain SYSTEM 'a[b'>\n<domain/>", False),
        ("<!-- <!DOCTYPE x [ ]> -->\n<domain/>", False),
        ("<domain><!-- <!DOCTYPE x [ ]> --></domain>", False),
        ("<!DOCTYPE domain [ ]><domain/>", True),
    ],
)
def test_subset_detection(text: str, subset: bool) -> None:
    assert has_internal_subset(text) is subset


def test_real_definition_with_a_plain_doctype_still_edits() -> None:
    text = "<!DOCTYPE domain>\n" + REAL.read_text()
    doc = DomainXml.parse(text)
    assert doc.add_pci_hostdev("0000:0a:00.1")
    assert doc.to_string().startswith("<!DOCTYPE domain>\n<domain")
