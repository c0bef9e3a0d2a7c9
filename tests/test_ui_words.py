"""Issue 19 item 5 in the real window: a venue that cannot be reached is said in words on its rows, with a
countdown that stays true, the technical text in the tooltip, and every link's state and newest network
error in Help → About's details."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.instruments import Venue
from app.ui.watchlist_model import C_STATUS
from app.ui.window import MainWindow
from app.user import settings as settings_mod
from app.user.secret_store import SecretStore
from app.user.settings import MarketRef
from tests.qtsupport import pump_until, run_on


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_venue_is_said_in_words_with_the_detail_a_hover_away(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    port = _closed_port()
    dead = f"127.0.0.1:{port}"
    urls = {
        "kalshi_ws": f"ws://{dead}/trade-api/ws/v2",
        "kalshi_rest": f"http://{dead}/trade-api/v2",
        "kraken_ws": f"ws://{dead}/v2",
        "kraken_rest": f"http://{dead}/0/public",
    }
    settings = settings_mod.load(tmp_path)
    settings.watchlist().add(MarketRef(Venue.KRAKEN, "BTC/USD"))
    win = MainWindow(settings, SecretStore(), config_dir=tmp_path, sim_urls=urls)
    qtbot.addWidget(win)
    win.show()
    win.start()
    try:
        model = win.watch_model

        def status() -> str:
            return str(model.data(model.index(0, C_STATUS), Qt.ItemDataRole.DisplayRole) or "")

        pump_until(lambda: "retrying in" in status(), timeout=20)
        words = status()
        # A sentence, not a class name; the countdown in whole seconds, as the status bar counts.
        assert re.fullmatch(
            r"127\.0\.0\.1 refused the connection \(nothing listening on port \d+\) — retrying in \d+ s",
            words,
        ), words
        assert "ClientConnector" not in words
        tip = str(model.data(model.index(0, C_STATUS), Qt.ItemDataRole.ToolTipRole))
        assert tip.startswith(words) and "Detail: ClientConnectorError: 127.0.0.1:" in tip
        facts = "\n".join(win._connection_facts())
        assert f"kraken ws://{dead}/v2: backing-off" in facts
        assert "last network error: ClientConnectorError" in facts
    finally:
        run_on(qloop, win.shutdown())
