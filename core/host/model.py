"""Immutable values that describe a host: what the scan read, nothing it guessed.

Every field that could not be read is ``None`` (or an empty tuple for lists), and the reason
is kept in ``HostModel.problems`` so the user can be told what was missing and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from vfiodeck.core.host.root import HostRoot


class ProblemKind(str, Enum):
    """Why a value is unknown. "missing" is not a problem and is never recorded."""

    PERMISSION = "permission"  # the file exists but we may not read it: a polkit hint, not "absent"
    GARBAGE = "garbage"  # the file was read but its content does not parse
    DANGLING = "dangling"  # a symlink whose target is gone (only where the target matters)
    IO_ERROR = "io-error"  # any other OSError


@dataclass(frozen=True)
class Problem:
    path: str  # relative to the host root, e.g. "sys/bus/pci/devices/0000:01:00.0/vendor"
    kind: ProblemKind
    detail: str


@dataclass(frozen=True)
class Bar:
    """One PCI base address register, from a line of the device's ``resource`` file."""

    index: int
    start: int
    end: int
    flags: int

    @property
    def size(self) -> int:
        return self.end - self.start + 1 if self.end >= self.start and self.end else 0

    @property
    def is_io(self) -> bool:
        return bool(self.flags & 0x100)  # IORESOURCE_IO

    @property
    def is_64bit(self) -> bool:
        return bool(self.flags & 0x100000)  # IORESOURCE_MEM_64

    @property
    def prefetchable(self) -> bool:
        return bool(self.flags & 0x2000)  # IORESOURCE_PREFETCH

    @property
    def above_4g(self) -> bool:
        return self.start >= 1 << 32


@dataclass(frozen=True)
class AcsFlags:
    """The seven ACS bits, in register order (lspci: SrcValid TransBlk ReqRedir CmpltRedir
    UpstreamFwd EgressCtrl DirectTrans)."""

    sv: bool
    tb: bool
    rr: bool
    cr: bool
    uf: bool
    ec: bool
    dt: bool


@dataclass(frozen=True)
class Acs:
    present: bool
    cap: AcsFlags | None = None
    ctrl: AcsFlags | None = None


@dataclass(frozen=True)
class RebarEntry:
    bar: int
    current_mib: int
    supported_mib: tuple[int, ...]


@dataclass(frozen=True)
class Sriov:
    present: bool
    total_vfs: int | None = None
    num_vfs: int | None = None


@dataclass(frozen=True)
class PciCapabilities:
    """What config space says; None where the bytes read do not reach a field."""

    config_bytes: int
    flr: bool | None = None
    acs: Acs | None = None
    rebar: tuple[RebarEntry, ...] | None = None
    sriov: Sriov | None = None


@dataclass(frozen=True)
class PciDevice:
    address: str  # canonical lowercase "dddd:bb:ss.f" (domain 4 or 5 hex digits)
    vendor_id: str | None = None  # 4 lowercase hex digits, no 0x
    device_id: str | None = None
    subsystem_vendor_id: str | None = None
    subsystem_device_id: str | None = None
    class_code: str | None = None  # 6 hex digits: base class, subclass, prog-if ("030000")
    revision: str | None = None  # 2 hex digits
    driver: str | None = None
    iommu_group: int | None = None
    numa_node: int | None = None  # -1 in sysfs becomes None
    boot_vga: bool | None = None
    reset_methods: tuple[str, ...] | None = None
    bars: tuple[Bar, ...] = ()
    vendor_name: str | None = None
    device_name: str | None = None
    subsystem_name: str | None = None
    class_name: str | None = None
    capabilities: PciCapabilities | None = None  # None: config could not be read

    @property
    def class_id(self) -> str | None:
        """Base class and subclass, 4 hex digits ("0300"), as the inspect contract shows it."""
        return self.class_code[:4] if self.class_code else None

    @property
    def slot(self) -> str:
        """Domain, bus and device: the functions of one slot share it."""
        return self.address.rsplit(".", 1)[0]

    @property
    def function(self) -> int:
        return int(self.address.rsplit(".", 1)[1], 16)

    @property
    def ids(self) -> str | None:
        """ "vvvv:dddd", the form ``vfio-pci.ids`` takes."""
        if self.vendor_id and self.device_id:
            return f"{self.vendor_id}:{self.device_id}"
        return None

    @property
    def is_bridge(self) -> bool:
        """Host bridges (0600) and PCI bridges (0604) never block passthrough."""
        return self.class_id in ("0600", "0604")


@dataclass(frozen=True)
class IommuGroup:
    id: int
    devices: tuple[str, ...]  # addresses, sorted


@dataclass(frozen=True)
class IommuInfo:
    enabled: bool
    groups: tuple[IommuGroup, ...] = ()


