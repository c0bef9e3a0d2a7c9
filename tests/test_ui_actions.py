"""The table of user actions (app/ui/actions.py) against the real window, offscreen: every action is in its
menu with its keys and tip, the F1 list and the README's table are exactly the table, no key is bound
twice, and pressing each key in the window does what the menu entry does.

The window here runs without an engine (no simulator): the actions are about the window and the
watchlists, and the simulator-backed paths (picker, subscriptions) are in test_ui_window.py.
"""

from __future__ import annotations

import ast
import asyncio
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QMenu, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app.core.instruments import Venue
from app.ui import actions, theme
from app.ui.actions import ACTIONS, TABLE, Action, ActionHandlers, ListKind, Menu
from app.ui.window import MainWindow
from app.user import settings as settings_mod
from app.user.secret_store import SecretStore
from app.user.settings import MarketRef, Settings
from tests.qtsupport import answer_next_dialog, pump_until, run_on, type_name

README = Path(__file__).resolve().parents[1] / "README.md"
MARKETS = [MarketRef(Venue.KRAKEN, p) for p in ("BTC/USD", "ETH/USD", "SOL/USD")] + [
    MarketRef(Venue.KALSHI, "KXCPI-26NOV21-T0.1")
]


@pytest.fixture
def window(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[MainWindow]:
    """The real window, active (shortcuts only reach the active window), on a saved four-market list."""
    settings = Settings()
    settings.watchlist().markets.extend(MARKETS)
    settings_mod.save(settings, tmp_path)
    win = MainWindow(settings_mod.load(tmp_path), SecretStore(), config_dir=tmp_path)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    activate(win)
    win.table.setFocus()
    yield win
    run_on(qloop, win.shutdown())


def activate(win: MainWindow) -> None:
    """Make ``win`` the active window (shortcuts reach only that one); after a dialog closes, the
    activation comes back asynchronously."""
    if not win.isActiveWindow():
        handle = win.windowHandle()
        assert handle is not None
        handle.requestActivate()
        pump_until(win.isActiveWindow, timeout=5)


def press(win: MainWindow, keys: str) -> None:
    """Type a shortcut as a user would: at the widget with the focus, through Qt's shortcut map."""
    activate(win)
    QTest.keySequence(QApplication.focusWidget() or win, QKeySequence(keys))


def normal(keys: str) -> str:
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.PortableText)


def shown_order(win: MainWindow) -> list[MarketRef | None]:
    return [win.watch_model.ref_at(r) for r in range(win.watch_model.rowCount())]


# ---------------------------------------------------------------------- the table itself


def test_the_table_is_well_formed() -> None:
    ids = [entry.id for entry in TABLE]
    assert len(ids) == len(set(ids))
    for action in ACTIONS:
        owner, _, name = action.handler.rpartition(".")
        # "alerts.new_alert": a method of the window's alerts (their own protocol), else of the window.
        protocols = {
            "": ActionHandlers,
            "alerts": actions.AlertActions,
            "recording": actions.RecordActions,
            "replay": actions.ReplayActions,
            "tables": actions.TableActions,
            "panes": actions.PaneActions,
            "workspace": actions.WorkspaceActions,
        }
        protocol = protocols[owner]
        assert callable(getattr(protocol, name, None)), action.handler
        assert action.tip and action.label == action.text.replace("&", "")
        for keys in action.shortcuts:
            # What F1 and the README show is exactly what Qt binds (no alias that reads differently).
            assert normal(keys) == keys, keys
    bound = Counter(normal(k) for a in ACTIONS for k in a.shortcuts)
    assert [k for k, n in bound.items() if n > 1] == []
    assert "Ins" in next(a for a in ACTIONS if a.id == "add").shortcuts


