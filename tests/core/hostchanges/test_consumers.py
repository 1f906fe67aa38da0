"""Every file in tests/fixtures/host-config/, planned, applied, re-planned, re-applied and undone
on a root built from a real listing, and read back by the program that reads it on a real host
(bash sourcing the shell configs, ``modprobe -c -C``), not by our own parser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.core.hostchanges.conftest import (
    ARCH,
    CONFIG,
    DEBIAN,
    FEDORA,
    INTEL_CPUINFO,
    HostRootBuilder,
    fixture_files,
    roundtrip,
)
from vfiodeck.core.hostchanges.params import has_param, tokens

GPU = "2b:00.0"  # b550m: a Turing GPU alone in its group, 4 functions, bound by ids
GPU_IDS = {"10de:10f8", "10de:1ad8", "10de:1ad9", "10de:1e84"}
ARCH_MKINIT = CONFIG / "initramfs/mkinitcpio/arch-upstream-v39.2-mkinitcpio.conf"


def bash(script: str, *args: str) -> str:
    done = subprocess.run(["bash", "-c", script, "bash", *args], capture_output=True, text=True, check=True)
    return done.stdout


def grub_cmdline(root: Path, *, dropins: bool) -> list[str]:
    """What grub-mkconfig sees: /etc/default/grub, then (Debian) each grub.d/*.cfg in order."""
    script = 'sysconfdir="$1/etc"; . "$1/etc/default/grub"; '
    if dropins:
        script += 'for f in "$1"/etc/default/grub.d/*.cfg; do [ -e "$f" ] && . "$f"; done; '
    script += 'printf "%s\\n%s\\n" "$GRUB_CMDLINE_LINUX" "$GRUB_CMDLINE_LINUX_DEFAULT"'
    return tokens(bash(script, str(root)))


@pytest.mark.parametrize("debian", [True, False], ids=["debian-dropin", "edit-main"])
@pytest.mark.parametrize("fixture", fixture_files("grub"), ids=lambda p: p.name)
def test_grub(make_root, fixture: Path, debian: bool) -> None:
    root: HostRootBuilder = make_root()
    root.put("/etc/default/grub", fixture).put("/etc/os-release", DEBIAN if debian else ARCH)
    root.put("/proc/cpuinfo", INTEL_CPUINFO)
    before = grub_cmdline(root.path, dropins=debian)
    plan, _ = roundtrip(root, iommu=True)
    bls = plan.bootloader.kind == "grub-bls"
    after = grub_cmdline(root.path, dropins=debian)
    assert has_param(after, "intel_iommu=on")
    assert has_param(after, "iommu=pt")
    assert [t for t in after if t in before] == before  # nothing lost, order kept
    paths = [c.path for c in plan.changes]
    if (debian or "garuda" in fixture.name) and not bls:  # Garuda's file sources grub.d itself
        assert paths in ([], ["/etc/default/grub.d/zz-vfio-deck.cfg"])
    elif plan.changes:
        assert paths == ["/etc/default/grub"]
        # only the parameters were added: the rest of the bytes are the same, in order
        diff = [line for line in plan.changes[0].diff().splitlines() if line.startswith(("-", "+"))]
        assert len(diff) == 4


def test_grub_dropin_overriding_default_is_honoured(make_root) -> None:
    root = make_root()
    root.put("/etc/default/grub", CONFIG / "grub/debian12-default.grub").put("/etc/os-release", DEBIAN)
    root.put("/etc/default/grub.d/50-cloud.cfg", 'GRUB_CMDLINE_LINUX_DEFAULT="console=ttyS0"\n')
    roundtrip(root, iommu=True)
    after = grub_cmdline(root.path, dropins=True)
    assert "console=ttyS0" in after
    assert "iommu=pt" in after


def modprobe_ids(root: Path) -> list[str]:
    """The ids vfio-pci gets: modprobe concatenates options lines and the last ids= wins."""
    out = subprocess.run(
        ["modprobe", "-c", "-C", str(root / "etc/modprobe.d")], capture_output=True, text=True, check=True
    ).stdout
    ids: list[str] = []
    for line in out.splitlines():
        if line.startswith("options vfio_pci "):
            for arg in line.split()[2:]:
                if arg.startswith("ids="):
                    ids = arg[4:].split(",")
    return ids


@pytest.mark.parametrize("fixture", fixture_files("modprobe.d"), ids=lambda p: p.name)
def test_modprobe(make_root, fixture: Path) -> None:
    root = (
        make_root()
        .put(f"/etc/modprobe.d/{fixture.stem}.conf", fixture)
        .put("/etc/mkinitcpio.conf", ARCH_MKINIT)
    )
    user = {
        i
        for line in re.findall(r"(?m)^options vfio-pci (.*)$", fixture.read_text())
        for arg in line.split()
        if arg.startswith("ids=")
        for i in arg[4:].split(",")
    }
    roundtrip(root, bind=(GPU,))
    bound = modprobe_ids(root.path)
    assert set(bound) == user | GPU_IDS
    conf = subprocess.run(
        ["modprobe", "-c", "-C", str(root.path / "etc/modprobe.d")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "softdep nouveau pre: vfio-pci" in conf


def test_bind_then_unbind_gives_back_only_ours(make_root) -> None:
    fixture = CONFIG / "modprobe.d/user-vfio-multiple-options-lines-iroger.vfio.conf"
    root = make_root().put("/etc/modprobe.d/vfio.conf", fixture).put("/etc/mkinitcpio.conf", ARCH_MKINIT)
    from vfiodeck.core.hostchanges import journal

    journal.apply_plan(root.path, root.plan(bind=(GPU,)), "bind")
    journal.apply_plan(root.path, root.plan(unbind=(GPU,)), "unbind")
    assert set(modprobe_ids(root.path)) == {
        "1002:66af",
        "1002:ab20",
        "1987:5016",
        "1022:7901",
        "1d6a:07b1",
        "14e4:43a0",
    }


def test_twin_is_bound_by_address(make_root) -> None:
    root = make_root("c246").put("/etc/mkinitcpio.conf", ARCH_MKINIT)
    plan, _ = roundtrip(root, bind=("02:00.0",))
    ours = (root.path / "etc/modprobe.d/vfio-deck.conf").read_text()
    assert "ids=" not in ours
    assert "0000:02:00.0" in ours
    conf = subprocess.run(
        ["modprobe", "-c", "-C", str(root.path / "etc/modprobe.d")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(r"^install vfio_pci .*0000:02:00\.0.*driver_override", conf, re.M)


def test_storage_is_bound_by_address(make_root) -> None:
    root = make_root("z690").put("/etc/mkinitcpio.conf", ARCH_MKINIT)
    roundtrip(root, bind=("05:00.0",))
    ours = (root.path / "etc/modprobe.d/vfio-deck.conf").read_text()
    assert "ids=" not in ours
    assert "0000:05:00.0" in ours


@pytest.mark.parametrize("fixture", fixture_files("initramfs/mkinitcpio"), ids=lambda p: p.name)
def test_mkinitcpio(make_root, fixture: Path) -> None:
    root = make_root().put("/etc/mkinitcpio.conf", fixture)
    roundtrip(root, bind=(GPU,))
    modules = bash(
        'source "$1/etc/mkinitcpio.conf";'
        ' for f in "$1"/etc/mkinitcpio.conf.d/*.conf; do [ -e "$f" ] && source "$f"; done;'
        ' printf "%s\\n" "${MODULES[@]}"',
        str(root.path),
    ).split()
    assert modules[:3] == ["vfio_pci", "vfio", "vfio_iommu_type1"] or (
        "vfio_pci" in modules and modules.index("vfio_pci") < 3
    )


def test_mkinitcpio_dropin_that_assigns_modules(make_root) -> None:
    root = make_root().put("/etc/mkinitcpio.conf", ARCH_MKINIT)
    root.put("/etc/mkinitcpio.conf.d/10-gpu.conf", "MODULES=(amdgpu)\n")
    roundtrip(root, bind=(GPU,))
    modules = bash(
        'source "$1/etc/mkinitcpio.conf"; for f in "$1"/etc/mkinitcpio.conf.d/*.conf; do source "$f"; done;'
        ' printf "%s\\n" "${MODULES[@]}"',
        str(root.path),
    ).split()
    assert modules == ["vfio_pci", "vfio", "vfio_iommu_type1", "amdgpu"]


@pytest.mark.parametrize("fixture", fixture_files("initramfs/dracut"), ids=lambda p: p.name)
def test_dracut(make_root, fixture: Path) -> None:
    root = make_root()
    if fixture.name.startswith("debian12"):
        root.put("/etc/dracut.conf", fixture)
    else:
        root.put("/etc/dracut.conf", "").put(f"/etc/dracut.conf.d/{fixture.name}", fixture)
    root.put("/proc/sys/kernel/osrelease", "6.8.0-1-amd64\n")
    roundtrip(root, bind=(GPU,))
    forced = bash(
        'source "$1/etc/dracut.conf";'
        ' for f in "$1"/etc/dracut.conf.d/*.conf; do source "$f"; done; echo $force_drivers',
        str(root.path),
    ).split()
    assert {"vfio_pci", "vfio", "vfio_iommu_type1"} <= set(forced)
    assert (
        "vfio_virqfd" not in (root.path / "etc/dracut.conf.d/vfio-deck.conf").read_text()
        if (root.path / "etc/dracut.conf.d/vfio-deck.conf").exists()
        else True
    )


def test_dracut_old_kernel_gets_virqfd(make_root) -> None:
    root = make_root().put("/etc/dracut.conf", "").put("/proc/sys/kernel/osrelease", "5.15.0-91-generic\n")
    roundtrip(root, bind=(GPU,))
    assert "vfio_virqfd" in (root.path / "etc/dracut.conf.d/vfio-deck.conf").read_text()


def initramfs_tools_modules(root: Path) -> list[str]:
    # initramfs-tools' add_modules_from_file: every line not starting with '#', first word
    script = 'grep "^[^#]" "$1" | while read -r module args; do echo "$module"; done'
    return bash(script, str(root / "etc/initramfs-tools/modules")).split()


@pytest.mark.parametrize("fixture", fixture_files("initramfs/initramfs-tools"), ids=lambda p: p.name)
def test_initramfs_tools(make_root, fixture: Path) -> None:
    root = make_root()
    target = (
        "/etc/initramfs-tools/modules"
        if fixture.suffix == ".modules"
        else f"/etc/initramfs-tools/{fixture.stem}.conf"
    )
    root.put(target, fixture).put(
        "/etc/initramfs-tools/initramfs.conf", CONFIG / "initramfs/initramfs-tools/debian12-initramfs.conf"
    )
    roundtrip(root, bind=(GPU,))
    modules = [m.replace("-", "_") for m in initramfs_tools_modules(root.path)]
    gpu = next((i for i, m in enumerate(modules) if m in ("nvidia", "amdgpu")), len(modules))
    assert {"vfio_pci", "vfio", "vfio_iommu_type1"} <= set(modules[:gpu])


@pytest.mark.parametrize("fixture", fixture_files("initramfs/booster"), ids=lambda p: p.name)
def test_booster(make_root, fixture: Path) -> None:
    # No booster here to read it: the YAML line is checked as booster's parser splits it (commas).
    root = make_root().put("/etc/booster.yaml", fixture)
    roundtrip(root, bind=(GPU,))
    text = (root.path / "etc/booster.yaml").read_text()
    (line,) = re.findall(r"(?m)^modules_force_load:(.*)$", text)
    assert {"vfio_pci", "vfio", "vfio_iommu_type1"} <= {m.strip() for m in line.split(",")}


def test_limine_default_file(make_root) -> None:
    root = make_root().put(
        "/etc/default/limine", CONFIG / "limine/cachyos-limine-entry-tool-x0rzavi.default-limine"
    )
    plan, _ = roundtrip(root, iommu=True)
    assert plan.commands == (("limine-update",),)
    out = bash(
        'declare -A KERNEL_CMDLINE; source "$1"; echo "${KERNEL_CMDLINE[default]}"',
        str(root.path / "etc/default/limine"),
    )
    assert has_param(tokens(out), "iommu=pt")
    assert "rootflags=subvol=/@" in out


@pytest.mark.parametrize(
    "fixture", [p for p in fixture_files("limine") if "default" not in p.name], ids=lambda p: p.name
)
def test_limine_conf(make_root, fixture: Path) -> None:
    root = make_root().put(f"/boot/{'limine.conf' if fixture.suffix == '.conf' else 'limine.cfg'}", fixture)
    plan, applied = roundtrip(root, iommu=True)
    assert plan.changes
    text = next(v for k, v in applied.items() if k.startswith("boot/limine")).decode()
    for line in re.findall(r"(?mi)^\s*(?:kernel_)?cmdline\s*[:=](.*)$", text):
        if "${" not in line:
            assert "iommu=pt" in tokens(line)


@pytest.mark.parametrize(
    "fixture", [p for p in fixture_files("systemd-boot") if p.suffix == ".cmdline"], ids=lambda p: p.name
)
def test_kernel_install_cmdline(make_root, fixture: Path) -> None:
    root = make_root().put("/etc/kernel/cmdline", fixture)
    plan, _ = roundtrip(root, iommu=True)
    # kernel-install reads the file whole and joins its lines with blanks
    out = bash('read -r -d "" line < "$1"; echo $line', str(root.path / "etc/kernel/cmdline"))
    assert has_param(tokens(out), "iommu=pt")
    assert plan.commands in ((("kernel-install", "add-all"),), ())


def test_kernel_install_without_cmdline_copies_proc_cmdline(make_root) -> None:
    root = make_root().put(
        "/boot/loader/loader.conf", CONFIG / "systemd-boot/user-arch-grzegorzkozub.loader.conf"
    )
    root.put("/etc/kernel/install.conf", "layout=bls\n").put(
        "/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=UUID=1 rw quiet\n"
    )
    plan, _ = roundtrip(root, iommu=True)
    assert (root.path / "etc/kernel/cmdline").read_text() == "root=UUID=1 rw quiet iommu=pt\n"


@pytest.mark.parametrize(
    "fixture",
    [p for p in fixture_files("systemd-boot") if p.suffix == ".conf" and "loader" not in p.name],
    ids=lambda p: p.name,
)
def test_static_loader_entries(make_root, fixture: Path) -> None:
    root = (
        make_root()
        .put("/boot/loader/loader.conf", "timeout 3\n")
        .put(f"/boot/loader/entries/{fixture.name}", fixture)
    )
    plan, _ = roundtrip(root, iommu=True)
    text = (root.path / f"boot/loader/entries/{fixture.name}").read_text()
    options = re.findall(r"(?m)^[ \t]*options[ \t]+(.*)$", text)
    if re.search(r"(?m)^[ \t]*linux[ \t]", text):
        assert all("iommu=pt" in tokens(o) for o in options)
    else:  # an EFI program's options are not a kernel command line
        assert plan.changes == ()


@pytest.mark.parametrize("fixture", fixture_files("refind"), ids=lambda p: p.name)
def test_refind(make_root, fixture: Path) -> None:
    root = make_root()
    where = (
        "/boot/refind_linux.conf" if "refind_linux" in fixture.name else "/boot/efi/EFI/refind/refind.conf"
    )
    root.put(where, fixture)
    plan = root.plan(iommu=True)
    if "sample" in fixture.name:  # every stanza there is commented out: nothing to add to, say so
        assert plan.refused
        assert not plan.changes
        return
    roundtrip(root, iommu=True)
    text = (root.path / where.lstrip("/")).read_text()
    live = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    fields = [re.findall(r'"([^"]*)"', line) for line in live]
    if "refind_linux" in fixture.name:
        assert all("iommu=pt" in tokens(f[1]) for f in fields if len(f) >= 2)


@pytest.mark.parametrize("fixture", fixture_files("kernelstub"), ids=lambda p: p.name)
def test_kernelstub_goes_through_kernelstub(make_root, fixture: Path) -> None:
    root = make_root().put("/etc/kernelstub/configuration", fixture).put("/proc/cpuinfo", INTEL_CPUINFO)
    plan = root.plan(iommu=True)
    assert plan.changes == ()
    if "vfio" in fixture.name:  # it already has intel_iommu=on iommu=pt
        assert plan.commands == ()
    else:
        assert plan.commands == (("kernelstub", "-a", "intel_iommu=on iommu=pt"),)


def test_grubby_entries(make_root) -> None:
    root = make_root().put("/etc/default/grub", CONFIG / "grub/centos-stream8-bls-dipendrasaini.grub")
    for entry in (CONFIG / "grubby").glob("*.conf"):
        root.put(f"/boot/loader/entries/{entry.name.split('-', 1)[1]}", entry)
    root.put("/boot/grub2/grubenv", CONFIG / "grubby/centos8-grubenv")
    plan, _ = roundtrip(root, iommu=True)
    assert plan.bootloader.kind == "grub-bls"
    assert ("grubby", "--update-kernel=ALL", "--args=iommu=pt") in plan.commands


def test_rpm_ostree_and_fedora_kernel_cmdline(make_root) -> None:
    root = make_root().put("/run/ostree-booted", "").put("/proc/cmdline", "root=x rw quiet\n")
    plan = root.plan(iommu=True)
    assert plan.commands == (("rpm-ostree", "kargs", "--append-if-missing=iommu=pt"),)
    fedora = (
        make_root()
        .put("/etc/default/grub", CONFIG / "grub/fedora-cloud-bls-rhea.grub")
        .put("/etc/os-release", FEDORA)
    )
    fedora.put("/etc/kernel/cmdline", CONFIG / "systemd-boot/fedora-cloud-kernel-install-rhea.cmdline")
    plan, _ = roundtrip(fedora, iommu=True)
    assert {c.path for c in plan.changes} == {"/etc/default/grub", "/etc/kernel/cmdline"}


def test_ambiguous_bootloader_is_refused(make_root) -> None:
    root = make_root().put("/etc/default/grub", CONFIG / "grub/debian12-default.grub")
    root.put("/boot/loader/loader.conf", CONFIG / "systemd-boot/user-arch-grzegorzkozub.loader.conf")
    plan = root.plan(iommu=True)
    assert plan.bootloader.kind == "unknown"
    assert plan.refused
    assert not plan.changes
    assert set(plan.bootloader.evidence) == {"/etc/default/grub", "/boot/loader/loader.conf"}


def test_nixos_is_never_edited(make_root) -> None:
    plan = make_root().put("/etc/NIXOS", "").plan(iommu=True)
    assert plan.refused
    assert "boot.kernelParams" in plan.refused[0].reason


def test_cmdline_vfio_ids_are_merged_in_place(make_root) -> None:
    fixture = CONFIG / "grub/user-vfio-ubuntu-x570-smartperson.grub"
    root = (
        make_root()
        .put("/etc/default/grub", fixture)
        .put("/etc/os-release", ARCH)
        .put("/etc/mkinitcpio.conf", ARCH_MKINIT)
    )
    roundtrip(root, bind=(GPU,))
    after = grub_cmdline(root.path, dropins=False)
    (ids,) = [t for t in after if t.startswith("vfio-pci.ids=")]
    assert set(ids.split("=", 1)[1].split(",")) == {"1002:731f", "1002:ab38"} | GPU_IDS
    assert shutil.which("modprobe")


def test_nixos_gets_a_snippet_and_no_edit(make_root) -> None:
    root = make_root().put("/etc/NIXOS", "").put("/proc/cpuinfo", INTEL_CPUINFO)
    plan = root.plan(iommu=True, bind=(GPU,))
    assert plan.changes == ()
    (reason,) = [r.reason for r in plan.refused]
    assert 'boot.kernelParams = [ "intel_iommu=on" "iommu=pt" ];' in reason
    assert "options vfio-pci ids=10de:10f8,10de:1ad8,10de:1ad9,10de:1e84" in reason


def test_host_in_use_needs_explicit_confirmation(make_root, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from vfiodeck.core.host.model import HostUse, HostUseKind
    from vfiodeck.core.hostchanges import binding

    root = make_root("c246").put("/etc/mkinitcpio.conf", ARCH_MKINIT)
    real = binding.candidate_for

    def with_host_use(host, address):  # type: ignore[no-untyped-def]
        use = HostUse("0000:01:00.0", HostUseKind.DEFAULT_ROUTE, "eno1 holds the default route")
        return replace(real(host, address), host_uses=(use,))

    monkeypatch.setattr(binding, "candidate_for", with_host_use)
    plan = root.plan(bind=("01:00.0",))
    assert plan.changes == ()
    assert "default-route: eno1 holds the default route" in plan.refused[0].reason
    confirmed = root.plan(bind=("01:00.0",), confirm_host_use=("01:00.0",))
    assert confirmed.refused == ()
    assert confirmed.changes


def test_mkinitcpio_without_modconf_is_noted(make_root) -> None:
    text = ARCH_MKINIT.read_text().replace(" modconf", "")
    root = make_root().put("/etc/mkinitcpio.conf", text)
    plan = root.plan(bind=(GPU,))
    assert any("HOOKS has no modconf" in n for n in plan.notes)
    with_modconf = make_root().put("/etc/mkinitcpio.conf", ARCH_MKINIT).plan(bind=(GPU,))
    assert not any("modconf" in n for n in with_modconf.notes)


@pytest.mark.parametrize(
    "fixture", [p for p in fixture_files("systemd-boot") if "loader" in p.name], ids=lambda p: p.name
)
def test_loader_conf_is_evidence_for_systemd_boot(make_root, fixture: Path) -> None:
    root = make_root().put("/boot/efi/loader/loader.conf", fixture).put("/proc/cmdline", "root=UUID=1 rw\n")
    plan, _ = roundtrip(root, iommu=True)
    assert plan.bootloader.kind == "systemd-boot"
    assert plan.bootloader.evidence == ("/boot/efi/loader/loader.conf",)
    assert (root.path / "etc/kernel/cmdline").read_text() == "root=UUID=1 rw iommu=pt\n"


def test_two_initramfs_tools_are_refused(make_root) -> None:
    root = make_root().put("/etc/mkinitcpio.conf", ARCH_MKINIT).put("/etc/dracut.conf", "")
    plan = root.plan(bind=(GPU,))
    assert plan.initramfs is not None
    assert plan.initramfs.kind == "unknown"
    assert "more than one initramfs tool" in plan.refused[0].reason
    root.put("/boot/initramfs-linux.img", b"")  # the images on /boot say which one builds them
    assert root.plan(bind=(GPU,)).initramfs.kind == "mkinitcpio"  # type: ignore[union-attr]
