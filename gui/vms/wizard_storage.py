"""The wizard's storage page: a new qcow2 image named after the VM in a libvirt storage pool, an
image or block device you have, or none; the installer ISO and, for Windows, the virtio-win ISO.

On a fresh libvirt no pool holds /var/lib/libvirt/images: the page says so and creating the
``default`` directory pool there is a box the user ticks (or they pick another folder)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

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

from vfiodeck.core.plan.newvm import DEFAULT_IMAGE_DIR, DiskChoice
from vfiodeck.gui.plain import plain_label

VIRTIO_WIN = "/usr/share/virtio-win/virtio-win.iso"  # where Fedora's virtio-win package puts it
VIRTIO_WIN_URL = (
    "https://fedorapeople.org/groups/virt/virtio-win/direct-downloads/stable-virtio/virtio-win.iso"
)


def _browse_row(edit: QLineEdit, title: str, folder: bool = False) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    browse = QPushButton("Browse…")

    def pick() -> None:
        start = edit.text() or str(Path.home())
        if folder:
            path = QFileDialog.getExistingDirectory(row, title, start)
        else:
            path = QFileDialog.getOpenFileName(row, title, start, "Disc images (*.iso);;All files (*)")[0]
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
        self.check_pool: Callable[[str], None] = lambda _folder: None  # the wizard asks libvirt
        form = QFormLayout(self)
        self.kind = QButtonGroup(self)
        self.new = QRadioButton("New qcow2 image, named after the VM")
        self.existing = QRadioButton("Existing image or block device")
        self.none = QRadioButton("No disk for now")
        for i, button in enumerate((self.new, self.existing, self.none)):
            self.kind.addButton(button, i)
        self.new.setChecked(True)
        self.folder = QLineEdit(DEFAULT_IMAGE_DIR)
        self.image = plain_label()
        self.disk_size = QSpinBox()
        self.disk_size.setRange(1, 65536)
        self.disk_size.setValue(128)
        self.disk_size.setSuffix(" GiB")
        self.pool_note = plain_label()
        self.pool_note.setWordWrap(True)
        self.create_pool = QCheckBox()
        self.create_pool.hide()
        self.existing_path = QLineEdit()
        self.existing_path.setPlaceholderText("/dev/disk/by-id/nvme-… or /path/to/image.qcow2")
        self.iso = QLineEdit()
        self.iso.setPlaceholderText("/path/to/Win11.iso (optional)")
        self.virtio_iso = QLineEdit(VIRTIO_WIN if os.path.exists(VIRTIO_WIN) else "")
        self.virtio_iso.setPlaceholderText("virtio-win.iso: Windows' drivers for virtio disks and network")
        self.virtio_note = QLabel(
            f"Get it from <a href='{VIRTIO_WIN_URL}'>fedorapeople.org (virtio-win)</a>."
        )
        self.virtio_note.setOpenExternalLinks(True)
        form.addRow(self.new)
        form.addRow("Folder:", _browse_row(self.folder, "Folder for the image", folder=True))
        form.addRow("Image:", self.image)
        form.addRow("Size:", self.disk_size)
        form.addRow(self.pool_note)
        form.addRow(self.create_pool)
        form.addRow(self.existing)
        form.addRow("Path:", _browse_row(self.existing_path, "Disk image"))
        form.addRow(self.none)
        form.addRow("Installer ISO:", _browse_row(self.iso, "Installer ISO"))
        self.virtio_label = QLabel("Drivers ISO:")
        self.virtio_row = _browse_row(self.virtio_iso, "virtio-win ISO")
        form.addRow(self.virtio_label, self.virtio_row)
        form.addRow("", self.virtio_note)
        self.vm_name = "win11"
        self.pool: str | None = None  # the pool holding the folder; None: none (or not known yet)
        self.pool_known = False
        self.folder.editingFinished.connect(lambda: self.check_pool(self.directory()))
        self.folder.textChanged.connect(lambda _t: self.set_pool(None, known=False))
        self.create_pool.toggled.connect(lambda _on: self.completeChanged.emit())
        self.kind.idToggled.connect(lambda *_a: self.set_pool(self.pool, self.pool_known))
        self.follow_name(self.vm_name)

    def directory(self) -> str:
        return os.path.normpath(self.folder.text().strip() or DEFAULT_IMAGE_DIR)

    def follow_name(self, vm: str) -> None:
        self.vm_name = vm
        self.image.setText(os.path.join(self.directory(), f"{vm or '…'}.qcow2"))

    def show_virtio(self, windows: bool) -> None:
        for widget in (self.virtio_label, self.virtio_row, self.virtio_note):
            widget.setVisible(windows)

    def set_pool(self, pool: str | None, known: bool = True) -> None:
        self.pool, self.pool_known = pool, known
        self.follow_name(self.vm_name)
        missing = self.missing_pool
        if not self.new.isChecked():
            self.pool_note.setText("")
        elif not known:
            self.pool_note.setText("Looking for the storage pool of this folder…")
        elif pool is not None:
            self.pool_note.setText(f"The image goes into the storage pool “{pool}”.")
        else:
            self.pool_note.setText(
                f"No libvirt storage pool holds {self.directory()} yet (a fresh libvirt has none): let VFIO "
                "Deck create one, pick another folder, or use an existing image."
            )
            self.create_pool.setText(f"Create the directory storage pool “default” for {self.directory()}")
        self.create_pool.setVisible(missing)
        self.completeChanged.emit()

    @property
    def missing_pool(self) -> bool:
        return self.new.isChecked() and self.pool_known and self.pool is None

    def choice(self) -> DiskChoice:
        if self.new.isChecked():
            return DiskChoice("new", self.directory(), self.disk_size.value())
        if self.existing.isChecked():
            return DiskChoice("existing", path=self.existing_path.text().strip() or None)
        return DiskChoice("none")

    def initializePage(self) -> None:  # noqa: N802
        if not self.pool_known:
            self.check_pool(self.directory())

    def isComplete(self) -> bool:  # noqa: N802
        if self.new.isChecked() and not self.pool_known:
            return False
        return not (self.missing_pool and not self.create_pool.isChecked())
