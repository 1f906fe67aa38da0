"""Lossless domain XML editing, on libvirt's own test-suite definitions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from vfiodeck.core.text import cpulist_text, parse_cpulist
from vfiodeck.core.vm.domainxml import (
    CpuTopology,
    DomainXml,
    DomainXmlError,
    NumaTune,
    diff,
)

FIXTURES = Path(__file__).parents[2] / "fixtures"
VALID = sorted((FIXTURES / "libvirt-xml" / "valid").glob("*.xml"))
INVALID = sorted((FIXTURES / "libvirt-xml" / "invalid").glob("*.xml"))
TEST_HOST = FIXTURES / "libvirt" / "vm-planner-host.xml"

NEW_ADDRESS = "0000:0a:00.1"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _changed(text: str) -> tuple[list[str], list[str]]:
    lines = [ln for ln in text.splitlines() if not ln.startswith(("---", "+++"))]
    return [ln[1:] for ln in lines if ln.startswith("-")], [ln[1:] for ln in lines if ln.startswith("+")]


@pytest.fixture
def conn() -> Iterator[libvirt.virConnect]:
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)  # keep libvirt's stderr quiet
    connection = libvirt.open(f"test:///{TEST_HOST.resolve()}")
    yield connection
    connection.close()


def test_fixtures_are_present() -> None:
    assert len(VALID) == 102
    assert len(INVALID) == 10


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_unedited_document_is_the_original_text(path: Path) -> None:
    text = _read(path)
    doc = DomainXml.parse(text)
    assert doc.to_string() == text
    assert doc.diff() == ""


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_serializer_reproduces_every_byte(path: Path) -> None:
    """With the edited flag forced, the writer itself (not the shortcut) must give the source back:
    comments, quoting, namespaces, odd indentation and empty elements included."""
    text = _read(path)
    doc = DomainXml.parse(text)
    doc.touch()
    assert doc.to_string() == text


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_adding_a_hostdev_adds_exactly_its_lines(path: Path) -> None:
    text = _read(path)
    doc = DomainXml.parse(text)
    before = doc.pci_hostdevs()
    assert doc.add_pci_hostdev(NEW_ADDRESS)
    removed, added = _changed(doc.diff())
    assert removed == []
    assert [ln.strip() for ln in added] == [
        "<hostdev mode='subsystem' type='pci' managed='yes'>",
        "<source>",
        "<address domain='0x0000' bus='0x0a' slot='0x00' function='0x1'/>",
        "</source>",
        "</hostdev>",
    ]
    # indentation follows the document: one step deeper than <devices>
    devices_indent = next(ln for ln in text.splitlines() if ln.strip() == "<devices>").index("<")
    assert added[0].index("<") > devices_indent
    again = DomainXml.parse(doc.to_string())
    assert set(again.pci_hostdevs()) == {*before, NEW_ADDRESS}
    # and removing it gives the original bytes back
    assert again.remove_pci_hostdev(NEW_ADDRESS)
    assert again.to_string() == text


def test_adding_an_existing_hostdev_changes_nothing() -> None:
    text = _read(FIXTURES / "libvirt-xml/valid/hostdev-pci-address.x86_64-latest.xml")
    doc = DomainXml.parse(text)
    assert doc.pci_hostdevs() == ("0000:06:12.5",)
    assert not doc.add_pci_hostdev("0000:06:12.5")
    assert doc.to_string() == text


def test_removing_a_hostdev_removes_exactly_its_lines() -> None:
    text = _read(FIXTURES / "libvirt-xml/valid/hostdev-pci-address-unassigned.x86_64-latest.xml")
    doc = DomainXml.parse(text)
    assert doc.pci_hostdevs() == ("0005:90:01.0", "0005:90:01.1", "0005:90:01.2", "0005:90:01.3")
    assert doc.remove_pci_hostdev("0005:90:01.1")
    assert not doc.remove_pci_hostdev("0005:90:01.1")
    lines = text.splitlines(keepends=True)
    at = lines.index("        <address domain='0x0005' bus='0x90' slot='0x01' function='0x1'/>\n")
    block = lines[at - 2 : at + 4]
    assert block[0].strip() == "<hostdev mode='subsystem' type='pci' managed='yes'>"
    assert block[-1].strip() == "</hostdev>"
    assert doc.to_string() == "".join(lines[: at - 2] + lines[at + 4 :])
    removed, added = _changed(doc.diff())
    assert added == []
    assert sorted(removed) == sorted(ln.rstrip("\n") for ln in block)


def test_removing_the_last_child_keeps_the_closing_indentation() -> None:
    text = _read(FIXTURES / "libvirt-xml/valid/hostdev-vfio.xml")
    doc = DomainXml.parse(text)
    for address in doc.pci_hostdevs():
        assert doc.remove_pci_hostdev(address)
    out = doc.to_string()
    assert "hostdev" not in out
    assert "\n  </devices>\n" in out
    assert "\n\n" not in out


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_pinning_changes_only_cputune(path: Path) -> None:
    text = _read(path)
    doc = DomainXml.parse(text)
    had_cputune = doc.root.find("cputune") is not None
    doc.set_pinning({0: (2, 3), 1: (4,)}, (0, 1))
    removed, added = _changed(doc.diff())
    pin_tags = ("<vcpupin ", "<emulatorpin ")
    assert all(ln.strip().startswith(pin_tags) for ln in removed)
    allowed = pin_tags if had_cputune else (*pin_tags, "<cputune>", "</cputune>")
    assert all(ln.strip().startswith(allowed) for ln in added)
    again = DomainXml.parse(doc.to_string())
    assert again.vcpupins() == {0: (2, 3), 1: (4,)}
    assert again.emulatorpin() == (0, 1)


def test_pinning_updates_existing_pins_in_place() -> None:
    text = _read(FIXTURES / "libvirt-xml/valid/cputune.x86_64-latest.xml")
    doc = DomainXml.parse(text)
    assert doc.vcpupins() == {0: (0,), 1: (1,)}
    assert doc.emulatorpin() == (1,)
    doc.set_pinning({0: (0,), 1: (5,)}, (1,))
    assert _changed(doc.diff()) == (
        ["    <vcpupin vcpu='1' cpuset='1'/>"],
        ["    <vcpupin vcpu='1' cpuset='5'/>"],
    )


def test_numatune_topology_and_hugepages_edits() -> None:
    text = _read(FIXTURES / "libvirt-xml/valid/cputune-numatune.x86_64-latest.xml")
    doc = DomainXml.parse(text)
    assert doc.numatune() == NumaTune("strict", None, "auto")
    assert doc.emulatorpin() == (1, 2, 3)
    doc.set_numatune("1")
    doc.set_cpu_topology(1, 3, 2)
    doc.set_hugepages(True)
    removed, added = _changed(doc.diff())
    assert removed == ["    <memory mode='strict' placement='auto'/>"]
    assert "    <memory mode='strict' nodeset='1'/>" in added
    again = DomainXml.parse(doc.to_string())
    assert again.numatune() == NumaTune("strict", "1", None)
    assert again.cpu_topology() == CpuTopology(1, None, 3, 2)
    assert again.hugepages()
    again.set_hugepages(False)
    assert "memoryBacking" not in again.to_string()


def test_accessors_on_real_definitions() -> None:
    hyperv = DomainXml.parse(_read(FIXTURES / "libvirt-xml/valid/hyperv.x86_64-latest.xml"))
    assert hyperv.hyperv_features()["spinlocks"] == "on"
    assert len(hyperv.hyperv_features()) == 16
    assert hyperv.hyperv_vendor_id() == "KVM Hv"
    assert not hyperv.kvm_hidden()
    multi = DomainXml.parse(_read(FIXTURES / "libvirt-xml/valid/hostdev-vfio-multidomain.x86_64-latest.xml"))
    assert multi.pci_hostdevs() == ("0021:de:1f.1",)
    hp = DomainXml.parse(_read(FIXTURES / "libvirt-xml/valid/hugepages-default.xml"))
    assert hp.hugepages()
    meta = DomainXml.parse(_read(FIXTURES / "libvirt-xml/valid/metadata.xml"))
    assert (meta.name, meta.uuid, meta.memory_kib, meta.vcpus) == (
        "QEMUGuest1",
        "c7a5fdbd-edaf-9455-926a-d65c16db1809",
        219100,
        1,
    )
    assert meta.machine == "pc"
    assert meta.cpu_topology() is None


def test_hiding_the_hypervisor_keeps_the_existing_enlightenments() -> None:
    text = _read(FIXTURES / "libvirt-xml/valid/hyperv.x86_64-latest.xml")
    doc = DomainXml.parse(text)
    doc.set_kvm_hidden(True)
    doc.set_hyperv_vendor_id("randomid")
    removed, added = _changed(doc.diff())
    assert removed == ["      <vendor_id state='on' value='KVM Hv'/>"]
    assert [ln.strip() for ln in added] == [
        "<vendor_id state='on' value='randomid'/>",
        "<kvm>",
        "<hidden state='on'/>",
        "</kvm>",
    ]
    assert DomainXml.parse(doc.to_string()).kvm_hidden()


def test_comments_and_foreign_namespaces_survive_an_edit() -> None:
    text = _read(FIXTURES / "libvirt-xml/valid/metadata.xml")
    doc = DomainXml.parse(text)
    doc.add_pci_hostdev(NEW_ADDRESS)
    out = doc.to_string()
    assert "<!-- intentional mis-indentation -->" in out
    assert '<app2:bar xmlns:app2="http://bar.com/" maman="baz">barish</app2:bar>' in out


def test_broken_xml_gives_a_one_line_error_with_the_line() -> None:
    with pytest.raises(DomainXmlError) as info:
        DomainXml.parse(_read(FIXTURES / "libvirt-xml/invalid/broken-xml-invalid.xml"))
    message = str(info.value)
    assert message.startswith("not valid XML: ")
    assert "line 2" in message
    assert "\n" not in message


def test_a_document_that_is_not_a_domain_is_refused() -> None:
    with pytest.raises(DomainXmlError, match=r"^not a libvirt domain: root element is <node>$"):
        DomainXml.parse(_read(TEST_HOST))
    with pytest.raises(DomainXmlError, match="empty"):
        DomainXml.parse(b"  \n")


def test_cpuset_syntax() -> None:
    assert parse_cpulist("0-3,^2,8") == (0, 1, 3, 8)
    assert parse_cpulist("aaa") is None
    assert parse_cpulist("3-1") is None
    assert cpulist_text([5, 0, 1, 2, 9, 10]) == "0-2,5,9-10"
    assert parse_cpulist(cpulist_text(range(0, 80, 2))) == tuple(range(0, 80, 2))


def test_diff_is_empty_for_equal_texts_and_marks_a_missing_newline() -> None:
    assert diff("a\n", "a\n") == ""
    assert "\\ No newline at end of file" in diff("a\n", "b")
