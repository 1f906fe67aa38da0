"""Large synthetic host roots made from a real listing, for benchmarks and scaling tests.

``scale_listing`` repeats a published listing's devices, each copy in a PCI domain of its own
(multi-segment servers number their segments the same way), until it has the number of functions
asked for; with ``one_group`` every function lands in one IOMMU group, the worst case for anything
that works per group. ``write_cpus`` adds a CPU/NUMA/L3 topology of any size, shaped like a
two-socket SMT server: what the scanner reads under sys/devices/system and /proc/cpuinfo.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.hostbuilder import Listing, build_root, parse_listing

LISTINGS_DIR = Path(__file__).parent / "fixtures" / "listings"
DEFAULT_LISTING = LISTINGS_DIR / "z690-asus-alderlake-rx6700xt-rx560-tb4-lspci-nnk.txt"


def scale_listing(listing: Listing, devices: int, *, one_group: bool = False) -> Listing:
    """``devices`` functions: copies of ``listing`` in PCI domains 0000, 0001, ..."""
    base = [d for d in listing.devices if d.group is not None] or list(listing.devices)
    step = max((d.group or 0) for d in base) + 1
    scaled = []
    for n in range(devices):
        copy, dev = divmod(n, len(base))
        original = base[dev]
        address = f"{copy:04x}{original.address[4:]}"
        group = 0 if one_group else (original.group or 0) + copy * step
        scaled.append(replace(original, address=address, group=group))
    groups: dict[int, list[str]] = {}
    for dev in scaled:
        groups.setdefault(dev.group or 0, []).append(dev.address)
    return Listing(
        source=f"{listing.source} (x{devices / len(base):.1f})",
        cmdline=listing.cmdline,
        devices=tuple(scaled),
        groups={g: tuple(sorted(m)) for g, m in sorted(groups.items())},
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _cpulist(first: int, last: int) -> str:
    return f"{first}-{last}" if last > first else f"{first}"


def write_cpus(dest: Path, cpus: int, *, packages: int = 2, threads: int = 2, l3_cores: int = 8) -> None:
    """A topology of ``cpus`` logical CPUs: ``packages`` sockets (one NUMA node each), SMT
    siblings numbered ``core`` and ``core + cpus/threads`` as Linux numbers them, one L3 per
    ``l3_cores`` cores."""
    cores = cpus // threads
    per_package = cores // packages
    cpu_dir = dest / "sys" / "devices" / "system" / "cpu"
    _write(cpu_dir / "online", _cpulist(0, cpus - 1) + "\n")
    _write(cpu_dir / "possible", _cpulist(0, cpus - 1) + "\n")
    for cpu in range(cpus):
        core = cpu % cores
        package = core // per_package
        siblings = ",".join(str(core + t * cores) for t in range(threads))
        topo = cpu_dir / f"cpu{cpu}" / "topology"
        _write(topo / "physical_package_id", f"{package}\n")
        _write(topo / "die_id", "0\n")
        _write(topo / "core_id", f"{core % per_package}\n")
        _write(topo / "core_cpus_list", siblings + "\n")
        _write(topo / "thread_siblings_list", siblings + "\n")
        l3_first = core - core % l3_cores
        shared = ",".join(
            _cpulist(l3_first + t * cores, l3_first + l3_cores - 1 + t * cores) for t in range(threads)
        )
        index = cpu_dir / f"cpu{cpu}" / "cache" / "index3"
        _write(index / "level", "3\n")
        _write(index / "type", "Unified\n")
        _write(index / "size", "32768K\n")
        _write(index / "shared_cpu_list", shared + "\n")
    node_dir = dest / "sys" / "devices" / "system" / "node"
    for package in range(packages):
        first = package * per_package
        cpulist = ",".join(
            _cpulist(first + t * cores, first + per_package - 1 + t * cores) for t in range(threads)
        )
        node = node_dir / f"node{package}"
        _write(node / "cpulist", cpulist + "\n")
        _write(node / "meminfo", f"Node {package} MemTotal:       263921284 kB\n")
        _write(node / "distance", " ".join("10" if n == package else "21" for n in range(packages)) + "\n")
    _write(node_dir / "online", _cpulist(0, packages - 1) + "\n")
    block = (
        "vendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n"
        "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep vmx\n\n"
    )
    _write(dest / "proc" / "cpuinfo", "".join(f"processor\t: {cpu}\n" + block for cpu in range(cpus)))


def build_synthetic_root(
    dest: Path,
    devices: int,
    *,
    cpus: int = 0,
    one_group: bool = False,
    listing: Path = DEFAULT_LISTING,
) -> Path:
    """A host root under ``dest`` with ``devices`` PCI functions (and ``cpus`` CPUs when > 0)."""
    build_root(scale_listing(parse_listing(listing), devices, one_group=one_group), dest)
    if cpus:
        write_cpus(dest, cpus)
    return dest
