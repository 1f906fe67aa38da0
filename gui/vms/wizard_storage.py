"""The wizard's storage page: a new qcow2 image named after the VM in a libvirt storage pool, an
image or block device you have, or none; the installer ISO and, for Windows, the virtio-win ISO.

On a fresh libvirt no pool holds /var/lib/libvirt/images: the page says so and asks before creating
the ``default`` directory pool there (or a pool for the folder the user picked)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import libvirt
from lxml import etree
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QWidget,
    QWizardPage,
)

from vfiodeck.core.vm.connection import Hypervisor
from vfiodeck.core.vm.errors import translate

DEFAULT_FOLDER = "/var/lib/libvirt/images"
VIRTIO_WIN = "/usr/share/virtio-win/virtio-win.iso"  # where Fedora's and Debian's packages put it


@dataclass(frozen=True)
class DiskChoice:
    path: str | None  # None: no disk
    size_gib: int | None  # None: an existing image or device
    create_pool: str | None = None  # a pool to create for the folder first (the user agreed)


def pool_folders(hv: Hypervisor) -> dict[str, str]:
    """Folder -> pool name for every directory-like pool. Blocking."""
    try:
        found = {}
        for pool in hv.conn.listAllStoragePools(0):
            target = etree.fromstring(pool.XMLDesc(0).encode()).findtext("target/path")
            if target:
                found[os.path.normpath(target)] = pool.name()
        return found
    except libvirt.libvirtError as err:
        raise translate(err) from err


def create_dir_pool(hv: Hypervisor, name: str, folder: str) -> None:
    """Define, build, start and autostart a directory pool ``name`` at ``folder``. Blocking."""
    root = etree.Element("pool", type="dir")
    etree.SubElement(root, "name").text = name
    etree.SubElement(etree.SubElement(root, "target"), "path").text = folder
    try:
        pool = hv.conn.storagePoolDefineXML(etree.tostring(root, encoding="unicode"), 0)
        pool.build(0)
        pool.create(0)
        pool.setAutostart(1)
    except libvirt.libvirtError as err:
        raise translate(err) from err


def _browse_row(edit: QLineEdit, title: str, folder: bool = False) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    browse = QPushButton("Browse…")

    def pick() -> None:
        start = edit.text() or str(Path.home())
        path = (
            QFileDialog.getExistingDirectory(row, title, start)
            if folder
            else QFileDialog.getOpenFileName(row, title, start)[0]
        )
        if path:
            edit.setText(path)

    browse.clicked.connect(pick)
    layout.addWidget(browse)
    return row


class StoragePage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Storage")
        self.setSubTitle("A new qcow2 image in a libvirt storage pool, or an image or block device you have.")
        form = QFormLayout(self)
        self.kind = QButtonGroup(self)
        self.new = QRadioButton("New qcow2 image")
        self.existing = QRadioButton("Existing image or block device")
        self.none = QRadioButton("No disk for now")
        for i, button in enumerate((self.new, self.existing, self.none)):
            self.kind.addButton(button, i)
        self.new.setChecked(True)
        self.folder = QLineEdit(DEFAULT_FOLDER)
        self.file_name = QLineEdit("win11.qcow2")
        self._name_follows = True  # the file follows the VM's name until the user types one
        self.file_name.textEdited.connect(lambda _t: setattr(self, "_name_follows", False))
        self.disk_size = QSpinBox()
        self.disk_size.setRange(1, 65536)
        self.disk_size.setValue(128)
        self.disk_size.setSuffix(" GiB")
        self.pool_note = QLabel()
        self.pool_note.setWordWrap(True)
        self.create_pool = QCheckBox()
        self.create_pool.hide()
        self.existing_path = QLineEdit()
        self.existing_path.setPlaceholderText("/dev/disk/by-id/nvme-… or /path/to/image.qcow2")
        self.iso = QLineEdit()
        self.iso.setPlaceholderText("/path/to/Win11.iso (optional)")
        self.drivers_iso = QLineEdit(VIRTIO_WIN if os.path.exists(VIRTIO_WIN) else "")
        self.drivers_iso.setPlaceholderText(
            "virtio-win.iso: Windows' drivers for the virtio disk and network"
        )
        form.addRow(self.new)
        form.addRow("Folder:", _browse_row(self.folder, "Folder for the image", folder=True))
        form.addRow("File:", self.file_name)
        form.addRow("Size:", self.disk_size)
        form.addRow(self.pool_note)
        form.addRow(self.create_pool)
        form.addRow(self.existing)
        form.addRow("Image:", _browse_row(self.existing_path, "Disk image"))
        form.addRow(self.none)
        form.addRow("Installer ISO:", _browse_row(self.iso, "Installer ISO"))
        self.drivers_label = QLabel("Drivers ISO:")
        self.drivers_row = _browse_row(self.drivers_iso, "virtio-win ISO")
        form.addRow(self.drivers_label, self.drivers_row)
        self.pools: dict[str, str] | None = None  # folder -> pool, read when the page opens
        self.missing_pool = False
        self.folder.textChanged.connect(self.update_pool_note)
        self.create_pool.toggled.connect(lambda _on: self.completeChanged.emit())
        self.kind.idToggled.connect(lambda *_a: self.update_pool_note())

    def follow_name(self, vm: str) -> None:
        if self._name_follows and vm:
            self.file_name.setText(f"{vm}.qcow2")

    def show_drivers_iso(self, windows: bool) -> None:
        self.drivers_label.setVisible(windows)
        self.drivers_row.setVisible(windows)

    def set_pools(self, pools: dict[str, str] | None) -> None:
        self.pools = pools
        self.update_pool_note()

    def update_pool_note(self) -> None:
        folder = os.path.normpath(self.folder.text().strip() or DEFAULT_FOLDER)
        missing = self.new.isChecked() and self.pools is not None and folder not in self.pools
        if self.pools is None:
            self.pool_note.setText("Reading the storage pools…" if self.new.isChecked() else "")
        elif not missing:
            pool = self.pools.get(folder)
            self.pool_note.setText(f"The image goes into the storage pool “{pool}”." if pool else "")
        else:
            self.pool_note.setText(
                f"No libvirt storage pool holds {folder} yet: create one (below), pick another folder, "
                "or use an existing image."
            )
            self.create_pool.setText(f"Create the storage pool “{self.pool_name(folder)}” for {folder}")
        self.missing_pool = missing
        self.create_pool.setVisible(missing)
        self.completeChanged.emit()

    def pool_name(self, folder: str) -> str:
        taken = set((self.pools or {}).values())
        if folder == DEFAULT_FOLDER and "default" not in taken:
            return "default"
        base = os.path.basename(folder) or "images"
        return base if base not in taken else f"{base}-vfiodeck"

    def choice(self) -> DiskChoice:
        if self.new.isChecked():
            folder = os.path.normpath(self.folder.text().strip() or DEFAULT_FOLDER)
            name = self.file_name.text().strip()
            if name and not name.endswith(".qcow2"):
                name += ".qcow2"  # the volume new_volume_xml makes is named so
            pool = self.pool_name(folder) if self.missing_pool and self.create_pool.isChecked() else None
            return DiskChoice(os.path.join(folder, name) if name else None, self.disk_size.value(), pool)
        if self.existing.isChecked():
            return DiskChoice(self.existing_path.text().strip() or None, None)
        return DiskChoice(None, None)

    def disk(self) -> tuple[str | None, int | None]:
        choice = self.choice()
        return choice.path, choice.size_gib

    def isComplete(self) -> bool:  # noqa: N802
        return not (self.missing_pool and not self.create_pool.isChecked())
