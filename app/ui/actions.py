"""Every user action in one table: the menu bar, the keyboard shortcuts, the F1 list and the README's
shortcut table are all built from ``TABLE``, so none of them can name a key the others don't.

The window does the work: each action names a method of ``ActionHandlers``, which the window implements
(this module never imports the window, so the window can import it). Entries whose items come from the
user's data (the watchlists to switch to, the docks, the themes, the watchlist's columns, the flash
modes) are ``Listing`` rows in the same table, filled from the handlers when the menu is built or opened.
An action with a ``state`` is a toggle: its check mark shows what that handler says after every trigger.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, runtime_checkable

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox, QWidget


class Menu(Enum):
    """The menu bar's menus, left to right; the value is the title."""

    FILE = "&File"
    WATCHLIST = "&Watchlist"
    ALERTS = "&Alerts"
    REPLAY = "&Replay"
    VIEW = "&View"
    WORKSPACE = "Wor&kspace"
    HELP = "&Help"


class ListKind(Enum):
    WATCHLISTS = "watchlists"  # rebuilt each time the submenu opens: lists come and go
    DOCKS = "docks"  # Qt's own toggle per dock, which follows the dock's visibility
    THEMES = "themes"  # one checkable action per theme, exclusive
    FLASH = "flash"  # how watchlist cells flash: off, subtle, full; exclusive
    COLUMNS = "columns"  # the watchlist's columns, each shown or hidden; rebuilt each time it opens
    WORKSPACES = "workspaces"  # the saved workspaces to switch to; rebuilt each time the submenu opens


@dataclass(frozen=True, slots=True)
class Action:
    id: str  # the QAction's objectName and its key in the window's ``actions_by_name``
    menu: Menu
    text: str  # menu text; ``&`` marks the mnemonic
    handler: str  # the ``ActionHandlers`` method it calls, without arguments (``alerts.x``: its alerts')
    shortcuts: tuple[str, ...] = ()  # portable QKeySequence text; the first is shown in the menu
    tip: str = ""  # the status-bar tip, and what the F1 list and the README say it does
    separator: bool = False  # a line above it in its menu
    checkable: bool = False  # a toggle (File → Record): the handler keeps its check mark true
    state: str = ""  # a toggle: the ``ActionHandlers`` method that says whether it is on

    @property
    def label(self) -> str:
        """The text without its mnemonic mark, as help text shows it."""
        return self.text.replace("&", "")


@dataclass(frozen=True, slots=True)
class Listing:
    id: str  # a submenu's objectName; action ids are ``{id}_{key}`` (``theme_dark``)
    menu: Menu
    kind: ListKind
    text: str = ""  # a submenu's title; empty: the items sit in the menu itself
    separator: bool = False


@dataclass(frozen=True, slots=True)
class Choice:
    """One item of a listing: ``key`` is what the handler receives (a watchlist or theme name)."""

    key: str
    label: str
    checked: bool


class RecordActions(Protocol):
    """File → Record's handler (``ui.record_controller.RecordController``)."""

    def toggle(self) -> None: ...


class ReplayActions(Protocol):
    """The Replay menu's handlers (``ui.replay_controller.ReplayController``)."""

    def toggle_play(self) -> None: ...
    def step(self) -> None: ...
    def faster(self) -> None: ...
    def slower(self) -> None: ...
    def back_to_live(self) -> None: ...


class AlertActions(Protocol):
    """The Alerts menu's handlers (``ui.alerts_controller.AlertsController``)."""

    def new_alert(self) -> object: ...
    def manage(self) -> None: ...
    def acknowledge_all(self) -> None: ...
    def import_rules(self) -> None: ...
    def export_rules(self) -> None: ...


class TableActions(Protocol):
    """File → Export's handlers (``ui.table_export.TableExports``)."""

    def export_trades(self) -> object: ...
    def export_fills(self) -> object: ...
    def export_watchlist_table(self) -> object: ...
    def export_positions(self) -> object: ...
    def export_health(self) -> object: ...
    def export_alerts_log(self) -> object: ...


class PaneActions(Protocol):
    """The Workspace menu's handlers (``ui.panes_controller.PanesController``)."""

    def open_selected(self) -> object: ...