@dataclass(frozen=True)
class CpuInfo:
    vendor: str | None = None  # "GenuineIntel", "AuthenticAMD", ...
    model_name: str | None = None
    virtualization: str | None = None  # "vmx", "svm" or None
    packages: int = 0
    cores: int = 0
    threads: int = 0
    flags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LogicalCpu:
    id: int
    package: int | None
    die: int | None
    core: int | None  # core_id as sysfs gives it: unique only within a package (and die)
    node: int | None
    siblings: tuple[int, ...]  # SMT siblings, itself included


@dataclass(frozen=True)
class Core:
    package: int | None
    die: int | None
    core: int | None
    cpus: tuple[int, ...]


@dataclass(frozen=True)
class NumaNode:
    id: int
    cpus: tuple[int, ...]
    memory_mib: int | None = None
    distances: tuple[int, ...] | None = None
    hugepages: tuple[tuple[int, int], ...] = ()  # (page size kB, nr_hugepages)


@dataclass(frozen=True)
class CacheDomain:
    level: int
    cpus: tuple[int, ...]
    size_kib: int | None = None


@dataclass(frozen=True)
class Topology:
    cpus: tuple[LogicalCpu, ...] = ()  # online CPUs only, by id
    cores: tuple[Core, ...] = ()
    numa_nodes: tuple[NumaNode, ...] = ()
    cache_domains: tuple[CacheDomain, ...] = ()  # level-3 domains


@dataclass(frozen=True)
class HostModel:
    source: str  # what was scanned: "/" for the live host, else the root's path or file name
    cpu: CpuInfo
    topology: Topology
    pci_devices: tuple[PciDevice, ...]
    iommu: IommuInfo
    cmdline: str | None = None
    problems: tuple[Problem, ...] = field(default=())
    host_uses: tuple[HostUse, ...] = ()  # devices the running host needs (root disk, display, ...)
    # Where it was read from: later reads about this host (pre-flight, firmware) go through it too.
    root: HostRoot | None = field(default=None, compare=False, repr=False)

    @property
    def is_live(self) -> bool:
        return self.source == "/"

    @cached_property
    def _devices_by_address(self) -> dict[str, PciDevice]:
        return {dev.address: dev for dev in self.pci_devices}

    @cached_property
    def _groups_by_id(self) -> dict[int, IommuGroup]:
        return {grp.id: grp for grp in self.iommu.groups}

    @cached_property
    def candidates(self) -> tuple[Candidate, ...]:
        """Passthrough candidates, computed once per model (DESIGN.md "Rules the model follows")."""
        from vfiodeck.core.host.candidates import find_candidates  # the rules need the model first

        return find_candidates(self)

    def device(self, address: str) -> PciDevice | None:
        return self._devices_by_address.get(address)

    def group(self, group_id: int) -> IommuGroup | None:
        return self._groups_by_id.get(group_id)


class CandidateKind(str, Enum):
    GPU = "gpu"
    NIC = "nic"
    USB = "usb"
    STORAGE = "storage"
    AUDIO = "audio"


class HostUseKind(str, Enum):
    """What the running host would lose if a device went to a VM."""

    ROOT_FS = "root-filesystem"
    BOOT_FS = "boot-filesystem"
    SWAP = "swap"
    BLOCK_HOLDER = "block-holder"  # an active LVM/LUKS/md member
    DISPLAY = "display"
    DEFAULT_ROUTE = "default-route"
    INPUT = "input"


@dataclass(frozen=True)
class HostUse:
    address: str  # the PCI function the host uses
    what: HostUseKind
    detail: str  # the evidence, e.g. "/dev/vda1 mounted on /"


class BindingMethod(str, Enum):
    IDS = "ids"  # vfio-pci.ids=vvvv:dddd,... (kernel command line or modprobe.d)
    DRIVER_OVERRIDE = "driver_override"  # by address, because an id is shared with a device the host keeps


@dataclass(frozen=True)
class Binding:
    method: BindingMethod
    ids: tuple[str, ...]  # "vvvv:dddd", sorted, unique
    reason: str  # one sentence for the user: why this method


@dataclass(frozen=True)
class Candidate:
    """What can go to a VM as one piece, by DESIGN.md's rules, and its verdict."""

    device: str  # the leading function: the unit's first, or a candidate-class function alone
    kind: CandidateKind
    functions: tuple[str, ...]  # what is passed: the unit (or the device alone), sorted
    group_ids: tuple[int, ...]  # IOMMU groups the functions are in, sorted
    blockers: tuple[str, ...]  # non-bridge devices in those groups that are not its functions
    isolated: bool  # IOMMU on, and no blockers: it can be passed alone
    binding: Binding
    verdict: str  # the sentence the report and the GUI show
    companions: tuple[str, ...] = ()  # a GPU's audio/USB-C functions in groups of their own
    host_uses: tuple[HostUse, ...] = ()  # what the running host needs of its functions or blockers
