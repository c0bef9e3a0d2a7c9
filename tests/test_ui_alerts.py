"""Alerts in the real window on the simulator: a rule made in the New alert dialog fires from the stream
into the Alerts log, the status bar counts it until acknowledged, a desktop notification reaches a real
notification service on a private D-Bus session bus (and the log alone serves when there is none), the
ladder's "Alert at this price" and the chart's prefill the dialog, Manage alerts edits the saved rules,
and the rules come back after a restart. Screenshots of the dialogs and the log go to /work/notes."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import wave
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMenu, QPushButton
from pytestqt.qtbot import QtBot

from app.alerts.grammar import parse
from app.core.instruments import Venue
from app.sim.server import SimOptions
from app.ui.alerts_dialogs import AlertDialog, ManageAlertsDialog
from app.ui.alerts_notify import Channel, Notifier, Sound
from app.ui.ladder import PRICE, RAW_ROLE
from app.ui.window import MainWindow
from app.user import settings as settings_mod
from app.user.secret_store import SecretStore
from tests.qtsupport import answer_next_dialog, pump_until, run_on

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("MARKET_MONITOR_SHOTS", "/work/notes/shots-alerts"))
Factory = Callable[[], MainWindow]


# ---------------------------------------------------------------------- a private bus and a service


@pytest.fixture
def private_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A session bus of the test's own; DBUS_SESSION_BUS_ADDRESS points at it for the app."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("no dbus-daemon (Debian: dbus)")
    proc = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield address
    proc.terminate()
    proc.wait(timeout=10)


class Service:
    """tests/notify_service.py on the private bus; what it received, line by line."""

    def __init__(self, address: str) -> None:
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.notify_service"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        assert json.loads(self.proc.stdout.readline()) == {"ready": True}
        self.received: list[dict[str, object]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.received.append(json.loads(line))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def service(private_bus: str) -> Iterator[Service]:
    s = Service(private_bus)
    yield s
    s.stop()


# ---------------------------------------------------------------------- windows


@pytest.fixture
def make_window(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Factory]:
    made: list[MainWindow] = []

    def make() -> MainWindow:
        win = MainWindow(
            settings_mod.load(tmp_path),
            SecretStore(),
            config_dir=tmp_path,
            sim_options=SimOptions(seed=1, rate=400),
        )
        qtbot.addWidget(win)
        win.resize(1366, 768)
        win.show()
        win.start()
        made.append(win)
        pump_until(lambda: win.catalog_ready.is_set() and win.has_market_data(), timeout=20)
        pump_until(lambda: win.alerts.notifier.channel is not None, timeout=10)
        return win

    yield make
    for win in made:
        run_on(qloop, win.shutdown())


def _type_rule(text: str | None, accept: bool = True, seen: list[str] | None = None) -> None:
    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, AlertDialog)
        if seen is not None:
            seen.append(dialog.edit.text())
        if text is not None:
            dialog.edit.setText(text)
        if accept:
            assert dialog.rule is not None, dialog.verdict.text()
            dialog.accept()
        else:
            dialog.reject()

    answer_next_dialog(fill)


def _shot(widget: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / name))  # type: ignore[attr-defined]


def test_a_rule_made_in_the_dialog_fires_into_the_log_and_a_desktop_notification(
    make_window: Factory, service: Service, tmp_path: Path
) -> None:
    win = make_window()
    alerts = win.alerts
    assert alerts.notifier.channel is Channel.DESKTOP and "test-notifyd" in alerts.notifier.description
    assert "desktop notifications" in alerts.panel.channel.text()
    _type_rule("kalshi fill cooldown 1s")
    win.actions_by_name["alert_new"].trigger()
    pump_until(lambda: alerts.log.row_count() >= 2, timeout=20)
    assert [r.text for r in win.settings.alerts] == ["kalshi fill cooldown 1s"]
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert [a["rule"] for a in saved["alerts"]] == ["kalshi fill cooldown 1s"]
    first = alerts.log.entries[-1].firing
    assert first.market.startswith("kalshi:") and first.trade_id and first.shown.startswith("fill: ")
    # The notification reached the service, with the exact signature a GLib daemon insists on.
    pump_until(lambda: len(service.received) >= 2, timeout=10)
    note = service.received[0]
    assert "refused" not in note and note["app"] == "Market Monitor"
    assert note["summary"] == f"{first.market}: {first.shown}" and note["body"] == "kalshi fill cooldown 1s"
    # Counted in the status bar until acknowledged.
    assert alerts.status.isVisible() and "new alert" in alerts.status.text()
    win.docks["alerts"].show()
    win.docks["alerts"].raise_()
    pump_until(lambda: alerts.log.row_count() >= 4, timeout=20)
    win.resize(1366, 768)
    QApplication.processEvents()
    _shot(win, "window-alerts-log-1366x768.png")
    win.resize(1024, 700)
    QApplication.processEvents()
    _shot(win, "window-alerts-log-1024x700.png")
    win.actions_by_name["alert_ack"].trigger()
    assert alerts.log.unacknowledged == 0 and not alerts.status.isVisible()
    assert alerts.log.cell(0, 1) == ""  # the Ack column


def test_without_a_notification_service_the_log_alone_serves(make_window: Factory, private_bus: str) -> None:
    win = make_window()
    notifier = win.alerts.notifier
    assert notifier.channel is Channel.LOG  # no service on the bus, and offscreen Qt has no tray
    assert "no desktop notification service" in (notifier.problem or "")
    assert "Error" not in (notifier.problem or ""), notifier.problem  # in words, not a class name
    assert "Alerts log only" in win.alerts.panel.channel.text()
    _type_rule("kalshi fill")
    win.actions_by_name["alert_new"].trigger()
    pump_until(lambda: win.alerts.log.row_count() >= 1, timeout=20)
    assert notifier.sent == 0


def test_a_service_that_goes_away_drops_to_the_log(
    qloop: asyncio.AbstractEventLoop, service: Service
) -> None:
    notifier = Notifier()
    assert run_on(qloop, notifier.start()) is Channel.DESKTOP
    notifier.notify("kalshi:X: bid 55c", "kalshi:X bid above 55c")
    pump_until(lambda: notifier.sent == 1, timeout=10)
    service.stop()
    notifier.notify("kalshi:X: bid 56c", "kalshi:X bid above 56c")
    pump_until(lambda: notifier.channel is Channel.LOG, timeout=10)
    assert "stopped answering" in (notifier.problem or "")
    run_on(qloop, notifier.close())


def test_alert_at_this_price_from_the_ladder_and_the_chart(make_window: Factory) -> None:
    win = make_window()
    ref = win.selected
    assert ref is not None
    model, table = win.ladder.model, win.ladder.table
    pump_until(lambda: model.data(model.index(model.bid_row(2), PRICE), RAW_ROLE) is not None, timeout=10)
    row = model.bid_row(2)
    price = model.data(model.index(row, PRICE), RAW_ROLE)
    assert isinstance(price, Decimal)
    seen: list[str] = []
    _type_rule(None, seen=seen)

    def pick_menu() -> None:
        menu = next(
            m
            for m in QApplication.topLevelWidgets()
            if isinstance(m, QMenu) and m.objectName() == "ladderMenu"
        )
        menu.actions()[0].trigger()

    rect = table.visualRect(model.index(row, PRICE))
    QTimer.singleShot(50, pick_menu)
    table.customContextMenuRequested.emit(rect.center())
    pump_until(lambda: len(win.settings.alerts) == 1, timeout=10)
    unit = "c" if ref.venue is Venue.KALSHI else ""
    shown = (
        format(price * 100, "f").rstrip("0").rstrip(".") if ref.venue is Venue.KALSHI else format(price, "f")
    )
    assert seen[0].startswith(f"{ref.venue.value}:{ref.market} ") and seen[0].endswith(f" {shown}{unit}")
    rule = win.settings.alerts[0]
    assert rule.value == price and win.alerts.engine is not None and rule.id in win.alerts.engine.rules
    # The level is marked: the delegate on the price column says so for that row and not for others.
    delegate = table.itemDelegateForColumn(PRICE)
    assert delegate.marked(model.index(row, PRICE)) and not delegate.marked(
        model.index(model.ask_row(3), PRICE)
    )
    ref_row = win.watch_model.row_of(ref)
    assert ref_row is not None
    QApplication.processEvents()
    _shot(win.ladder, "ladder-armed-level.png")
    _shot(win.table, "watchlist-armed-row.png")
    wl_delegate = win.table.itemDelegateForColumn(1)
    assert wl_delegate.marked(win.watch_model.index(ref_row, 1))
    # The chart: a price right-clicked there, onto the market's grid.
    seen.clear()
    _type_rule(None, accept=False, seen=seen)
    y = float(price * 100) + 0.3 if ref.venue is Venue.KALSHI else float(price) + 0.3
    win.alerts.alert_at_chart_price(y)
    # The last trade's price where the market has traded, else the mid; the way it would cross from there.
    assert seen and seen[0].split()[:2] in (
        [f"{ref.venue.value}:{ref.market}", "last"],
        [f"{ref.venue.value}:{ref.market}", "mid"],
    )
    assert parse(seen[0]).value is not None and win.alerts.check(parse(seen[0])) is None  # on the grid


def test_manage_alerts_edits_the_saved_rules_and_they_come_back(make_window: Factory, tmp_path: Path) -> None:
    win = make_window()
    k = next(r for r in win.settings.watchlist().markets if r.venue is Venue.KALSHI)
    win.settings.alerts.append(parse(f"kalshi:{k.market} bid above 99c once"))
    win.settings.alerts.append(parse("kraken down"))
    win.alerts.rearm()
    win.save_settings()
    grabbed: list[str] = []

    def edit(dialog: QDialog) -> None:
        assert isinstance(dialog, ManageAlertsDialog)
        dialog.resize(1000, 420)
        QApplication.processEvents()
        _shot(dialog, "manage-alerts.png")
        view = dialog.view
        view.selectRow(0)
        dialog.duplicate()  # a copy after it
        view.selectRow(1)
        dialog.toggle()  # the copy off
        view.selectRow(2)
        dialog.toggle_sound()
        grabbed.append(dialog.model.cell(1, 0))
        dialog.reject()

    answer_next_dialog(edit)
    win.actions_by_name["alert_manage"].trigger()
    texts = [r.text for r in win.settings.alerts]
    assert texts == [f"kalshi:{k.market} bid above 99c once"] * 2 + ["kraken down"] and grabbed == ["Off"]
    assert [r.enabled for r in win.settings.alerts] == [True, False, True]
    assert win.settings.alerts[2].sound is False
    engine = win.alerts.engine
    assert engine is not None
    assert {i for i, r in engine.rules.items() if r.active} == {
        win.settings.alerts[0].id,
        win.settings.alerts[2].id,
    }
    # A second window (a restart) loads and arms them.
    win.close()
    again = make_window()
    assert [(r.text, r.enabled, r.sound) for r in again.settings.alerts] == [
        (texts[0], True, True),
        (texts[1], False, True),
        ("kraken down", True, False),
    ]
    assert again.alerts.engine is not None
    assert sum(r.active for r in again.alerts.engine.rules.values()) == 2


def test_the_new_alert_dialog_checks_as_it_is_typed(make_window: Factory) -> None:
    win = make_window()
    ref = win.selected
    assert ref is not None

    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, AlertDialog)
        ok = dialog.buttons.buttons()[0]
        assert isinstance(ok, QPushButton)
        prefilled = dialog.edit.text()
        assert prefilled.startswith(f"{ref.venue.value}:{ref.market} ")
        dialog.edit.setText(f"{ref.venue.value}:{ref.market} bid abve 5")
        assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
        assert "expected 'above' or 'below'" in dialog.verdict.text()
        dialog.edit.setText("kalshi:* spread above 3 ticks every cooldown 30s")
        assert dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
        assert "every time" in dialog.verdict.text() and "30 s" in dialog.verdict.text()
        QApplication.processEvents()
        _shot(dialog, "new-alert.png")
        dialog.reject()

    answer_next_dialog(fill)
    win.actions_by_name["alert_new"].trigger()
    assert win.settings.alerts == []


def test_sounds_rise_for_up_and_fall_for_down(tmp_path: Path) -> None:
    sound = Sound(tmp_path)
    up, down = sound.path(True), sound.path(False)
    for path in (up, down):
        with wave.open(str(path)) as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (
                1,
                2,
                22_050,
            ) and w.getnframes() > 4000
    assert up.read_bytes() != down.read_bytes()
    sound.play(True)
    sound.play(False)  # no player here: the system beep (once, then twice)
    assert sound.played == 2