class WorkspaceActions(Protocol):
    """The Workspace menu's workspace handlers (``ui.workspace_controller.WorkspaceController``)."""

    def save_as(self) -> None: ...
    def rename(self) -> None: ...
    def delete(self) -> None: ...
    def reset(self) -> None: ...
    def workspace_choices(self) -> list[Choice]: ...
    def switch_workspace(self, name: str) -> None: ...


@runtime_checkable
class ActionHandlers(Protocol):
    """What the actions call: the window implements every method."""

    def open_profiles(self) -> None: ...
    def open_credentials(self) -> None: ...
    def close(self) -> bool: ...
    def new_watchlist(self) -> None: ...
    def rename_watchlist(self) -> None: ...
    def delete_watchlist(self) -> None: ...
    def next_watchlist(self) -> None: ...
    def add_market(self) -> None: ...
    def remove_market(self) -> None: ...
    def move_market_up(self) -> None: ...
    def move_market_down(self) -> None: ...
    def find_market(self) -> None: ...
    def next_market(self) -> None: ...
    def previous_market(self) -> None: ...
    def import_watchlist(self) -> None: ...
    def export_watchlist(self) -> None: ...
    def reset_layout(self) -> None: ...
    def clear_filter(self) -> None: ...
    def toggle_hold_order(self) -> None: ...
    def order_held_by_user(self) -> bool: ...
    def toggle_compact(self) -> None: ...
    def compact_on(self) -> bool: ...
    def zoom_in(self) -> None: ...
    def zoom_out(self) -> None: ...
    def zoom_reset(self) -> None: ...
    def open_strike_board(self) -> None: ...
    def show_shortcuts(self) -> None: ...
    def show_about(self) -> None: ...

    @property
    def alerts(self) -> AlertActions: ...

    @property
    def recording(self) -> RecordActions: ...

    @property
    def replay(self) -> ReplayActions: ...

    @property
    def panes(self) -> PaneActions: ...

    @property
    def workspace(self) -> WorkspaceActions: ...

    def open_recording(self) -> None: ...

    @property
    def tables(self) -> TableActions: ...

    # the listings
    def watchlist_choices(self) -> list[Choice]: ...
    def switch_watchlist(self, name: str) -> None: ...
    def dock_toggles(self) -> list[QAction]: ...
    def theme_choices(self) -> list[Choice]: ...
    def set_theme(self, name: str) -> None: ...
    def flash_choices(self) -> list[Choice]: ...
    def set_flash(self, mode: str) -> None: ...
    def fill_column_menu(self, menu: QMenu) -> None: ...


F, W, A, R, V, H = Menu.FILE, Menu.WATCHLIST, Menu.ALERTS, Menu.REPLAY, Menu.VIEW, Menu.HELP
K = Menu.WORKSPACE

