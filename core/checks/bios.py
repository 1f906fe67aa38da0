"""Where a firmware setting lives in each board vendor's setup menus.

The board vendor comes from DMI (``sys/class/dmi/id/board_vendor``, readable by any user). When
it is one we know, a fix names that vendor's menu path; otherwise it names all four, so a user can
find their own. Menu paths are those of the vendors' current UEFI setups (advanced mode).
"""

from __future__ import annotations

from enum import Enum

from vfiodeck.core.host.sysfs import Reader

DMI = "sys/class/dmi/id"


class Board(str, Enum):
    ASUS = "ASUS"
    MSI = "MSI"
    GIGABYTE = "Gigabyte"
    ASROCK = "ASRock"
    OTHER = "other"


class Setting(str, Enum):
    SVM = "svm"  # AMD-V
    VMX = "vmx"  # Intel VT-x
    VTD = "vtd"  # Intel VT-d
    AMD_IOMMU = "amd_iommu"
    ABOVE_4G = "above_4g"
    REBAR = "rebar"
    CSM = "csm"
    PRIMARY_GPU = "primary_gpu"
    ACS = "acs"  # AMD boards only: the NBIO "ACS Enable" switch
    SECURE_BOOT = "secure_boot"


_MENUS: dict[Setting, dict[Board, str]] = {
    Setting.SVM: {
        Board.ASUS: 'Advanced > CPU Configuration > "SVM Mode" = Enabled',
        Board.MSI: 'OC > Advanced CPU Configuration > "SVM Mode" = Enabled',
        Board.GIGABYTE: 'Tweaker > Advanced CPU Settings > "SVM Mode" = Enabled',
        Board.ASROCK: 'Advanced > CPU Configuration > "SVM Mode" = Enabled',
    },
    Setting.VMX: {
        Board.ASUS: 'Advanced > CPU Configuration > "Intel (VMX) Virtualization Technology" = Enabled',
        Board.MSI: 'OC > CPU Features > "Intel Virtualization Tech" = Enabled',
        Board.GIGABYTE: 'Tweaker > Advanced CPU Settings > "Intel Virtualization Technology" = Enabled',
        Board.ASROCK: 'Advanced > CPU Configuration > "Intel Virtualization Technology" = Enabled',
    },
    Setting.VTD: {
        Board.ASUS: 'Advanced > System Agent (SA) Configuration > "VT-d" = Enabled',
        Board.MSI: 'OC > CPU Features > "Intel VT-D Tech" = Enabled',
        Board.GIGABYTE: 'Settings > Miscellaneous > "Intel VT-d Technology" = Enabled',
        Board.ASROCK: 'Advanced > Chipset Configuration > "VT-d" = Enabled',
    },
    Setting.AMD_IOMMU: {
        Board.ASUS: 'Advanced > AMD CBS > NBIO Common Options > "IOMMU" = Enabled',
        Board.MSI: 'Settings > Advanced > AMD CBS > NBIO Common Options > "IOMMU" = Enabled',
        Board.GIGABYTE: 'Settings > Miscellaneous > "IOMMU" = Enabled',
        Board.ASROCK: 'Advanced > AMD CBS > NBIO Common Options > "IOMMU" = Enabled',
    },
    Setting.ABOVE_4G: {
        Board.ASUS: 'Advanced > PCI Subsystem Settings > "Above 4G Decoding" = Enabled',
        Board.MSI: "Settings > Advanced > PCI Subsystem Settings > "
        '"Above 4G memory/Crypto Currency mining" = Enabled',
        Board.GIGABYTE: 'Settings > IO Ports > "Above 4G Decoding" = Enabled',
        Board.ASROCK: 'Advanced > Chipset Configuration > "Above 4G Decoding" = Enabled',
    },
    Setting.REBAR: {
        Board.ASUS: 'Advanced > PCI Subsystem Settings > "Re-Size BAR Support"',
        Board.MSI: 'Settings > Advanced > PCI Subsystem Settings > "Re-Size BAR Support"',
        Board.GIGABYTE: 'Settings > IO Ports > "Re-Size BAR Support"',
        Board.ASROCK: 'Advanced > Chipset Configuration > "Re-Size BAR Support"',
    },
    Setting.CSM: {
        Board.ASUS: 'Boot > CSM (Compatibility Support Module) > "Launch CSM" = Disabled',
        Board.MSI: 'Settings > Advanced > Windows OS Configuration > "BIOS UEFI/CSM Mode" = UEFI',
        Board.GIGABYTE: 'Boot > "CSM Support" = Disabled',
        Board.ASROCK: 'Boot > CSM (Compatibility Support Module) > "CSM" = Disabled',
    },
    Setting.PRIMARY_GPU: {
        Board.ASUS: 'Advanced > System Agent (SA) Configuration > Graphics Configuration > "Primary Display" '
        '(AMD boards: Advanced > NB Configuration > "Primary Video Device")',
        Board.MSI: 'Settings > Advanced > Integrated Graphics Configuration > "Initiate Graphic Adapter"',
        Board.GIGABYTE: 'Settings > IO Ports > "Initial Display Output"',
        Board.ASROCK: 'Advanced > Chipset Configuration > "Primary Graphics Adapter"',
    },
    Setting.ACS: {
        Board.ASUS: 'Advanced > AMD CBS > NBIO Common Options > "ACS Enable" = Enable',
        Board.MSI: 'Settings > Advanced > AMD CBS > NBIO Common Options > "ACS Enable" = Enable',
        Board.GIGABYTE: 'Settings > AMD CBS > NBIO Common Options > "ACS Enable" = Enable',
        Board.ASROCK: 'Advanced > AMD CBS > NBIO Common Options > "ACS Enable" = Enable',
    },
    Setting.SECURE_BOOT: {
        Board.ASUS: 'Boot > Secure Boot > "OS Type" = Other OS',
        Board.MSI: 'Settings > Security > Secure Boot > "Secure Boot" = Disabled',
        Board.GIGABYTE: 'Boot > "Secure Boot" = Disabled',
        Board.ASROCK: 'Security > Secure Boot > "Secure Boot" = Disabled',
    },
}

# DMI board_vendor / sys_vendor strings as the vendors write them.
_VENDOR_PREFIXES: tuple[tuple[str, Board], ...] = (
    ("asustek", Board.ASUS),
    ("asus", Board.ASUS),
    ("micro-star", Board.MSI),
    ("msi", Board.MSI),
    ("gigabyte", Board.GIGABYTE),
    ("asrock", Board.ASROCK),
)


def board_of(reader: Reader) -> tuple[Board, str | None]:
    """The board vendor we know it as, and the DMI string it came from."""
    for attr in ("board_vendor", "sys_vendor"):
        value = reader.string(f"{DMI}/{attr}")
        if value:
            lowered = value.lower()
            for prefix, board in _VENDOR_PREFIXES:
                if lowered.startswith(prefix):
                    return board, value
            return Board.OTHER, value
    return Board.OTHER, None


def menu(board: Board, setting: Setting) -> str:
    """ "BIOS (ASUS): Advanced > ..." for a known board, else every vendor's path."""
    paths = _MENUS[setting]
    if board in paths:
        return f"BIOS ({board.value}): {paths[board]}"
    listed = "; ".join(f"{b.value}: {p}" for b, p in paths.items())
    return f"BIOS menu by board vendor: {listed}"
