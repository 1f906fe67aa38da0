"""A real QEMU guest under libvirt's embedded QEMU driver (qemu:///embed, no daemon).

The guest is a 512-byte boot sector that spins (``jmp $``) under TCG, the cheapest guest that really
runs: its CPU time advances, so the stats path the graphs use is exercised end to end. A domain with
a PCI <hostdev> defines but can't start on a host without VFIO: the user must see our sentence.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from vfiodeck.core.vm.connection import DomainState, Hypervisor
from vfiodeck.core.vm.errors import VfioUnsupportedError, VmError
from vfiodeck.core.vm.stats import StatsSampler, rates

pytestmark = pytest.mark.qemu

QEMU = shutil.which("qemu-system-x86_64")
QEMU_USER = "libvirt-qemu"  # the embedded driver looks this user up even when qemu.conf says root


def _boot_sector() -> bytes:
    sector = bytearray(512)
    sector[0:2] = b"\xeb\xfe"  # jmp $ (a short jump to itself)
    sector[510:512] = b"\x55\xaa"  # the BIOS boots only a sector with this signature
    return bytes(sector)


def _ensure_qemu_user() -> str | None:
    """None when the user exists (or was created); else the reason to skip."""
    try:
        pwd.getpwnam(QEMU_USER)
        return None
    except KeyError:
        pass
    if os.geteuid() != 0:
        return f"the {QEMU_USER} system user is missing and only root can create it"
    cmd = [
        "useradd",
        "--system",
        "--user-group",
        "-M",
        "-d",
        "/var/lib/libvirt",
        "-s",
        "/usr/sbin/nologin",
        QEMU_USER,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return None if result.returncode == 0 else f"could not create {QEMU_USER}: {result.stderr.strip()}"


@pytest.fixture(scope="session")
def embed_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if QEMU is None:
        pytest.skip("qemu-system-x86_64 is not installed (bash .ci/setup.sh --test installs it)")
    root = tmp_path_factory.mktemp("qemu-embed")
    (root / "etc").mkdir()
    config = 'stdio_handler = "file"\n'  # guest stdio to files: no virtlogd daemon here
    if os.geteuid() == 0:
        # As root the embedded driver is privileged: it looks the libvirt-qemu user up and would
        # run QEMU as that user; we are no daemon with its own user, so QEMU runs as root.
        reason = _ensure_qemu_user()
        if reason is not None:
            pytest.skip(reason)
        config += 'user = "root"\ngroup = "root"\n'
    # As any other user it is unprivileged and runs QEMU as that user, below this root.
    (root / "etc" / "qemu.conf").write_text(config)
    (root / "spin.img").write_bytes(_boot_sector())
    return root


@pytest.fixture(scope="session")
def hv(embed_root: Path) -> Iterator[Hypervisor]:
    # One root for the session: the first connection to a new root probes QEMU's capabilities.
    hyp = Hypervisor(f"qemu:///embed?root={embed_root}")
    try:
        hyp.connect()  # events on: registers libvirt's event loop first, as the embedded driver needs
    except VmError as err:  # no QEMU driver module, or it can't start: nothing to test here
        pytest.skip(f"libvirt's QEMU driver is unavailable: {err}")
    yield hyp
    hyp.close()


def spin_xml(root: Path, name: str, hostdev: str = "") -> str:
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <emulator>{QEMU}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{root / "spin.img"}'/>
      <target dev='hda' bus='ide'/>
    </disk>
    <video><model type='none'/></video>
    {hostdev}
  </devices>
</domain>"""


def test_spinning_guest_runs_and_its_cpu_time_advances(hv: Hypervisor, embed_root: Path) -> None:
    hv.define(spin_xml(embed_root, "spin"))
    hv.start("spin")
    try:
        assert hv.domain_info("spin").state is DomainState.RUNNING
        sampler = StatsSampler()  # the same sampler the graphs use
        first = sampler.sample(hv.conn)
        assert first.bulk  # real QEMU answers everything in the one bulk call
        # Wait (bounded) until the guest has been scheduled a little; no fixed sleep.
        deadline = time.monotonic() + 30
        while True:
            second = sampler.sample(hv.conn)
            before = first.by_uuid()[second.domains[0].uuid]
            assert before.cpu_time_ns is not None
            assert second.domains[0].cpu_time_ns is not None
            if second.domains[0].cpu_time_ns > before.cpu_time_ns or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        spin = second.domains[0]
        assert spin.name == "spin"
        assert spin.cpu_time_ns is not None
        assert spin.cpu_time_ns > before.cpu_time_ns
        assert spin.vcpus == 1
        assert len(spin.vcpu_times_ns) == 1
        assert spin.memory_kib == 65536
        assert spin.disk_read_bytes is not None
        assert spin.disk_read_bytes >= 512  # the BIOS read the boot sector
        (r,) = rates(first, second)
        assert r.cpu_percent is not None
        assert r.cpu_percent > 0
    finally:
        hv.destroy("spin")
        hv.undefine("spin")
    assert "spin" not in [d.name for d in hv.list_domains()]


def test_hostdev_domain_defines_but_start_is_explained(hv: Hypervisor, embed_root: Path) -> None:
    hostdev = (
        "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
        "<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>"
    )
    hv.define(spin_xml(embed_root, "passthrough", hostdev))
    try:
        with pytest.raises(VfioUnsupportedError) as caught:
            hv.start("passthrough")
        message = str(caught.value)
        assert message.startswith("This host doesn't support VFIO PCI passthrough right now")
        assert caught.value.detail not in message  # libvirt's own words go to the details only
        assert "doesn't support" in caught.value.detail
        assert caught.value.code == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
        assert hv.domain_info("passthrough").state is DomainState.SHUTOFF
    finally:
        hv.undefine("passthrough")