# A table reads best laid out as one: the formatter leaves it alone.
# fmt: off
TABLE: tuple[Action | Listing, ...] = (
    #      id             menu text                     handler             shortcuts
    Action("profiles",      F, "Connection &profiles…", "open_profiles",    ("Ctrl+Shift+P",),
           tip="Choose the simulator, production, demo or off for each venue"),
    Action("credentials",   F, "&Credentials…",         "open_credentials", ("Ctrl+Shift+K",),
           tip="Keep API keys in the OS keyring and test them"),
    Action("open_recording", F, "&Open recording…",     "open_recording",   ("Ctrl+O",),
           tip="Play a recording in the window, through every pane and alert", separator=True),
    Action("record",        F, "&Record",               "recording.toggle", ("Ctrl+R",),
           tip="Record every frame into the data folder (again to stop)", checkable=True),
    Action("export_trades", F, "Export &trades…",       "tables.export_trades", (),
           tip="Save the selected market's trades as CSV: exact prices, ISO 8601 times", separator=True),
    Action("export_fills",  F, "Export &fills…",        "tables.export_fills", (),
           tip="Save your fills as CSV: exact prices, ISO 8601 times"),
    Action("export_table",  F, "Export &watchlist table…", "tables.export_watchlist_table", (),
           tip="Save the watchlist's rows as CSV: exact bid, ask, last, change and volume, as on screen"),
    Action("export_positions", F, "Export &positions…", "tables.export_positions", (),
           tip="Save positions, balances and the account total as CSV, every digit"),
    Action("export_health", F, "Export &health…",       "tables.export_health", (),
           tip="Save the Health tab as CSV: each feed's state, rate, age and counters"),
    Action("export_alerts", F, "Export &alerts log…",   "tables.export_alerts_log", (),
           tip="Save the Alerts log as CSV: when, market, rule, exact value, acknowledged"),
    Action("quit",          F, "&Quit",                 "close",            ("Ctrl+Q",),
           tip="Close the window and disconnect", separator=True),
    Action("wl_new",        W, "&New watchlist…",       "new_watchlist",    ("Ctrl+Shift+N",),
           tip="Start an empty watchlist and switch to it"),
    Action("wl_rename",     W, "&Rename watchlist…",    "rename_watchlist", ("F2",),
           tip="Rename this watchlist"),
    Action("wl_delete",     W, "&Delete watchlist",     "delete_watchlist", (),
           tip="Delete this watchlist and its markets"),
    Listing("wl_switch",    W, ListKind.WATCHLISTS, "&Switch to"),
    Action("wl_next",       W, "Next watchlist",        "next_watchlist",   ("Ctrl+Tab",),
           tip="Switch to the next watchlist"),
    Action("add",           W, "&Add market…",          "add_market",       ("Ctrl+N", "Ins"),
           tip="Pick markets from what the venues list", separator=True),
    Action("remove",        W, "Re&move market",        "remove_market",    ("Del",),
           tip="Remove the selected market"),
    Action("up",            W, "Move &up",              "move_market_up",   ("Ctrl+Shift+Up",),
           tip="Move the selected market up the list"),
    Action("down",          W, "Move do&wn",            "move_market_down", ("Ctrl+Shift+Down",),
           tip="Move the selected market down the list"),
    Action("find",          W, "&Find…",                "find_market",      ("Ctrl+F",),
           tip="Filter the watchlist by market, venue or title", separator=True),
    Action("next",          W, "Ne&xt market",          "next_market",      ("Ctrl+PgDown", "Ctrl+J"),
           tip="Select the next market in the list"),
    Action("previous",      W, "Pre&vious market",      "previous_market",  ("Ctrl+PgUp", "Ctrl+K"),
           tip="Select the previous market in the list"),
    Action("clear_filter",  W, "&Clear filter",         "clear_filter",     ("Esc",),
           tip="Show every market again (the filter box empties)"),
    Action("import",        W, "&Import…",              "import_watchlist", (),
           tip="Add a watchlist from a file (venue:market lines, or JSON)", separator=True),
    Action("export",        W, "&Export…",              "export_watchlist", (),
           tip="Save this watchlist as venue:market lines"),
    Action("alert_new",     A, "&New alert…",           "alerts.new_alert", ("Ctrl+Shift+A",),
           tip="Alert on the selected market, at its price (edit the rule as you like)"),
    Action("alert_manage",  A, "&Manage alerts…",       "alerts.manage",    ("Ctrl+Shift+M",),
           tip="Enable, disable, edit, duplicate or delete alerts; their last firing and count"),
    Action("alert_ack",     A, "&Acknowledge all",      "alerts.acknowledge_all", ("Ctrl+Shift+Space",),
           tip="Mark every alert in the Alerts log as seen"),
    Action("alert_import",  A, "&Import alerts…",       "alerts.import_rules", (),
           tip="Add alerts from a file (an export, or one rule per line)", separator=True),
    Action("alert_export",  A, "&Export alerts…",       "alerts.export_rules", (),
           tip="Save every alert as JSON"),
    Action("replay_play",   R, "&Play / pause",         "replay.toggle_play", ("Space",),
           tip="Play or pause the recording"),
    Action("replay_step",   R, "&Step one frame",       "replay.step",      (".",),
           tip="Apply the next recorded frame, paused"),
    Action("replay_faster", R, "&Faster",               "replay.faster",    ("]",),
           tip="Next speed up: 1x, 2x, 10x, 100x, max"),
    Action("replay_slower", R, "S&lower",               "replay.slower",    ("[",),
           tip="Next speed down"),
    Action("replay_live",   R, "&Back to live",         "replay.back_to_live", ("Ctrl+L",),
           tip="Stop replaying and connect the active profile again", separator=True),
    Listing("docks",        V, ListKind.DOCKS),
    Listing("theme",        V, ListKind.THEMES, "&Theme", separator=True),
    Listing("flash",        V, ListKind.FLASH, "&Flashing"),
    Listing("columns",      V, ListKind.COLUMNS, "Watchlist &columns", separator=True),
    Action("compact",       V, "Co&mpact watchlist",    "toggle_compact",   (),
           tip="Only the key columns (the state stays beside each name)", state="compact_on"),
    Action("hold_order",    V, "&Hold order",           "toggle_hold_order", ("Ctrl+H",),
           tip="Keep the sorted rows where they are while prices change (also while the mouse is over "
               "the list)", state="order_held_by_user"),
    Action("strike_board",  V, "&Strike board",         "open_strike_board", ("Ctrl+B",),
           tip="The event of the selected Kalshi market: a row per strike, against the live Kraken price"),
    Action("zoom_in",       V, "Zoom &in",              "zoom_in",          ("Ctrl++", "Ctrl+="),
           tip="Larger text everywhere in the window (kept for next time)", separator=True),
    Action("zoom_out",      V, "Zoom &out",             "zoom_out",         ("Ctrl+-",),
           tip="Smaller text everywhere in the window"),
    Action("zoom_reset",    V, "&Actual size",          "zoom_reset",       ("Ctrl+0",),
           tip="Text back at its normal size"),
    Action("reset_layout",  V, "&Reset layout",         "reset_layout",     ("Ctrl+Shift+R",),
           tip="Put every dock and column back where it started", separator=True),
    Action("pane_open",     K, "&Open in new pane",     "panes.open_selected", ("Ctrl+Shift+O",),
           tip="Show the selected market in a pane of its own, unlinked (also middle-click a row)"),
    Action("ws_save_as",    K, "&Save workspace as…",   "workspace.save_as", (),
           tip="Keep the layout, the panes, their markets and links under a new name", separator=True),
    Listing("ws_switch",    K, ListKind.WORKSPACES, "S&witch to"),
    Action("ws_rename",     K, "&Rename workspace…",    "workspace.rename", (),
           tip="Rename this workspace"),
    Action("ws_delete",     K, "&Delete workspace",     "workspace.delete", (),
           tip="Delete this workspace and switch to another"),
    Action("ws_reset",      K, "Reset workspace to &default", "workspace.reset", (),
           tip="The built-in layout with no panes, in this workspace"),
    Action("shortcuts",     H, "&Keyboard shortcuts",   "show_shortcuts",   ("F1",),
           tip="List these keys"),
    Action("about",         H, "&About Market Monitor", "show_about",       (),
           tip="Version, build and libraries, for a bug report"),
)
# fmt: on

