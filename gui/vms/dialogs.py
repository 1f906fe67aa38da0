"""The page's small dialogs: the diff confirmation, blockers, pre-flight results, a new connection.

Each dialog has a class (tests build it and look inside) and a module-level ``ask_*``/``show_*``
function the page calls (tests patch that function to answer without a modal loop).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtGui import QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vfiodeck.core.vm.preflight import PreflightIssue
from vfiodeck.gui.plain import plain_label

URI_EXAMPLES = (
    "qemu:///system",
    "qemu:///session",
    "qemu+ssh://user@host/system",
    "qemu+ssh://root@192.168.1.20/system?keyfile=/home/me/.ssh/id_ed25519",
)


def accept_buttons(dialog: QDialog, text: str, enabled: bool = True) -> tuple[QDialogButtonBox, QPushButton]:
    """Cancel and an accept button named ``text`` that Enter presses (Cancel never takes Enter)."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    ok: QPushButton = buttons.addButton(text, QDialogButtonBox.ButtonRole.AcceptRole)
    ok.setEnabled(enabled)
    ok.setDefault(True)
    cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
    cancel.setAutoDefault(False)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons, ok


def _mono() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class DiffHighlighter(QSyntaxHighlighter):
    """Added lines green, removed lines red, hunk headers grey: a diff reads at a glance."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._formats: dict[str, QTextCharFormat] = {}
        for prefix, color, back in (
            ("+", "#1b5e20", "#e8f5e9"),
            ("-", "#b71c1c", "#ffebee"),
            ("@", "#555", ""),
        ):
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(color))
            if back:
                fmt.setBackground(QColor(back))
            self._formats[prefix] = fmt

    def highlightBlock(self, text: str) -> None:  # noqa: N802
        if text.startswith(("+++", "---")):
            return
        fmt = self._formats.get(text[:1])
        if fmt is not None:
            self.setFormat(0, len(text), fmt)


class DiffDialog(QDialog):
    def __init__(self, title: str, intro: str, diff: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        self.intro = plain_label(intro)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.text = QPlainTextEdit(diff)
        self.text.setReadOnly(True)
        self.text.setFont(_mono())
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._highlighter = DiffHighlighter(self.text.document())
        layout.addWidget(self.text)
        buttons, self.apply_button = accept_buttons(self, "Apply")
        layout.addWidget(buttons)
        self.resize(760, 520)


def confirm_diff(parent: QWidget | None, title: str, intro: str, diff: str) -> bool:
    return DiffDialog(title, intro, diff, parent).exec() == QDialog.DialogCode.Accepted


class BlockersDialog(QDialog):
    """Refuses a group with blockers; "Assign all" only works once "take them too" is ticked."""

    def __init__(self, vm: str, reason: str, blockers: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("The IOMMU group is shared")
        layout = QVBoxLayout(self)
        text = QLabel(
            f"<p>{escape(reason)}</p><ul>{''.join(f'<li>{escape(b)}</li>' for b in blockers)}</ul>"
            "<p>The host loses these devices while the VM runs (a USB or SATA controller may hold your "
            "keyboard or disks).</p>"
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        self.take = QCheckBox(f"Take them too: pass every device listed above to {vm}")
        layout.addWidget(self.take)
        buttons, self.assign_all = accept_buttons(self, "Assign all", enabled=False)
        self.take.toggled.connect(self.assign_all.setEnabled)
        layout.addWidget(buttons)


def ask_take_blockers(parent: QWidget | None, vm: str, reason: str, blockers: Sequence[str]) -> bool:
    dialog = BlockersDialog(vm, reason, blockers, parent)
    return dialog.exec() == QDialog.DialogCode.Accepted and dialog.take.isChecked()


def preflight_html(vm: str, issues: Sequence[PreflightIssue]) -> str:
    items = "".join(f"<li><b>{escape(i.title)}</b><br>Fix: {escape(i.fix)}</li>" for i in issues)
    found = f"the pre-flight check found {len(issues)} problem(s)"
    return f"<p>“{escape(vm)}” was not started: {found}.</p><ol>{items}</ol>"


class PreflightDialog(QDialog):
    def __init__(self, vm: str, issues: Sequence[PreflightIssue], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{vm} cannot start yet")
        layout = QVBoxLayout(self)
        self.text = QLabel(preflight_html(vm, issues))
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.resize(620, 300)


def show_preflight(parent: QWidget | None, vm: str, issues: Sequence[PreflightIssue]) -> None:
    PreflightDialog(vm, issues, parent).exec()


class ConnectionDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add connection")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("libvirt URI:"))
        self.uri = QLineEdit()
        self.uri.setPlaceholderText("qemu+ssh://user@host/system")
        layout.addWidget(self.uri)
        examples = QLabel(
            "Examples:<br>"
            + "<br>".join(f"<code>{e}</code>" for e in URI_EXAMPLES)
            + "<br>Remote hosts need "
            "ssh login without a password prompt (an ssh key or agent)."
        )
        examples.setWordWrap(True)
        layout.addWidget(examples)
        buttons, self.ok = accept_buttons(self, "Connect", enabled=False)
        self.uri.textChanged.connect(lambda text: self.ok.setEnabled(":/" in text))
        layout.addWidget(buttons)


def ask_connection_uri(parent: QWidget | None) -> str | None:
    dialog = ConnectionDialog(parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.uri.text().strip() or None


class ChoiceDialog(QDialog):
    def __init__(
        self, title: str, prompt: str, choices: Sequence[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(prompt))
        self.combo = QComboBox()
        self.combo.addItems(list(choices))
        layout.addWidget(self.combo)
        buttons, self.ok = accept_buttons(self, "OK")
        layout.addWidget(buttons)
        self.combo.setFocus()


def ask_choice(parent: QWidget | None, title: str, prompt: str, choices: Sequence[str]) -> int | None:
    """The index of the chosen entry, None when cancelled or nothing to choose."""
    if not choices:
        return None
    dialog = ChoiceDialog(title, prompt, choices, parent)
    return dialog.combo.currentIndex() if dialog.exec() == QDialog.DialogCode.Accepted else None


class RefusedDialog(DiffDialog):
    """A change refused because the definition moved on: the diff says what changed, nothing to apply."""

    def __init__(self, title: str, intro: str, diff: str, parent: QWidget | None = None) -> None:
        super().__init__(title, intro, diff, parent)
        self.apply_button.hide()


def show_refused(parent: QWidget | None, title: str, intro: str, diff: str) -> None:
    RefusedDialog(title, intro, diff, parent).exec()