def test_actions_do_not_import_the_window() -> None:
    # The window imports the table; the table names the window's methods only through the protocol.
    tree = ast.parse(Path(actions.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m and m.startswith("app.ui.window") for m in imported)
    assert not (Path(actions.__file__).parent / "menus.py").exists()


# ---------------------------------------------------------------------- the table as built


def test_every_action_is_in_its_menu_with_its_keys_and_tip(window: MainWindow) -> None:
    assert isinstance(window, ActionHandlers)  # every method the table may name
    bar = window.menuBar()
    menus = [a.menu() for a in bar.actions()]
    assert [m.title() for m in menus if m is not None] == [m.value for m in Menu]
    for menu_enum, menu in zip(Menu, menus, strict=True):
        assert isinstance(menu, QMenu)
        expected: list[object] = []
        for entry in TABLE:
            if entry.menu is not menu_enum:
                continue
            if entry.separator:
                expected.append("---")
            if isinstance(entry, Action):
                expected.append((entry.id, entry.text, [normal(k) for k in entry.shortcuts], entry.tip))
            elif entry.kind is ListKind.DOCKS:
                expected += [("dock", d.windowTitle()) for d in window.docks.values()]
            else:
                expected.append(("submenu", entry.id, entry.text))
        seen: list[object] = []
        for item in menu.actions():
            sub = item.menu()
            if item.isSeparator():
                seen.append("---")
            elif isinstance(sub, QMenu):
                seen.append(("submenu", sub.objectName(), sub.title()))
            elif item in window.dock_toggles():
                seen.append(("dock", item.text()))
            else:
                keys = [k.toString(QKeySequence.SequenceFormat.PortableText) for k in item.shortcuts()]
                seen.append((item.objectName(), item.text(), keys, item.statusTip()))
        assert seen == expected, menu_enum
    # Each action also lives on the window itself, so its keys work with the menu bar hidden.
    on_window = set(window.actions())
    assert all(window.actions_by_name[a.id] in on_window for a in ACTIONS)


def test_no_key_is_bound_twice_in_the_window(window: MainWindow) -> None:
    keys = [
        k.toString(QKeySequence.SequenceFormat.PortableText)
        for action in window.findChildren(QAction)
        for k in action.shortcuts()
    ]
    assert sorted(keys) == sorted(normal(k) for a in ACTIONS for k in a.shortcuts)
    assert len(keys) == len(set(keys))


def test_f1_lists_exactly_the_table(window: MainWindow) -> None:
    seen: list[str] = []

    def read(dialog: QDialog) -> None:
        assert isinstance(dialog, QMessageBox) and dialog.objectName() == "shortcutsBox"
        seen.append(dialog.text())
        dialog.accept()

    answer_next_dialog(read)
    press(window, "F1")
    assert seen, "F1 opened no dialog"
    rows = re.findall(r"<tr><td><b>(.*?)</b>.*?</td><td>(.*?)</td><td>(?:&nbsp;)*(.*?)</td></tr>", seen[0])
    assert rows == [(actions.keys_text(a), a.label, a.tip) for a in ACTIONS if a.shortcuts]
    assert ("Ctrl+N, Ins", "Add market…", "Pick markets from what the venues list") in rows  # once missing


def test_the_readme_table_is_the_generated_one() -> None:
    generated = actions.shortcuts_markdown()
    lines = README.read_text(encoding="utf-8").splitlines()
    header = generated.splitlines()[0]
    assert lines.count(header) == 1, "README.md needs the table from `python -m app.ui.actions`"
    start = lines.index(header)
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    in_readme = "\n".join(lines[start:end]) + "\n"
    assert in_readme == generated, "paste the output of `python -m app.ui.actions` into README.md"


# ---------------------------------------------------------------------- the keys do what they did


def test_market_keys_select_move_remove_and_find(window: MainWindow) -> None:
    wl = window.settings.watchlist()
    btc, eth, sol, cpi = MARKETS
    assert window.selected == btc
    press(window, "Ctrl+J")
    assert window.selected == eth
    press(window, "Ctrl+PgDown")
    assert window.selected == sol
    press(window, "Ctrl+K")
    press(window, "Ctrl+PgUp")
    assert window.selected == btc
    press(window, "Ctrl+PgUp")  # round to the bottom
    assert window.selected == cpi

    # A move shows the list's own order even when a header had sorted it, and keeps the selection.
    window.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    window.select(eth)
    press(window, "Ctrl+Shift+Down")
    assert wl.markets == [btc, sol, eth, cpi] and shown_order(window) == wl.markets
    assert window.selected == eth
    press(window, "Ctrl+Shift+Up")
    press(window, "Ctrl+Shift+Up")
    assert wl.markets == [eth, btc, sol, cpi] and window.selected == eth
    press(window, "Ctrl+Shift+Up")  # at the top: nothing moves
    assert wl.markets == [eth, btc, sol, cpi]
    assert settings_mod.load(window.config_dir).watchlist().markets == wl.markets  # saved

    # Del removes the selected market and selects the one that took its place.
    press(window, "Del")
    assert wl.markets == [btc, sol, cpi] and window.selected == btc
    window.select(cpi)
    press(window, "Del")
    assert wl.markets == [btc, sol] and window.selected == sol  # the last one: the new last

    # Ctrl+F puts the cursor in the filter with its text selected; Del there edits the filter only.
    window.filter.setText("sol")
    window.table.setFocus()
    press(window, "Ctrl+F")
    assert QApplication.focusWidget() is window.filter and window.filter.selectedText() == "sol"
    press(window, "Del")
    assert window.filter.text() == "" and wl.markets == [btc, sol]


def test_watchlist_keys_new_rename_next_and_the_switch_menu(window: MainWindow) -> None:
    answer_next_dialog(type_name("Crypto"))
    press(window, "Ctrl+Shift+N")
    assert window.settings.active_watchlist == "Crypto" and window.watch_model.rowCount() == 0
    assert window.selected is None
    answer_next_dialog(type_name("Coins"))
    press(window, "F2")
    assert [w.name for w in window.settings.watchlists] == ["Default", "Coins"]
    assert "Coins" in window.windowTitle()

    refused: list[str] = []

    def taken(dialog: QDialog) -> None:
        # A taken name is refused inside the dialog: it stays open, says why, and OK waits.
        type_name("Default")(dialog)
        assert dialog.isVisible()
        refused.append(dialog.labelText())  # type: ignore[attr-defined]
        dialog.reject()

    answer_next_dialog(taken)
    press(window, "F2")
    assert len(refused) == 1 and "already exists" in refused[0]
    assert window.settings.active_watchlist == "Coins"

    press(window, "Ctrl+Tab")
    assert window.settings.active_watchlist == "Default" and window.selected == MARKETS[0]
    press(window, "Ctrl+Tab")
    assert window.settings.active_watchlist == "Coins"

    switch = window.findChild(QMenu, "wl_switch")
    assert isinstance(switch, QMenu)
    switch.aboutToShow.emit()  # what opening it does
    items = [(a.text(), a.isChecked()) for a in switch.actions()]
    assert items == [("Default  (4)", False), ("Coins  (0)", True)]
    switch.actions()[0].trigger()
    assert window.settings.active_watchlist == "Default"
    assert settings_mod.load(window.config_dir).active_watchlist == "Default"

    # Delete asks first; the last list is refused with the reason.
    def yes(dialog: QDialog) -> None:
        assert isinstance(dialog, QMessageBox) and dialog.windowTitle() == "Delete watchlist"
        asked.append(dialog.text())
        dialog.button(QMessageBox.StandardButton.Yes).click()

    def yes_then_read(dialog: QDialog) -> None:
        answer_next_dialog(read_refusal)
        yes(dialog)

    def read_refusal(dialog: QDialog) -> None:
        assert isinstance(dialog, QMessageBox) and dialog.windowTitle() == "Delete watchlist"
        refused.append(dialog.text())
        dialog.accept()

    asked: list[str] = []
    answer_next_dialog(yes)
    window.actions_by_name["wl_delete"].trigger()
    assert asked == ["Delete the watchlist “Default” and its 4 markets?"]
    assert [w.name for w in window.settings.watchlists] == ["Coins"]
    answer_next_dialog(yes_then_read)
    window.actions_by_name["wl_delete"].trigger()
    assert refused[-1] == "the last watchlist cannot be deleted"
    assert [w.name for w in window.settings.watchlists] == ["Coins"]


def test_dialog_keys_open_their_dialogs(window: MainWindow) -> None:
    from app.ui.credentials_dialog import CredentialsDialog
    from app.ui.picker import MarketPicker
    from app.ui.profiles_dialog import ProfilesDialog

    for keys, kind in (
        ("Ctrl+N", MarketPicker),
        ("Ins", MarketPicker),
        ("Ctrl+Shift+P", ProfilesDialog),
        ("Ctrl+Shift+K", CredentialsDialog),
    ):
        opened: list[QWidget] = []

        def cancel(dialog: QDialog, opened: list[QWidget] = opened) -> None:
            opened.append(dialog)
            dialog.reject()

        answer_next_dialog(cancel)
        window.table.setFocus()
        press(window, keys)
        assert len(opened) == 1 and isinstance(opened[0], kind), keys
    assert window.settings.watchlist().markets == MARKETS  # cancelled: nothing added


def test_view_keys_and_entries(window: MainWindow) -> None:
    # Each dock's entry follows the dock; Ctrl+Shift+R brings every dock back.
    ladder_toggle = window.docks["ladder"].toggleViewAction()
    ladder_toggle.trigger()
    assert not window.docks["ladder"].isVisible() and not ladder_toggle.isChecked()
    window.docks["health"].close()
    press(window, "Ctrl+Shift+R")
    assert window.docks["ladder"].isVisible() and window.docks["health"].isVisible()

    themes = [a for name, a in window.actions_by_name.items() if name.startswith("theme_")]
    assert {a.objectName() for a in themes} == {f"theme_{n}" for n in theme.themes()}
    window.actions_by_name["theme_light"].trigger()
    assert window.settings.theme == "light" and window.actions_by_name["theme_light"].isChecked()
    assert not window.actions_by_name["theme_dark"].isChecked()  # one theme at a time
    window.actions_by_name["theme_dark"].trigger()
    assert settings_mod.load(window.config_dir).theme == "dark"


def test_export_and_import_through_the_window(window: MainWindow, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    window.export_watchlist(str(out))
    assert window.statusBar().currentMessage() == f"Exported “Default” to {out}"
    window.import_watchlist(str(out))
    assert window.settings.active_watchlist == "Default (2)"
    assert window.statusBar().currentMessage() == "Imported “Default (2)”: 4 markets"
    assert window.selected == MARKETS[0]

    seen: list[tuple[str, str]] = []

    def dismiss(dialog: QDialog) -> None:
        assert isinstance(dialog, QMessageBox)
        seen.append((dialog.windowTitle(), dialog.text()))
        dialog.accept()

    answer_next_dialog(dismiss)
    window.export_watchlist(str(tmp_path / "missing" / "out.txt"))
    assert seen[0][0] == "Export watchlist" and seen[0][1].startswith("Could not write")


def test_ctrl_q_closes_the_window(window: MainWindow) -> None:
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    press(window, "Ctrl+Q")
    pump_until(lambda: closed)
    assert not window.isVisible()
