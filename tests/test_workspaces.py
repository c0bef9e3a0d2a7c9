"""Named workspaces: the files (round trip, names, the current one, damage set aside) and the window's
Workspace menu against the real simulator (save as, switch, rename, delete, reset, restart), restoring
panes, markets, contents, chart intervals and links."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from app.core.instruments import Venue
from app.ui.window import MainWindow
from app.user.settings import MarketRef
from app.user.workspaces import DEFAULT, FORMAT, PaneSpec, Workspace, WorkspaceError, Workspaces
from tests.qtsupport import answer_next_dialog, pump_until, run_on, type_name, window_factory

BTC = MarketRef(Venue.KRAKEN, "BTC/USD")
ETH = MarketRef(Venue.KRAKEN, "ETH/USD")


# ---------------------------------------------------------------------- the files


def test_a_workspace_round_trips_through_its_file(tmp_path: Path) -> None:
    store = Workspaces(tmp_path)
    assert store.names() == [] and store.current() == DEFAULT
    ws = Workspace(
        "Crypto / night: 2",  # any name is a safe file name
        "AAAA/w==",
        [PaneSpec(1, BTC, ["chart", "ladder"], 2, "15m"), PaneSpec(4, None, ["tape"], 0, "")],
        "1h",
    )
    path = store.save(ws)
    assert path.parent == tmp_path / "workspaces" and "/" not in path.name
    assert json.loads(path.read_text())["format"] == FORMAT
    assert store.names() == ["Crypto / night: 2"]
    back = store.load("Crypto / night: 2")
    assert back == ws and back.state_bytes() == b"\x00\x00\x00\xff"
    store.set_current(ws.name)
    assert Workspaces(tmp_path).current() == ws.name  # kept across restarts
    assert store.rename(ws.name, "Crypto") == "Crypto"
    assert store.names() == ["Crypto"] and store.current() == "Crypto"
    assert store.load("Crypto").panes == ws.panes
    store.save(Workspace("Other"))
    with pytest.raises(WorkspaceError, match="already exists"):
        store.rename("Crypto", "Other")
    with pytest.raises(WorkspaceError, match="needs a name"):
        store.rename("Crypto", "  ")
    store.delete("Other")
    assert store.names() == ["Crypto"]
    assert store.load("Never saved") == Workspace("Never saved")  # the built-in layout, no problem
    assert store.take_problems() == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "Expecting property name"),
        ('{"format": 99, "name": "W"}', "format 99"),
        ('{"format": 1, "name": "W", "state": "%%%"}', "not base64"),
        ('{"format": 1, "name": "W", "panes": [{"id": 1, "link": 9}]}', "link group must be 0"),
        ('{"format": 1, "name": "W", "panes": [{"id": 1, "market": "nasdaq:AAPL"}]}', "unknown venue"),
        ('{"format": 1, "name": "W", "panes": [{"id": 2}, {"id": 2}]}', "same id"),
    ],
)
def test_a_damaged_file_is_set_aside_with_its_reason(tmp_path: Path, text: str, reason: str) -> None:
    store = Workspaces(tmp_path)
    store.save(Workspace("W"))
    path = next((tmp_path / "workspaces").glob("W.json"))
    path.write_text(text)
    assert store.load("W") == Workspace("W")  # the default layout loads
    problems = store.take_problems()
    assert len(problems) == 1 and reason in problems[0] and "W.json.bad" in problems[0]
    assert not path.exists() and (path.parent / "W.json.bad").read_text() == text  # kept, not lost
    assert store.take_problems() == []  # said once


# ---------------------------------------------------------------------- the window

Factory = Callable[[], MainWindow]


@pytest.fixture
def make_window(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Factory]:
    """Windows on one config directory (a restart is a second window)."""
    yield from window_factory(qtbot, qloop, tmp_path, seed=5, rate=300, size=(1600, 1000))


def restart(win: MainWindow, qloop: asyncio.AbstractEventLoop, make: Factory) -> MainWindow:
    win.close()
    run_on(qloop, win.shutdown())
    return make()


def panes_of(win: MainWindow) -> list[tuple[MarketRef | None, frozenset[str], int, str]]:
    return sorted(
        ((p.ref, frozenset(p.contents), p.group, p.interval) for p in win.panes.panes.values()),
        key=lambda t: (t[2], t[0].text() if t[0] else ""),
    )


def switch_menu_names(win: MainWindow) -> list[tuple[str, bool]]:
    menu = win.findChild(QMenu, "ws_switch")
    assert isinstance(menu, QMenu)
    menu.aboutToShow.emit()
    return [(a.text(), a.isChecked()) for a in menu.actions()]


def test_save_switch_rename_delete_reset_and_restart(
    make_window: Factory, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    win = make_window()
    assert win.workspace.name == DEFAULT and not win.panes.panes
    watched = set(win.settings.watchlist().of(Venue.KRAKEN))
    unwatched = next(m.market for m in win.catalog[Venue.KRAKEN] if m.market not in watched)
    outside = MarketRef(Venue.KRAKEN, unwatched)  # in no watchlist: the pane alone keeps it streamed
    # Two panes: one linked (group 3) on BTC with the chart and tape at 15m, one unlinked on a market
    # no watchlist has, showing the ladder and the depth chart.
    linked = win.panes.open_pane(BTC, group=3, contents={"chart", "tape"}, interval="15m")
    alone = win.panes.open_pane(outside, contents={"ladder", "depth"})
    win.chart.window_combo.setCurrentText("1h")
    wanted = panes_of(win)
    assert wanted == [
        (outside, frozenset({"ladder", "depth"}), 0, "5m"),
        (BTC, frozenset({"chart", "tape"}), 3, "15m"),
    ]
    answer_next_dialog(type_name("Two panes"))
    win.actions_by_name["ws_save_as"].trigger()
    assert win.workspace.name == "Two panes"
    assert switch_menu_names(win) == [("Default", False), ("Two panes", True)]
    # Reset: the built-in layout, no panes; their markets are let go.
    win.actions_by_name["ws_reset"].trigger()
    assert not win.panes.panes and win.chart.window_combo.currentText() == "5m"
    assert not any(o.startswith("pane:") for o in win.demand.owners())
    assert linked is not None and alone is not None
    # "Default" was saved as it was when "Two panes" forked from it: switching brings the panes back,
    # docked, with their markets streaming; "Two panes" kept its reset.
    win.workspace.switch_workspace("Default")
    assert panes_of(win) == wanted and win.chart.window_combo.currentText() == "1h"
    for pane in win.panes.panes.values():
        assert pane.isVisible() and not pane.isFloating()
        pane.raise_()
        pump_until(lambda p=pane: p.on_screen() and p.has_data(), timeout=15)
    win.workspace.switch_workspace("Two panes")
    assert not win.panes.panes
    win.workspace.switch_workspace("Default")
    assert panes_of(win) == wanted
    # Links still work after a restore: a pane joining group 3 follows it.
    restored = next(p for p in win.panes.panes.values() if p.group == 3)
    follower = win.panes.open_pane(ETH)
    win.panes.set_link(follower, 3)
    assert follower.ref == restored.ref == BTC
    follower.close()
    # Rename, then restart: the renamed workspace is the one that opens, as it was left.
    answer_next_dialog(type_name("Pair"))
    win.actions_by_name["ws_rename"].trigger()
    assert win.workspace.name == "Pair"
    assert switch_menu_names(win) == [("Pair", True), ("Two panes", False)]
    win = restart(win, qloop, make_window)
    assert win.workspace.name == "Pair" and panes_of(win) == wanted
    for pane in win.panes.panes.values():  # restored before the engine started: streamed all the same
        pane.raise_()
        pump_until(lambda p=pane: p.on_screen() and p.has_data(), timeout=15)
    # Delete: gone from the menu, and the window is on the remaining workspace.

    def yes(dialog: QDialog) -> None:
        assert isinstance(dialog, QMessageBox)
        dialog.button(QMessageBox.StandardButton.Yes).click()

    answer_next_dialog(yes)
    win.actions_by_name["ws_delete"].trigger()
    assert win.workspace.name == "Two panes" and not win.panes.panes
    assert switch_menu_names(win) == [("Two panes", True)]
    assert not (tmp_path / "workspaces" / "Pair.json").exists()


def test_a_damaged_workspace_file_is_set_aside_and_the_default_loads(
    make_window: Factory, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    win = make_window()
    win.panes.open_pane(BTC)
    answer_next_dialog(type_name("Mine"))
    win.actions_by_name["ws_save_as"].trigger()
    win.close()
    run_on(qloop, win.shutdown())
    path = tmp_path / "workspaces" / "Mine.json"
    assert json.loads(path.read_text())["panes"][0]["market"] == "kraken:BTC/USD"
    path.write_text('{"format": 1, "name": "Mine", "panes": [{"id": 1, "link": "seven"}]')  # cut off
    win = make_window()
    assert win.workspace.name == "Mine" and not win.panes.panes  # the default layout, under its name
    message = win.statusBar().currentMessage()
    assert "workspace 'Mine' was damaged" in message and "Mine.json.bad" in message
    assert (tmp_path / "workspaces" / "Mine.json.bad").exists()
    assert win.has_market_data()  # the window works on
