"""The menu bar and what each entry does: File, Watchlist, View, Help.

Every watchlist edit goes through ``MainWindow.watchlist_changed``, which saves, redraws and sends the
new market set to the venues. Dialogs are the standard Qt ones, so tests drive them like a user would.
"""

from __future__ import annotations

import asyncio
import platform
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox

from app.core.instruments import Venue
from app.ui import theme
from app.user import settings as settings_mod

if TYPE_CHECKING:
    from app.ui.window import MainWindow

SHORTCUTS = (
    ("Add market…", "Ctrl+N"),
    ("Remove market", "Del"),
    ("Find (filter the watchlist)", "Ctrl+F"),
    ("Next market", "Ctrl+PgDown  or  Ctrl+J"),
    ("Previous market", "Ctrl+PgUp  or  Ctrl+K"),
    ("Move market up / down", "Ctrl+Shift+Up / Ctrl+Shift+Down"),
    ("New watchlist", "Ctrl+Shift+N"),
    ("Rename watchlist", "F2"),
    ("Next watchlist", "Ctrl+Tab"),
    ("Credentials…", "Ctrl+Shift+K"),
    ("Connection profiles…", "Ctrl+Shift+P"),
    ("Reset layout", "Ctrl+Shift+R"),
    ("Keyboard shortcuts", "F1"),
    ("Quit", "Ctrl+Q"),
)


def build_menus(win: MainWindow) -> dict[str, QAction]:
    actions: dict[str, QAction] = {}
    bar = win.menuBar()

    def act(
        menu: QMenu, name: str, text: str, slot: Callable[[], object], keys: tuple[str, ...] = ()
    ) -> QAction:
        action = QAction(text, win)
        action.setObjectName(name)
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        win.addAction(action)  # shortcuts work wherever focus is, even with the menu bar hidden
        actions[name] = action
        return action

    file_menu = bar.addMenu("&File")
    act(file_menu, "profiles", "Connection &profiles…", lambda: open_profiles(win), ("Ctrl+Shift+P",))
    act(file_menu, "credentials", "&Credentials…", lambda: open_credentials(win), ("Ctrl+Shift+K",))
    file_menu.addSeparator()
    act(file_menu, "quit", "&Quit", win.close, ("Ctrl+Q",))

    wl_menu = bar.addMenu("&Watchlist")
    act(wl_menu, "wl_new", "&New watchlist…", lambda: new_watchlist(win), ("Ctrl+Shift+N",))
    act(wl_menu, "wl_rename", "&Rename watchlist…", lambda: rename_watchlist(win), ("F2",))
    act(wl_menu, "wl_delete", "&Delete watchlist", lambda: delete_watchlist(win))
    switch = wl_menu.addMenu("&Switch to")
    switch.setObjectName("wl_switch")
    switch.aboutToShow.connect(lambda: _fill_switch(win, switch))
    act(wl_menu, "wl_next", "Next watchlist", lambda: cycle_watchlist(win), ("Ctrl+Tab",))
    wl_menu.addSeparator()
    act(wl_menu, "add", "&Add market…", lambda: add_market(win), ("Ctrl+N", "Ins"))
    act(wl_menu, "remove", "Re&move market", lambda: remove_market(win), ("Del",))
    act(wl_menu, "up", "Move &up", lambda: move_market(win, -1), ("Ctrl+Shift+Up",))
    act(wl_menu, "down", "Move do&wn", lambda: move_market(win, 1), ("Ctrl+Shift+Down",))
    wl_menu.addSeparator()
    act(wl_menu, "find", "&Find…", lambda: _focus_filter(win), ("Ctrl+F",))
    act(wl_menu, "next", "Ne&xt market", lambda: win.step_selection(1), ("Ctrl+PgDown", "Ctrl+J"))
    act(wl_menu, "previous", "Pre&vious market", lambda: win.step_selection(-1), ("Ctrl+PgUp", "Ctrl+K"))
    wl_menu.addSeparator()
    act(wl_menu, "import", "&Import…", lambda: import_watchlist(win))
    act(wl_menu, "export", "&Export…", lambda: export_watchlist(win))

    view = bar.addMenu("&View")
    for dock in win.docks.values():
        action = dock.toggleViewAction()
        view.addAction(action)
    view.addSeparator()
    themes = view.addMenu("&Theme")
    group = QActionGroup(win)
    for name, t in theme.themes().items():
        action = QAction(t.label, win, checkable=True)
        action.setObjectName(f"theme_{name}")
        action.setChecked(win.settings.theme == name)
        action.triggered.connect(lambda _c=False, n=name: win.set_theme(n))
        group.addAction(action)
        themes.addAction(action)
        actions[f"theme_{name}"] = action
    act(view, "reset_layout", "&Reset layout", win.reset_layout, ("Ctrl+Shift+R",))

    help_menu = bar.addMenu("&Help")
    act(help_menu, "shortcuts", "&Keyboard shortcuts", lambda: show_shortcuts(win), ("F1",))
    act(help_menu, "about", "&About Market Monitor", lambda: show_about(win))
    return actions


