"""File → Credentials…: enter or import API keys per venue and environment, test them, save them to the
OS keyring, delete them.

Keyring calls run in a worker thread (they can block on D-Bus or an unlock prompt) and the connection
test is an asyncio task on the qasync loop, so the window never freezes. A stored secret is never shown:
the dialog says whether one is saved and shows the key id. A private key, once parsed, is held in memory
and taken out of the text box, so it is on screen only while it is being pasted. With no secure keyring
the user may keep credentials for this session only; nothing is ever written to a file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.instruments import Venue
from app.ui import theme
from app.user.connection_check import CheckResult, check_kalshi, check_kraken
from app.user.credentials import (
    TARGETS,
    CredentialInputError,
    Target,
    default_rest_urls,
    delete_pair,
    find_target,
    kalshi_key_kind,
    kraken_pair,
    read_pair,
    read_pem_file,
    shown_ident,
    stored_pem,
    write_pair,
)
from app.user.secret_store import BackendInfo, KeyringUnavailable, SecretStore, backend_info

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Saved:
    """What the keyring holds for one target; read in a worker thread. Never the secret itself."""

    backend: BackendInfo
    ident: str | None = None
    has_secret: bool = False
    session_only: bool = False
    error: str | None = None


class _InputError(ValueError):
    pass


class CredentialsDialog(QDialog):
    """``saved(venue, env)`` follows every save or delete, so the window can reconnect that venue."""

    saved = Signal(str, str)

    def __init__(
        self,
        secrets: SecretStore,
        parent: QWidget | None = None,
        *,
        rest_urls: dict[tuple[str, str], str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.secrets = secrets
        self.rest_urls = {**default_rest_urls(), **(rest_urls or {})}
        self._tasks: set[asyncio.Task[None]] = set()
        self._test_task: asyncio.Task[None] | None = None
        self._operation = False  # a test, save or delete is running: the controls are locked
        self._backend: BackendInfo | None = None  # unknown until the first keyring read returns
        self._saved_state: _Saved | None = None
        self._pem: str | None = None  # the parsed private key, held out of sight
        self.setWindowTitle("Credentials")
        pal = self.palette()  # the theme leaves disabled buttons looking enabled; dim them here
        for role in (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Text, QPalette.ColorRole.WindowText):
            pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.current().dim_text))
        self.setPalette(pal)
        self.setMinimumWidth(560)
        self._build()
        self.target_box.currentIndexChanged.connect(self._target_changed)
        self._target_changed()

    # ------------------------------------------------------------------ public

    def select(self, venue: str, env: str) -> None:
        """Show the credentials of ``venue``/``env`` (e.g. the one the window failed to connect)."""
        self.target_box.setCurrentIndex(TARGETS.index(find_target(venue, env)))

    def target(self) -> Target:
        return TARGETS[self.target_box.currentIndex()]

    @property
    def busy(self) -> bool:
        """Some keyring call or connection test is still running."""
        return bool(self._tasks)

    def import_pem_file(self, path: str) -> None:
        """Read a private key file into the dialog (its content only: the path is not kept).

        A file that is not a usable key is not shown either: it may still be key material."""
        try:
            text = read_pem_file(path)
        except CredentialInputError as exc:
            self._show(False, str(exc))
            return
        name = Path(path).name
        if self._hold_pem(text):
            self._clear_pem_text()
            self._show(True, f"Read the private key from {name}. Save to keep it.")
        else:
            self._show(False, f"{name}: {self.key_type_label.text()}")

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self._row_labels: list[QLabel] = []
        self.target_box = QComboBox()
        for t in TARGETS:
            self.target_box.addItem(t.label)
        self.saved_label = QLabel()
        self.saved_label.setWordWrap(True)
        self.keyring_label = QLabel()
        self.keyring_label.setWordWrap(True)
        self.keyring_label.hide()

        top = QFormLayout()
        top.addRow(self._row_label("Venue:"), self.target_box)
        top.addRow(self._row_label("Stored:"), self.saved_label)

        # Kalshi: key id + private key (PEM).
        self.key_id_edit = QLineEdit()
        self.key_id_edit.setPlaceholderText("e.g. a952bcbe-ec3b-4b5b-b8f9-11dae589608c")
        self.pem_edit = QPlainTextEdit()
        self.pem_edit.setPlaceholderText(_PEM_PROMPT)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        fixed.setStyleHint(QFont.StyleHint.Monospace)
        self.pem_edit.setFont(fixed)
        self.pem_edit.setFixedHeight(self.pem_edit.fontMetrics().lineSpacing() * 4 + 12)
        self.pem_edit.setTabChangesFocus(True)
        self._pem_timer = QTimer(self)
        self._pem_timer.setSingleShot(True)
        self._pem_timer.setInterval(250)  # parse once a paste has landed, not on every keystroke
        self._pem_timer.timeout.connect(self._take_pem)
        self.pem_edit.textChanged.connect(self._pem_timer.start)
        self.import_button = QPushButton("Import PEM file…")
        self.import_button.clicked.connect(self._choose_pem_file)
        self.key_type_label = QLabel()
        self.key_type_label.setWordWrap(True)
        pem_row = QHBoxLayout()
        pem_row.addWidget(self.import_button)
        pem_row.addWidget(self.key_type_label, 1)
        kalshi = QWidget()
        kform = QFormLayout(kalshi)
        kform.setContentsMargins(0, 0, 0, 0)
        kform.addRow(self._row_label("API key id:"), self.key_id_edit)
        kform.addRow(self._row_label("Private key:"), self.pem_edit)
        kform.addRow(self._row_label(""), pem_row)

        # Kraken: API key + secret.
        self.api_key_edit = QLineEdit()
        self.api_key_edit.setPlaceholderText("API key")
        self.secret_edit = QLineEdit()
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_edit.setPlaceholderText("Private key (base64), as Kraken shows it once")
        kraken = QWidget()
        rform = QFormLayout(kraken)
        rform.setContentsMargins(0, 0, 0, 0)
        rform.addRow(self._row_label("API key:"), self.api_key_edit)
        rform.addRow(self._row_label("Secret:"), self.secret_edit)
        hint = QLabel(
            "The key needs the “WebSocket interface” permission. Kraken shows the secret only once, "
            "when the key is created."
        )
        hint.setWordWrap(True)
        hint.setStyleSheet(f"color: {theme.current().dim_text};")
        # Save stays off until the pair is one Kraken could accept; this line says what is wrong, as typed.
        self.kraken_check_label = QLabel()
        self.kraken_check_label.setObjectName("krakenCheck")
        self.kraken_check_label.setWordWrap(True)
        rform.addRow(self._row_label(""), self.kraken_check_label)
        rform.addRow(self._row_label(""), hint)
        for edit in (self.api_key_edit, self.secret_edit):
            edit.textChanged.connect(self._update_buttons)

        self.pages = QStackedWidget()
        self.pages.addWidget(kalshi)
        self.pages.addWidget(kraken)

        self.session_only_box = QCheckBox("Keep for this session only (not saved)")
        self.session_only_box.hide()
        self.session_only_box.toggled.connect(self._update_buttons)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # indeterminate: "working"
        self.progress.setFixedWidth(72)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        status_row = QHBoxLayout()
        status_row.addWidget(self.progress)
        status_row.addWidget(self.status_label, 1)

        self.test_button = QPushButton("Test connection")
        self.delete_button = QPushButton("Delete saved")
        self.save_button = QPushButton("Save")
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        for b in (self.test_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        for b in (self.save_button, self.close_button):
            buttons.addWidget(b)
        for b in (self.test_button, self.delete_button, self.save_button, self.close_button):
            b.setAutoDefault(False)  # Enter in a field must not save or delete anything
        self.test_button.clicked.connect(self._on_test)
        self.delete_button.clicked.connect(self._on_delete)
        self.save_button.clicked.connect(self._on_save)
        self.close_button.clicked.connect(self.close)

        # Three forms, one label column: the fields line up whichever venue is shown.
        width = max(label.sizeHint().width() for label in self._row_labels)
        for label in self._row_labels:
            label.setFixedWidth(width)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.keyring_label)
        layout.addSpacing(4)
        layout.addWidget(self.pages)
        layout.addWidget(self.session_only_box)
        layout.addLayout(status_row)
        layout.addSpacing(6)
        layout.addLayout(buttons)

    def _row_label(self, text: str) -> QLabel:
        label = QLabel(text)
        self._row_labels.append(label)
        return label

    # ------------------------------------------------------------------ state

    def _target_changed(self) -> None:
        t = self.target()
        self.pages.setCurrentIndex(0 if t.venue is Venue.KALSHI else 1)
        self._clear_inputs()
        self._show(None, "")
        self._saved_state = None
        self.saved_label.setText("checking the keyring…")
        self._update_buttons()
        self._spawn(self._refresh(t))

    async def _refresh(self, t: Target) -> None:
        state = await asyncio.get_event_loop().run_in_executor(None, self._read_saved, t)
        if t != self.target():
            return  # the user moved on; a newer refresh is on its way
        self._backend = state.backend
        self._saved_state = state
        self._show_backend(state.backend)
        self.saved_label.setText(_describe_saved(t, state))
        self._update_buttons()

    def _read_saved(self, t: Target) -> _Saved:
        # Worker thread: keyring only, no Qt.
        info = backend_info()
        ident_name, secret_name_ = t.names
        try:
            ident = self.secrets.get(ident_name)
            has_secret = self.secrets.get(secret_name_) is not None
        except KeyringUnavailable as exc:
            return _Saved(info, error=str(exc))
        session = self.secrets.is_session_only(ident_name) or self.secrets.is_session_only(secret_name_)
        return _Saved(info, ident, has_secret, session)

    def _show_backend(self, info: BackendInfo) -> None:
        self.saved_label.setToolTip(f"keyring backend: {info.name}")
        if info.usable:
            self.keyring_label.hide()
            self.session_only_box.hide()
            self.session_only_box.setChecked(False)
            return
        self.keyring_label.setText(
            f"<b>No OS keyring available:</b> {_html(info.reason)}. Credentials can be kept for this "
            "session only (in memory); nothing is written to disk."
        )
        self.keyring_label.setStyleSheet(f"color: {theme.current().warn};")
        self.keyring_label.show()
        self.session_only_box.show()

    def _update_buttons(self) -> None:
        idle = not self._operation
        backend = self._backend
        known = backend is not None
        can_store = backend is not None and (backend.usable or self.session_only_box.isChecked())
        state = self._saved_state
        has_saved = state is not None and (state.ident is not None or state.has_secret)
        problem = self.kraken_problem()
        self.target_box.setEnabled(idle)
        self.import_button.setEnabled(idle)
        self.test_button.setEnabled(idle)
        self.save_button.setEnabled(idle and can_store and problem is None)
        self.save_button.setToolTip(
            problem
            or (
                ""
                if can_store or not known
                else "No OS keyring: tick “Keep for this session only” to use these credentials until "
                "you quit"
            )
        )
        self.delete_button.setEnabled(idle and has_saved)
        typed = bool(self.api_key_edit.text().strip() or self.secret_edit.text().strip())
        shown = problem if typed and problem is not None else ""
        self._set_label(self.kraken_check_label, False, shown)

    def kraken_problem(self) -> str | None:
        """Why the Kraken fields cannot be saved (None when they can, or when Kalshi is shown)."""
        if self.target().venue is not Venue.KRAKEN:
            return None
        try:
            kraken_pair(self.api_key_edit.text(), self.secret_edit.text())
        except CredentialInputError as exc:
            return str(exc)
        return None

    def _clear_inputs(self) -> None:
        self._pem_timer.stop()
        self._pem = None
        for edit in (self.key_id_edit, self.api_key_edit, self.secret_edit):
            edit.clear()
        self._clear_pem_text()
        self.pem_edit.setPlaceholderText(_PEM_PROMPT)
        self.key_type_label.clear()

    def _clear_pem_text(self) -> None:
        self.pem_edit.blockSignals(True)
        self.pem_edit.clear()
        self.pem_edit.setUndoRedoEnabled(False)  # drops the undo history, which held the pasted key
        self.pem_edit.setUndoRedoEnabled(True)
        self.pem_edit.blockSignals(False)

    def _take_pem(self) -> bool:
        """Parse the text box; a good key moves into memory and out of sight. True when one is held."""
        self._pem_timer.stop()
        text = self.pem_edit.toPlainText()
        if not text.strip():
            return self._pem is not None
        if not self._hold_pem(text):
            return False
        self._clear_pem_text()
        return True

    def _hold_pem(self, text: str) -> bool:
        try:
            kind = kalshi_key_kind(text)
        except CredentialInputError as exc:
            self._pem = None
            self._set_label(self.key_type_label, False, str(exc))
            return False
        self._pem = stored_pem(text)
        self.pem_edit.setPlaceholderText(f"{kind} loaded (hidden). Paste another to replace it.")
        self._set_label(self.key_type_label, True, kind)
        return True

    # ------------------------------------------------------------------ actions

    def _choose_pem_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import private key", "", "PEM files (*.pem *.key *.txt);;All files (*)"
        )
        if path:
            self.import_pem_file(path)

    def _inputs(self, t: Target) -> tuple[str, str] | None:
        """The typed (identifier, secret), checked; None when all is empty. Raises ``_InputError``."""
        if t.venue is Venue.KALSHI:
            ident = self.key_id_edit.text().strip()
            have_key = self._take_pem()
            if not ident and not have_key and not self.pem_edit.toPlainText().strip():
                return None
            if not ident:
                raise _InputError("Enter the API key id.")
            if self.pem_edit.toPlainText().strip():  # text that did not parse
                raise _InputError(self.key_type_label.text() or "bad key format")
            if self._pem is None:
                raise _InputError("Paste the private key or import its PEM file.")
            return ident, self._pem
        ident, secret = self.api_key_edit.text(), self.secret_edit.text()
        if not ident.strip() and not secret.strip():
            return None
        try:
            return kraken_pair(ident, secret)
        except CredentialInputError as exc:
            raise _InputError(str(exc)) from None

    def _on_save(self) -> None:
        t = self.target()
        try:
            values = self._inputs(t)
        except _InputError as exc:
            self._show(False, str(exc))
            return
        if values is None:
            self._show(False, "Nothing to save: fill in both fields first.")
            return
        session_only = self._backend is not None and not self._backend.usable
        self._spawn(self._save(t, values, session_only), operation="Saving…")

    async def _save(self, t: Target, values: tuple[str, str], session_only: bool) -> None:
        def write() -> tuple[str | None, bool]:
            return write_pair(self.secrets, t, values, session_only=session_only)

        error, changed = await asyncio.get_event_loop().run_in_executor(None, write)
        if error is None:
            self._clear_inputs()
            where = "for this session only (not written anywhere)" if session_only else "in the OS keyring"
            self._show(True, f"Saved {where}.")
        elif changed:
            self._show(False, f"Not saved, and the earlier credentials were removed: {error}")
        else:
            self._show(False, f"Not saved: {error}")
        await self._refresh(t)
        if changed:
            self.saved.emit(t.venue, t.env)

    def _on_delete(self) -> None:
        self._spawn(self._delete(self.target()), operation="Deleting…")

    async def _delete(self, t: Target) -> None:
        def remove() -> str | None:
            try:
                delete_pair(self.secrets, t)
            except KeyringUnavailable as exc:
                return str(exc)
            return None

        error = await asyncio.get_event_loop().run_in_executor(None, remove)
        self._show(error is None, "Deleted." if error is None else f"Not deleted: {error}")
        await self._refresh(t)
        self.saved.emit(t.venue, t.env)

    def _on_test(self) -> None:
        t = self.target()
        try:
            values = self._inputs(t)
        except _InputError as exc:
            self._show(False, str(exc))
            return
        self._test_task = self._spawn(self._test(t, values), operation="Testing the connection…")

    async def _test(self, t: Target, values: tuple[str, str] | None) -> None:
        url = self.rest_urls[(t.venue, t.env)]
        if values is None:  # nothing typed: test what is saved
            values = await asyncio.get_event_loop().run_in_executor(None, self._read_values, t)
            if values is None:
                self._show(False, "Nothing to test: enter credentials (or save some) first.")
                return
        self._show(None, f"Testing the connection to {_host(url)}…")
        check = check_kalshi if t.venue is Venue.KALSHI else check_kraken
        result: CheckResult = await check(url, *values)
        self._show(result.ok, result.message[:1].upper() + result.message[1:])

    def _read_values(self, t: Target) -> tuple[str, str] | None:
        try:
            ident, secret = read_pair(self.secrets, t)
        except KeyringUnavailable:
            return None
        return (ident, secret) if ident and secret else None

    # ------------------------------------------------------------------ plumbing

    def _spawn(self, coro: Coroutine[Any, Any, None], *, operation: str | None = None) -> asyncio.Task[None]:
        if operation is not None:
            self._operation = True
            self.progress.show()
            self._show(None, operation)
            self._update_buttons()
        task = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._finished(t, operation is not None))
        return task

    def _finished(self, task: asyncio.Task[None], operation: bool) -> None:
        self._tasks.discard(task)
        if operation:
            self._operation = False
            self.progress.hide()
            self._update_buttons()
        if task.cancelled():
            if operation:
                self._show(None, "")  # no stale "Testing…" when the dialog is opened again
            return
        exc = task.exception()
        if exc is not None:
            # The class name only: the text of an unexpected error is not known to be free of secrets.
            log.error("credentials dialog: %s", type(exc).__name__)
            self._show(False, f"Something went wrong ({type(exc).__name__}).")

    def _show(self, ok: bool | None, text: str) -> None:
        self._set_label(self.status_label, ok, text)

    @staticmethod
    def _set_label(label: QLabel, ok: bool | None, text: str) -> None:
        th = theme.current()
        color = th.dim_text if ok is None else th.bid if ok else th.ask
        label.setStyleSheet(f"color: {color};")
        label.setText(text)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        # A running test is abandoned; a save or delete finishes in its thread and still emits ``saved``.
        if self._test_task is not None:
            self._test_task.cancel()
        super().closeEvent(event)

    def reject(self) -> None:  # Escape
        if self._test_task is not None:
            self._test_task.cancel()
        super().reject()


_PEM_PROMPT = "Paste the private key (PEM) here, or import its file"


def _describe_saved(t: Target, state: _Saved) -> str:
    if state.error is not None:
        return f"cannot read the keyring: {state.error}"
    ident_label, secret_label = t.ident_label, t.secret_label
    if state.ident is None and not state.has_secret:
        return "not set"
    if state.ident is None:
        return f"incomplete: a {secret_label} but no {ident_label} (save both again, or delete)"
    shown = shown_ident(t, state.ident)
    if not state.has_secret:
        return f"incomplete: {ident_label} {shown} but no {secret_label} (save both again, or delete)"
    where = "session only (not saved)" if state.session_only else "saved in the OS keyring"
    return f"{where} — {ident_label} {shown}"


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
