"""Which package manager a fix names: from etc/os-release (ID and ID_LIKE), read through the root."""

from __future__ import annotations

from vfiodeck.core.host.sysfs import Reader

OS_RELEASE = ("etc/os-release", "usr/lib/os-release")
# family -> the install command's head
_INSTALL = {
    "debian": "sudo apt install",
    "fedora": "sudo dnf install",
    "arch": "sudo pacman -S",
    "suse": "sudo zypper install",
}
_FAMILIES = {
    "debian": "debian",
    "ubuntu": "debian",
    "pop": "debian",
    "linuxmint": "debian",
    "fedora": "fedora",
    "rhel": "fedora",
    "centos": "fedora",
    "arch": "arch",
    "manjaro": "arch",
    "endeavouros": "arch",
    "cachyos": "arch",
    "opensuse": "suse",
    "suse": "suse",
}


def parse_os_release(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            values[key.strip()] = value.strip().strip("\"'")
    return values


def family(reader: Reader) -> str | None:
    """ "debian", "fedora", "arch", "suse" or None."""
    for rel in OS_RELEASE:
        text = reader.text(rel)
        if text is None:
            continue
        values = parse_os_release(text)
        for word in [values.get("ID", ""), *values.get("ID_LIKE", "").split()]:
            for name, fam in _FAMILIES.items():
                if word == name or word.startswith(name + "-"):
                    return fam
        return None
    return None


def install_command(reader: Reader, packages: dict[str, str]) -> str:
    """The install command for this distribution's package name, or "" when the family is unknown."""
    fam = family(reader)
    if fam is None or fam not in packages:
        return ""
    return f"{_INSTALL[fam]} {packages[fam]}"
