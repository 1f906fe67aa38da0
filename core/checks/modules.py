"""vfio_modules: the VFIO kernel modules, loaded or built into the kernel."""

from __future__ import annotations

from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.host.sysfs import Reader

SYS_MODULE = "sys/module"
WANTED = ("vfio", "vfio_pci", "vfio_iommu_type1")
TITLE = "VFIO kernel modules"

LOAD_FIX = (
    "Load them with `modprobe vfio-pci` (it pulls in vfio and vfio_iommu_type1). To bind GPUs at "
    "boot, add vfio, vfio_iommu_type1 and vfio_pci to the initramfs (mkinitcpio MODULES=, dracut "
    "force_drivers+=, /etc/initramfs-tools/modules) before the GPU driver."
)
MISSING_FIX = "This kernel ships no VFIO: install a distribution kernel built with CONFIG_VFIO_PCI."


def kernel_release(reader: Reader) -> str | None:
    release: str | None = reader.string("proc/sys/kernel/osrelease")
    if release:
        return release
    version: str | None = reader.string("proc/version")  # "Linux version 6.1.0-13-amd64 (...) ..."
    words = version.split() if version else []
    return words[2] if len(words) > 2 and words[:2] == ["Linux", "version"] else None


def module_names(text: str) -> set[str]:
    """Module names from modules.builtin or modules.dep lines ("kernel/drivers/vfio/pci/vfio-pci.ko.zst:
    ..."): the file name up to ".ko", with dashes as underscores, as sys/module spells them."""
    names: set[str] = set()
    for line in text.splitlines():
        path = line.split(":", 1)[0].strip()
        base = path.rsplit("/", 1)[-1]
        if ".ko" in base:
            names.add(base.split(".ko", 1)[0].replace("-", "_"))
    return names


def check_vfio_modules(ctx: CheckContext) -> Check:
    reader = ctx.reader
    release = kernel_release(reader)
    libdir = f"lib/modules/{release}" if release else None
    builtin_text = reader.text(f"{libdir}/modules.builtin") if libdir else None
    builtin = module_names(builtin_text) if builtin_text is not None else set()
    has_sys_module = reader.isdir(SYS_MODULE)
    loaded = {name for name in WANTED if reader.isdir(f"{SYS_MODULE}/{name}")}
    # Kernels built with iommufd instead of the legacy container have no vfio_iommu_type1.
    if reader.isdir(f"{SYS_MODULE}/iommufd") or "iommufd" in builtin:
        loaded |= {"vfio_iommu_type1"} if "vfio" in loaded | builtin else set()
    present = loaded | (builtin & set(WANTED))
    missing = [name for name in WANTED if name not in present]
    if not missing:
        where = f"{SYS_MODULE}: {', '.join(WANTED)}"
        if builtin & set(WANTED):
            where += f" (built in: {libdir}/modules.builtin)"
        return Check("vfio_modules", Status.PASS, TITLE, where, "")
    if not has_sys_module and builtin_text is None:
        return Check("vfio_modules", Status.UNKNOWN, TITLE, f"{SYS_MODULE}: not captured", "")
    evidence = f"{SYS_MODULE}: {', '.join(missing)} not loaded"
    dep_text = reader.text(f"{libdir}/modules.dep") if libdir else None
    if dep_text is not None and builtin_text is not None:
        available = module_names(dep_text) | builtin
        absent = [name for name in missing if name not in available]
        if absent:
            evidence += f"; not in {libdir}/modules.dep or modules.builtin: {', '.join(absent)}"
            return Check("vfio_modules", Status.FAIL, TITLE, evidence, MISSING_FIX)
    return Check("vfio_modules", Status.WARN, TITLE, evidence, LOAD_FIX, "sudo modprobe vfio-pci")