# ---------------------------------------------------------------------- watchlists


def _error(win: MainWindow, title: str, text: str) -> None:
    QMessageBox.warning(win, title, text)


def new_watchlist(win: MainWindow) -> None:
    name, ok = QInputDialog.getText(win, "New watchlist", "Name:")
    if not ok:
        return
    try:
        win.settings.add_watchlist(name)
    except ValueError as exc:
        _error(win, "New watchlist", str(exc))
        return
    win.settings.active_watchlist = name.strip()
    win.watchlist_changed()


def rename_watchlist(win: MainWindow) -> None:
    old = win.settings.active_watchlist
    name, ok = QInputDialog.getText(win, "Rename watchlist", "New name:", text=old)
    if not ok or name.strip() == old:
        return
    try:
        win.settings.rename_watchlist(old, name)
    except ValueError as exc:
        _error(win, "Rename watchlist", str(exc))
        return
    win.watchlist_changed(resubscribe=False)


def delete_watchlist(win: MainWindow) -> None:
    name = win.settings.active_watchlist
    answer = QMessageBox.question(
        win,
        "Delete watchlist",
        f"Delete the watchlist “{name}” and its {len(win.settings.watchlist().markets)} markets?",
    )
    if answer != QMessageBox.StandardButton.Yes:
        return
    try:
        win.settings.delete_watchlist(name)
    except ValueError as exc:
        _error(win, "Delete watchlist", str(exc))
        return
    win.watchlist_changed()


def switch_watchlist(win: MainWindow, name: str) -> None:
    if name == win.settings.active_watchlist:
        return
    win.settings.active_watchlist = name
    win.selected = None
    win.watchlist_changed()


def cycle_watchlist(win: MainWindow) -> None:
    names = [w.name for w in win.settings.watchlists]
    i = names.index(win.settings.active_watchlist)
    switch_watchlist(win, names[(i + 1) % len(names)])


def _fill_switch(win: MainWindow, menu: QMenu) -> None:
    menu.clear()
    for wl in win.settings.watchlists:
        action = menu.addAction(f"{wl.name}  ({len(wl.markets)})")
        action.setCheckable(True)
        action.setChecked(wl.name == win.settings.active_watchlist)
        action.triggered.connect(lambda _c=False, n=wl.name: switch_watchlist(win, n))


def add_market(win: MainWindow) -> None:
    from app.ui.picker import MarketPicker

    wl = win.settings.watchlist()
    picker = MarketPicker({(r.venue, r.market) for r in wl.markets}, win)
    picker.setObjectName("marketPicker")
    for venue, items in win.catalog.items():
        picker.add_markets(venue, items)
    for venue, message in win.catalog_errors.items():
        picker.venue_failed(venue, message)

    async def fill_when_ready() -> None:
        await win.catalog_ready.wait()
        for venue, items in win.catalog.items():
            if not any(i.venue is venue for i in picker.model.items):
                picker.add_markets(venue, items)
        for venue, message in win.catalog_errors.items():
            picker.venue_failed(venue, message)

    task = None
    if not win.catalog_ready.is_set():  # the lists are still arriving: show them as they land
        task = win.spawn(fill_when_ready(), "loading market lists")
    accepted = picker.exec()
    if task is not None:
        task.cancel()
    if not accepted:
        return
    added = [ref for ref in picker.chosen() if wl.add(ref)]
    if not added:
        return
    win.watchlist_changed()
    win.select(added[-1])