ACTIONS: tuple[Action, ...] = tuple(entry for entry in TABLE if isinstance(entry, Action))
REPLAY_ONLY = tuple(a.id for a in ACTIONS if a.menu is Menu.REPLAY)  # enabled while a recording plays


def with_shortcuts() -> list[Action]:
    return [a for a in ACTIONS if a.shortcuts]


def keys_text(action: Action) -> str:
    return ", ".join(action.shortcuts)


# ---------------------------------------------------------------------- building the menus


def install(window: QMainWindow, handlers: ActionHandlers) -> dict[str, QAction]:
    """Build the menu bar of ``window`` from ``TABLE``, calling ``handlers`` (usually the window itself).
    Returns every QAction made, by id."""
    made: dict[str, QAction] = {}
    menus = {menu: window.menuBar().addMenu(menu.value) for menu in Menu}
    for entry in TABLE:
        menu = menus[entry.menu]
        if entry.separator:
            menu.addSeparator()
        if isinstance(entry, Action):
            made[entry.id] = _action(window, menu, entry, handlers)
        else:
            made.update(_listing(window, menu, entry, handlers))
    return made


def _action(window: QMainWindow, menu: QMenu, entry: Action, handlers: ActionHandlers) -> QAction:
    run: object = handlers
    for name in entry.handler.split("."):  # a name the window lacks fails here, at start-up
        run = getattr(run, name)
    assert callable(run)
    action = QAction(entry.text, window)
    action.setObjectName(entry.id)
    action.setShortcuts([QKeySequence(k) for k in entry.shortcuts])
    action.setStatusTip(entry.tip)
    if entry.state:
        on = getattr(handlers, entry.state)
        action.setCheckable(True)
        action.setChecked(bool(on()))

        def toggle(_checked: bool = False) -> None:
            run()
            action.setChecked(bool(on()))  # the handler's word, not Qt's own flip

        action.triggered.connect(toggle)
    else:
        action.setCheckable(entry.checkable)
        action.triggered.connect(lambda _checked=False: run())
    menu.addAction(action)
    window.addAction(action)  # shortcuts work wherever focus is, even with the menu bar hidden
    return action


