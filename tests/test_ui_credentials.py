"""The credentials dialog (offscreen Qt on a qasync loop): save, delete, import, input checks, the
connection test against the real simulator, the no-keyring offer, and the real Secret Service.

Every test also checks that no secret text is on screen: not in a label, a field, a tooltip or a
placeholder, after the key was parsed or saved.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLabel, QLineEdit, QPlainTextEdit, QWidget
from pytestqt.qtbot import QtBot

from app.sim.server import SimOptions, Simulator
from app.ui import theme
from app.ui.credentials_dialog import CredentialsDialog
from app.user.secret_store import SERVICE, SecretStore, secret_name
from tests.fake_keyring import (  # noqa: F401 (fixtures)
    MemoryKeyring,
    fail_keyring_fixture,
    memory_keyring_fixture,
    real_keyring_fixture,
)
from tests.qtsupport import run_on

KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"
KRAKEN_KEY = "kraken-api-key-0123456789"
KRAKEN_SECRET = base64.b64encode(bytes(range(64))).decode()
WAIT_MS = 10_000
MakeDialog = Callable[..., CredentialsDialog]

ED_KEY = ed25519.Ed25519PrivateKey.generate()
ED_PEM = ED_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
PUBLIC_PEM = ED_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def _ec_pem() -> str:
    from cryptography.hazmat.primitives.asymmetric import ec

    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )


def _secret_parts(secret: str) -> list[str]:
    return [secret.strip()] + [p for p in secret.split() if len(p) >= 16 and "-----" not in p]


def on_screen(dlg: QWidget) -> str:
    """Every text the dialog shows or would show (labels, fields, tooltips, placeholders)."""
    texts: list[str] = []
    for w in [dlg, *dlg.findChildren(QWidget)]:
        texts.append(w.toolTip())
        if isinstance(w, QLabel):
            texts.append(w.text())
        elif isinstance(w, QLineEdit):
            texts += [w.text(), w.displayText(), w.placeholderText()]
        elif isinstance(w, QPlainTextEdit):
            texts += [w.toPlainText(), w.placeholderText()]
    return "\n".join(texts)


def assert_hidden(dlg: QWidget, *secrets: str) -> None:
    shown = on_screen(dlg)
    for secret in secrets:
        for part in _secret_parts(secret):
            assert part not in shown


def idle(qtbot: QtBot, dlg: CredentialsDialog) -> None:
    qtbot.waitUntil(lambda: not dlg.busy, timeout=WAIT_MS)


@pytest.fixture
def make_dialog(qtbot: QtBot, qloop: asyncio.AbstractEventLoop) -> Iterator[MakeDialog]:
    made: list[CredentialsDialog] = []

    def make(secrets: SecretStore, **kwargs: Any) -> CredentialsDialog:
        dlg = CredentialsDialog(secrets, **kwargs)
        qtbot.addWidget(dlg)
        made.append(dlg)
        idle(qtbot, dlg)
        return dlg

    yield make
    for dlg in made:
        idle(qtbot, dlg)  # no keyring thread may outlive the fixtures that swapped the backend


def fill_kalshi(qtbot: QtBot, dlg: CredentialsDialog, key_id: str, pem: str) -> None:
    dlg.key_id_edit.setText(key_id)
    dlg.pem_edit.setPlainText(pem)  # as a paste does; parsed after a short pause
    qtbot.waitUntil(lambda: dlg.key_type_label.text() != "", timeout=WAIT_MS)


def test_save_and_delete_kalshi(qtbot: QtBot, make_dialog: MakeDialog, memory_keyring: MemoryKeyring) -> None:
    dlg = make_dialog(SecretStore())
    assert dlg.target().label == "Kalshi — production"
    assert dlg.saved_label.text() == "not set"
    assert not dlg.delete_button.isEnabled()
    assert dlg.keyring_label.isHidden() and dlg.session_only_box.isHidden()

    fill_kalshi(qtbot, dlg, f"  {KEY_ID} ", ED_PEM)
    assert dlg.key_type_label.text() == "Ed25519 key"
    assert dlg.pem_edit.toPlainText() == ""  # parsed and taken out of sight
    assert dlg.pem_edit.placeholderText() == "Ed25519 key loaded (hidden). Paste another to replace it."
    assert_hidden(dlg, ED_PEM)

    with qtbot.waitSignal(dlg.saved, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert signal.args == ["kalshi", "production"]
    assert memory_keyring.store == {
        (SERVICE, "kalshi/production/key_id"): KEY_ID,
        (SERVICE, "kalshi/production/private_key"): ED_PEM,
    }
    idle(qtbot, dlg)
    assert dlg.saved_label.text() == f"saved in the OS keyring — key id {KEY_ID}"
    assert dlg.status_label.text() == "Saved in the OS keyring."
    assert dlg.key_id_edit.text() == "" and dlg.key_type_label.text() == ""
    assert dlg.delete_button.isEnabled()
    assert_hidden(dlg, ED_PEM)

    # Reopened later: the key id is shown, the key is not.
    again = make_dialog(SecretStore())
    assert again.saved_label.text() == f"saved in the OS keyring — key id {KEY_ID}"
    assert_hidden(again, ED_PEM)

    with qtbot.waitSignal(dlg.saved, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(dlg.delete_button, Qt.MouseButton.LeftButton)
    assert signal.args == ["kalshi", "production"]
    idle(qtbot, dlg)
    assert memory_keyring.store == {}
    assert dlg.saved_label.text() == "not set"
    assert dlg.status_label.text() == "Deleted."
    assert not dlg.delete_button.isEnabled()


def test_save_kraken_masks_the_key_and_hides_the_secret(
    qtbot: QtBot, make_dialog: MakeDialog, memory_keyring: MemoryKeyring
) -> None:
    dlg = make_dialog(SecretStore())
    dlg.select("kraken", "beta")
    idle(qtbot, dlg)
    assert dlg.pages.currentIndex() == 1
    assert dlg.secret_edit.echoMode() == QLineEdit.EchoMode.Password
    dlg.api_key_edit.setText(KRAKEN_KEY)
    dlg.secret_edit.setText(KRAKEN_SECRET)
    assert KRAKEN_SECRET not in dlg.secret_edit.displayText()
    with qtbot.waitSignal(dlg.saved, timeout=WAIT_MS) as signal:
        dlg.save_button.click()
    assert signal.args == ["kraken", "beta"]
    idle(qtbot, dlg)
    assert memory_keyring.store == {
        (SERVICE, "kraken/beta/api_key"): KRAKEN_KEY,
        (SERVICE, "kraken/beta/secret"): KRAKEN_SECRET,
    }
    assert dlg.saved_label.text() == "saved in the OS keyring — API key kraken…"
    assert_hidden(dlg, KRAKEN_SECRET, KRAKEN_KEY)
    dlg.select("kraken", "live")  # another environment has its own set
    idle(qtbot, dlg)
    assert dlg.saved_label.text() == "not set"
    with pytest.raises(ValueError, match="no credentials for kraken/sim"):
        dlg.select("kraken", "sim")


def test_import_pem_file(
    qtbot: QtBot,
    make_dialog: MakeDialog,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "kalshi-key.pem"
    path.write_text(pem)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    dlg = make_dialog(SecretStore())
    qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    assert dlg.key_type_label.text() == "RSA-2048 key"
    assert dlg.status_label.text() == "Read the private key from kalshi-key.pem. Save to keep it."
    assert str(tmp_path) not in on_screen(dlg)  # the content only, not where it came from
    assert_hidden(dlg, pem)
    dlg.key_id_edit.setText(KEY_ID)
    with qtbot.waitSignal(dlg.saved, timeout=WAIT_MS):
        dlg.save_button.click()
    assert memory_keyring.store[(SERVICE, "kalshi/production/private_key")] == pem
    assert str(tmp_path) not in repr(memory_keyring.store)

    junk = tmp_path / "photo.jpg"
    junk.write_bytes(b"\xff\xd8\xff\xe0 not text")
    dlg.import_pem_file(str(junk))
    assert dlg.status_label.text() == "bad key format: photo.jpg is not a PEM text file"
    dlg.import_pem_file(str(tmp_path / "missing.pem"))
    assert dlg.status_label.text() == "cannot read missing.pem: No such file or directory"
    ec_pem = _ec_pem()
    (tmp_path / "ec.pem").write_text(ec_pem)
    dlg.import_pem_file(str(tmp_path / "ec.pem"))
    assert dlg.status_label.text().startswith("ec.pem: bad key format: unsupported key type")
    assert dlg.status_label.text().endswith("; Kalshi uses RSA or Ed25519")
    assert_hidden(dlg, ec_pem)  # not a usable key, but key material all the same: not shown


def test_input_is_checked_before_anything_is_stored(
    qtbot: QtBot, make_dialog: MakeDialog, memory_keyring: MemoryKeyring
) -> None:
    dlg = make_dialog(SecretStore())
    dlg.save_button.click()
    assert dlg.status_label.text() == "Nothing to save: fill in both fields first."

    fill_kalshi(qtbot, dlg, KEY_ID, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    assert dlg.key_type_label.text().startswith("bad key format: not a PEM private key")
    dlg.save_button.click()
    assert dlg.status_label.text().startswith("bad key format: not a PEM private key")

    dlg.pem_edit.setPlainText(ED_PEM)
    dlg.key_id_edit.setText("")
    dlg.save_button.click()  # parses the pasted key at once, without waiting for the pause
    assert dlg.status_label.text() == "Enter the API key id."
    assert dlg.key_type_label.text() == "Ed25519 key"

    assert memory_keyring.store == {}


def test_kraken_save_is_enabled_only_for_a_valid_pair(
    qtbot: QtBot, make_dialog: MakeDialog, memory_keyring: MemoryKeyring
) -> None:
    """Save waits for a pair Kraken could accept; the line under the fields says what is wrong as it is
    typed (the same checks as ``credentials set``), and nothing reaches the keyring before."""
    dlg = make_dialog(SecretStore())
    dlg.select("kraken", "live")
    idle(qtbot, dlg)
    assert not dlg.save_button.isEnabled() and dlg.kraken_check_label.text() == ""  # nothing typed
    dlg.api_key_edit.setText(KRAKEN_KEY)
    assert not dlg.save_button.isEnabled()
    assert dlg.kraken_check_label.text() == dlg.save_button.toolTip() == "Enter the API secret."
    dlg.secret_edit.setText("not base64!")
    assert not dlg.save_button.isEnabled()
    assert dlg.kraken_check_label.text() == (
        "bad key format: the API secret is not valid base64 (copy it again from Kraken)"
    )
    dlg.secret_edit.setText(KRAKEN_SECRET[:40])  # a truncated paste decodes, but could never sign
    assert not dlg.save_button.isEnabled() and "bytes once decoded" in dlg.kraken_check_label.text()
    dlg.secret_edit.setText(KRAKEN_SECRET)
    assert dlg.save_button.isEnabled() and dlg.kraken_check_label.text() == ""
    dlg.api_key_edit.setText("   ")
    assert not dlg.save_button.isEnabled() and dlg.kraken_check_label.text() == "Enter the API key."
    assert memory_keyring.store == {}
    dlg.api_key_edit.setText(KRAKEN_KEY)
    with qtbot.waitSignal(dlg.saved, timeout=WAIT_MS):
        dlg.save_button.click()
    idle(qtbot, dlg)
    assert memory_keyring.store[(SERVICE, "kraken/live/secret")] == KRAKEN_SECRET
    # Kalshi's page keeps its own checks on Save (its key is parsed when saved): not held back here.
    dlg.select("kalshi", "production")
    idle(qtbot, dlg)
    assert dlg.save_button.isEnabled()


@pytest.fixture
def sim(qloop: asyncio.AbstractEventLoop) -> Iterator[Simulator]:
    simulator = Simulator(
        SimOptions(
            rate=0, kalshi_public_key_pem=PUBLIC_PEM, kraken_key=KRAKEN_KEY, kraken_secret=KRAKEN_SECRET
        )
    )
    run_on(qloop, simulator.start())
    yield simulator
    run_on(qloop, simulator.stop())


def _sim_urls(sim: Simulator) -> dict[tuple[str, str], str]:
    return {("kalshi", "production"): sim.urls["kalshi_rest"], ("kraken", "live"): sim.urls["kraken_rest"]}


def test_connection_test_against_the_simulator(
    qtbot: QtBot, make_dialog: MakeDialog, memory_keyring: MemoryKeyring, sim: Simulator
) -> None:
    dlg = make_dialog(SecretStore(), rest_urls=_sim_urls(sim))
    fill_kalshi(qtbot, dlg, KEY_ID, ED_PEM)
    dlg.test_button.click()
    assert dlg.busy and not dlg.progress.isHidden()  # working, and the window is not blocked
    assert not dlg.test_button.isEnabled() and not dlg.target_box.isEnabled()
    idle(qtbot, dlg)
    assert dlg.progress.isHidden() and dlg.test_button.isEnabled()
    assert dlg.status_label.text() == "Connected: signed request accepted"
    assert theme.current().bid in dlg.status_label.styleSheet()

    wrong = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    fill_kalshi(qtbot, dlg, KEY_ID, wrong)
    dlg.test_button.click()
    idle(qtbot, dlg)
    assert dlg.status_label.text() == (
        "Signature rejected (HTTP 401) — check the key id and that the key matches"
    )
    assert theme.current().ask in dlg.status_label.styleSheet()
    assert_hidden(dlg, wrong, ED_PEM)
    assert memory_keyring.store == {}  # testing saves nothing

    dlg.select("kraken", "live")
    idle(qtbot, dlg)
    dlg.api_key_edit.setText(KRAKEN_KEY)
    dlg.secret_edit.setText(base64.b64encode(bytes(64)).decode())
    dlg.test_button.click()
    idle(qtbot, dlg)
    assert dlg.status_label.text() == "Kraken refused: EAPI:Invalid signature"
    dlg.secret_edit.setText(KRAKEN_SECRET)
    dlg.test_button.click()
    idle(qtbot, dlg)
    assert dlg.status_label.text() == "Connected: signed request accepted"


def test_connection_test_uses_the_saved_credentials_when_the_fields_are_empty(
    qtbot: QtBot, make_dialog: MakeDialog, memory_keyring: MemoryKeyring, sim: Simulator
) -> None:
    store = SecretStore()
    dlg = make_dialog(store, rest_urls=_sim_urls(sim))
    dlg.test_button.click()
    idle(qtbot, dlg)
    assert dlg.status_label.text() == "Nothing to test: enter credentials (or save some) first."
    store.set(secret_name("kalshi", "production", "key_id"), KEY_ID)
    store.set(secret_name("kalshi", "production", "private_key"), ED_PEM)
    dlg.test_button.click()
    idle(qtbot, dlg)
    assert dlg.status_label.text() == "Connected: signed request accepted"
    assert_hidden(dlg, ED_PEM)


def test_closing_abandons_a_running_test(
    qtbot: QtBot, make_dialog: MakeDialog, memory_keyring: MemoryKeyring, qloop: asyncio.AbstractEventLoop
) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # accepts, never answers

    server = run_on(qloop, asyncio.start_server(silent, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    try:
        dlg = make_dialog(
            SecretStore(), rest_urls={("kalshi", "production"): f"http://127.0.0.1:{port}/trade-api/v2"}
        )
        dlg.show()
        fill_kalshi(qtbot, dlg, KEY_ID, ED_PEM)
        dlg.test_button.click()
        qtbot.waitUntil(lambda: bool(accepted), timeout=WAIT_MS)  # the request is out, waiting
        assert dlg.busy and not dlg.progress.isHidden()
        assert dlg.status_label.text() == "Testing the connection to 127.0.0.1…"
        dlg.close()
        idle(qtbot, dlg)  # cancelled at once, not after the 10 s timeout
        assert dlg.test_button.isEnabled() and dlg.progress.isHidden()
        assert dlg.status_label.text() == ""  # no result, and no stale "Testing…" when reopened
    finally:
        for writer in accepted:
            writer.close()
        server.close()


@pytest.mark.usefixtures("fail_keyring")
def test_no_keyring_offers_session_only(qtbot: QtBot, make_dialog: MakeDialog) -> None:
    store = SecretStore()
    saved: list[tuple[str, str]] = []
    dlg = make_dialog(store)
    dlg.saved.connect(lambda venue, env: saved.append((venue, env)))
    assert not dlg.keyring_label.isHidden()
    assert "No OS keyring available:" in dlg.keyring_label.text()
    assert "nothing is written to disk" in dlg.keyring_label.text()
    assert not dlg.session_only_box.isHidden()
    assert dlg.session_only_box.text() == "Keep for this session only (not saved)"
    assert not dlg.session_only_box.isChecked()
    assert not dlg.save_button.isEnabled()
    assert "Keep for this session only" in dlg.save_button.toolTip()

    fill_kalshi(qtbot, dlg, KEY_ID, ED_PEM)
    dlg.session_only_box.setChecked(True)
    assert dlg.save_button.isEnabled()
    with qtbot.waitSignal(dlg.saved, timeout=WAIT_MS):
        dlg.save_button.click()
    idle(qtbot, dlg)
    assert saved == [("kalshi", "production")]
    assert dlg.status_label.text() == "Saved for this session only (not written anywhere)."
    assert dlg.saved_label.text() == f"session only (not saved) — key id {KEY_ID}"
    assert store.get(secret_name("kalshi", "production", "private_key")) == ED_PEM
    assert store.is_session_only(secret_name("kalshi", "production", "private_key"))
    assert SecretStore().get(secret_name("kalshi", "production", "key_id")) is None
    assert_hidden(dlg, ED_PEM)

    with qtbot.waitSignal(dlg.saved, timeout=WAIT_MS):
        dlg.delete_button.click()
    idle(qtbot, dlg)
    assert store.get(secret_name("kalshi", "production", "key_id")) is None
    assert dlg.saved_label.text() == "not set"


def test_real_keyring_round_trip_through_the_dialog(
    qtbot: QtBot, make_dialog: MakeDialog, real_keyring: list[str]
) -> None:
    real_keyring += [secret_name("kraken", "beta", f) for f in ("api_key", "secret")]
    dlg = make_dialog(SecretStore())
    dlg.select("kraken", "beta")
    idle(qtbot, dlg)
    dlg.api_key_edit.setText(KRAKEN_KEY)
    dlg.secret_edit.setText(KRAKEN_SECRET)
    with qtbot.waitSignal(dlg.saved, timeout=WAIT_MS):
        dlg.save_button.click()
    idle(qtbot, dlg)
    assert keyring.get_password(SERVICE, "kraken/beta/secret") == KRAKEN_SECRET
    assert "SecretService" in dlg.saved_label.toolTip()
    assert dlg.saved_label.text() == "saved in the OS keyring — API key kraken…"
    assert_hidden(dlg, KRAKEN_SECRET)
    with qtbot.waitSignal(dlg.saved, timeout=WAIT_MS):
        dlg.delete_button.click()
    idle(qtbot, dlg)
    assert keyring.get_password(SERVICE, "kraken/beta/secret") is None
    assert dlg.saved_label.text() == "not set"