def remove_market(win: MainWindow) -> None:
    ref = win.selected
    if ref is None:
        return
    wl = win.settings.watchlist()
    index = wl.markets.index(ref) if ref in wl.markets else 0
    wl.remove(ref)
    win.selected = None
    win.watchlist_changed()
    if wl.markets:
        win.select(wl.markets[min(index, len(wl.markets) - 1)])


def move_market(win: MainWindow, step: int) -> None:
    ref = win.selected
    if ref is None:
        return
    if win.settings.watchlist().move(ref, step):
        win.table.sortByColumn(-1, win.table.horizontalHeader().sortIndicatorOrder())  # show list order
        win.watchlist_changed(resubscribe=False)
        win.select(ref)


def import_watchlist(win: MainWindow, path: str | None = None) -> None:
    if path is None:
        path, _ = QFileDialog.getOpenFileName(
            win, "Import watchlist", "", "Watchlists (*.txt *.json);;All files (*)"
        )
        if not path:
            return
    try:
        wl = settings_mod.import_watchlist(Path(path))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _error(win, "Import watchlist", f"Could not import {path}:\n{exc}")
        return
    base, n = wl.name, 2
    while any(w.name == wl.name for w in win.settings.watchlists):
        wl.name = f"{base} ({n})"
        n += 1
    win.settings.watchlists.append(wl)
    win.settings.active_watchlist = wl.name
    win.watchlist_changed()
    win.statusBar().showMessage(f"Imported “{wl.name}”: {len(wl.markets)} markets", 8_000)


def export_watchlist(win: MainWindow, path: str | None = None) -> None:
    wl = win.settings.watchlist()
    if path is None:
        path, _ = QFileDialog.getSaveFileName(win, "Export watchlist", f"{wl.name}.txt", "Watchlists (*.txt)")
        if not path:
            return
    try:
        settings_mod.export_watchlist(wl, Path(path))
    except OSError as exc:
        _error(win, "Export watchlist", f"Could not write {path}:\n{exc.strerror or exc}")
        return
    win.statusBar().showMessage(f"Exported “{wl.name}” to {path}", 8_000)


def _focus_filter(win: MainWindow) -> None:
    win.filter.setFocus()
    win.filter.selectAll()


# ---------------------------------------------------------------------- connections


def open_profiles(win: MainWindow) -> None:
    from app.ui.profiles_dialog import ProfilesDialog

    dialog = ProfilesDialog(win.settings, win)
    if dialog.exec() and dialog.changed:
        win.save_settings()
        win.start()


def open_credentials(win: MainWindow) -> None:
    from app.ui.credentials_dialog import CredentialsDialog

    dialog = CredentialsDialog(win.secrets, win)
    profile = win.settings.profile()
    dialog.saved.connect(lambda venue, env: _maybe_reconnect(win, venue, env, profile.env(Venue(venue))))
    dialog.exec()


def _maybe_reconnect(win: MainWindow, venue: str, env: str, active_env: str) -> None:
    if env == active_env:  # the active profile uses these credentials: reconnect with them
        win.start()


# ---------------------------------------------------------------------- help


def show_shortcuts(win: MainWindow) -> None:
    rows = "".join(f"<tr><td>{what}</td><td>&nbsp;&nbsp;<b>{keys}</b></td></tr>" for what, keys in SHORTCUTS)
    box = QMessageBox(win)
    box.setObjectName("shortcutsBox")
    box.setWindowTitle("Keyboard shortcuts")
    box.setText(f"<table>{rows}</table>")
    box.exec()


def show_about(win: MainWindow) -> None:
    win.spawn(_about(win), "About")


async def _about(win: MainWindow) -> None:
    from app.about import facts

    found = await asyncio.to_thread(facts)  # the keyring probe may wait on D-Bus: not on the Qt thread
    box = QMessageBox(win)
    box.setObjectName("aboutBox")
    box.setWindowTitle("About Market Monitor")
    box.setIconPixmap(win.windowIcon().pixmap(64, 64))
    box.setText(
        f"<h3>Market Monitor {found['version']}</h3>"
        "<p>Live Kalshi event contracts and Kraken spot crypto in one window.</p>"
        f"<p>Qt {found['qt']}<br>Python {platform.python_version()} · {found['build']}</p>"
        "<p>Credentials are kept in your OS keyring only.</p>"
    )
    box.setDetailedText("\n".join(f"{key}: {value}" for key, value in found.items()))  # for bug reports
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