def _listing(
    window: QMainWindow, menu: QMenu, entry: Listing, handlers: ActionHandlers
) -> dict[str, QAction]:
    if entry.kind is ListKind.DOCKS:
        for toggle in handlers.dock_toggles():
            menu.addAction(toggle)
        return {}
    sub = menu.addMenu(entry.text)
    sub.setObjectName(entry.id)
    if entry.kind is ListKind.WATCHLISTS:
        sub.aboutToShow.connect(lambda: _fill_watchlists(sub, handlers))
        return {}
    if entry.kind is ListKind.COLUMNS:
        sub.aboutToShow.connect(lambda: _fill_columns(sub, handlers))
        return {}
    if entry.kind is ListKind.WORKSPACES:
        ws = handlers.workspace
        sub.aboutToShow.connect(lambda: _fill_choices(sub, ws.workspace_choices(), ws.switch_workspace))
        return {}
    made: dict[str, QAction] = {}
    group = QActionGroup(window)
    choose: Callable[[str], None]
    if entry.kind is ListKind.THEMES:
        choices, choose = handlers.theme_choices(), handlers.set_theme
    else:
        choices, choose = handlers.flash_choices(), handlers.set_flash
    for choice in choices:
        action = QAction(choice.label, window, checkable=True)
        action.setObjectName(f"{entry.id}_{choice.key}")
        action.setChecked(choice.checked)
        action.triggered.connect(lambda _checked=False, key=choice.key, pick=choose: pick(key))
        group.addAction(action)
        sub.addAction(action)
        made[action.objectName()] = action
    return made


def _fill_columns(menu: QMenu, handlers: ActionHandlers) -> None:
    """The same chooser as the watchlist header's context menu."""
    menu.clear()
    handlers.fill_column_menu(menu)


def _fill_watchlists(menu: QMenu, handlers: ActionHandlers) -> None:
    _fill_choices(menu, handlers.watchlist_choices(), handlers.switch_watchlist)


def _fill_choices(menu: QMenu, choices: list[Choice], pick: Callable[[str], None]) -> None:
    """One checkable item per choice, the current one checked; picking one calls ``pick(key)``."""
    menu.clear()
    for choice in choices:
        action = menu.addAction(choice.label)
        action.setCheckable(True)
        action.setChecked(choice.checked)
        action.triggered.connect(lambda _checked=False, key=choice.key: pick(key))


# ---------------------------------------------------------------------- help built from the table


def shortcuts_html() -> str:
    rows = "".join(
        f"<tr><td><b>{html.escape(keys_text(a))}</b>&nbsp;&nbsp;</td><td>{html.escape(a.label)}</td>"
        f"<td>&nbsp;&nbsp;{html.escape(a.tip)}</td></tr>"
        for a in with_shortcuts()
    )
    return f"<table>{rows}</table>"


def show_shortcuts(parent: QWidget) -> None:
    box = QMessageBox(parent)
    box.setObjectName("shortcutsBox")
    box.setWindowTitle("Keyboard shortcuts")
    box.setText(shortcuts_html())
    box.exec()


def shortcuts_markdown() -> str:
    """The README's shortcut table (tests/test_ui_actions.py checks the README holds exactly this)."""
    lines = ["| keys | action | what it does |", "|---|---|---|"]
    lines += [f"| {keys_text(a)} | {a.label} | {a.tip} |" for a in with_shortcuts()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m app.ui.actions > table.md: the table to paste into README.md
    print(shortcuts_markdown(), end="")
