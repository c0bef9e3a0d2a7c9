"""The Workspace menu: save as, switch, rename, delete, reset to default; and the current workspace kept
across restarts (app/user/workspaces.py keeps the files).

The workspace on screen is saved as it is when the window closes and before another is switched to, so
a switch never loses the panes just arranged; "Save as…" starts a new one from what is on screen.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QObject, Qt
from PySide6.QtWidgets import QMessageBox

from app.ui.actions import Choice
from app.ui.name_dialog import ask_name
from app.ui.price_chart import WINDOWS
from app.user.workspaces import DEFAULT, PaneSpec, Workspace, WorkspaceError, Workspaces, clean_name

DEFAULT_INTERVAL = "5m"  # the Price dock's window in the built-in layout


class WorkspaceController(QObject):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        # The MainWindow (typed loosely: the window imports this module, never the other way round).
        self.window = window
        self.store = Workspaces(window.config_dir)
        self.name = DEFAULT

    # ------------------------------------------------------------------ start and close

    def restore(self) -> None:
        """At start: the workspace the window showed last (or the default), any damage said once."""
        self.name = self.store.current()
        self.apply(self.store.load(self.name))
        self._say_problems()

    def save_current(self) -> None:
        try:
            self.store.save(self.capture())
            self.store.set_current(self.name)
        except OSError as exc:
            self.window.statusBar().showMessage(
                f"Could not save the workspace: {exc.strerror or exc}", 10_000
            )

    # ------------------------------------------------------------------ screen <-> Workspace

    def capture(self) -> Workspace:
        w = self.window
        panes = [
            PaneSpec(p.pane_id, p.ref, sorted(p.contents), p.group, p.interval)
            for p in w.panes.panes.values()
        ]
        state = base64.b64encode(bytes(w.saveState().data())).decode("ascii")
        return Workspace(self.name, state, panes, w.chart.window_combo.currentText())

    def apply(self, workspace: Workspace) -> None:
        """Replace what is on screen with ``workspace``: its panes (docked where it had them), markets,
        contents, intervals and links."""
        w, panes = self.window, self.window.panes
        panes.close_all()
        panes.links.clear()
        panes.watchlist_selected(w.selected)  # group 1 is the watchlist's, whatever was saved
        for spec in workspace.panes:
            pane = panes.open_pane(
                spec.market,
                group=spec.link,
                contents=spec.contents,
                interval=spec.interval,
                pane_id=spec.id,
                place=False,
            )
            w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, pane)  # restoreState moves it
        state = workspace.state_bytes()
        if not state or not w.restoreState(QByteArray(state)):
            w.restoreState(w._default_state)
            for pane in panes.panes.values():
                pane.show()
        interval = workspace.chart_interval if workspace.chart_interval in WINDOWS else DEFAULT_INTERVAL
        w.chart.window_combo.setCurrentText(interval)
        self.name = workspace.name

    # ------------------------------------------------------------------ the menu

    def workspace_choices(self) -> list[Choice]:
        names = self.store.names()
        if self.name not in names:
            names = sorted([*names, self.name], key=str.casefold)
        return [Choice(n, n, n == self.name) for n in names]

    def switch_workspace(self, name: str) -> None:
        if name == self.name:
            return
        self.save_current()
        self.apply(self.store.load(name))
        self.store.set_current(name)
        self._say_problems()
        self.window.statusBar().showMessage(f"Workspace “{name}”", 4_000)

    def save_as(self, name: str | None = None) -> None:
        if name is None:
            name = ask_name(self.window, "Save workspace as", "Name:", "", self._name_problem(None))
            if name is None:
                return
        name = clean_name(name)
        self.save_current()  # the one being left keeps what it had on screen too
        self.name = name
        self.save_current()
        self.window.statusBar().showMessage(f"Saved workspace “{name}”", 4_000)

    def rename(self, name: str | None = None) -> None:
        old = self.name
        if name is None:
            name = ask_name(self.window, "Rename workspace", "New name:", old, self._name_problem(old))
            if name is None:
                return
        self.save_current()
        try:
            self.name = self.store.rename(old, name)
        except WorkspaceError as exc:
            QMessageBox.warning(self.window, "Rename workspace", str(exc))
            return
        self.store.set_current(self.name)

    def delete(self, confirm: bool = True) -> None:
        name = self.name
        if confirm:
            answer = QMessageBox.question(
                self.window, "Delete workspace", f"Delete the workspace “{name}” and its layout?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.store.delete(name)
        others = [n for n in self.store.names() if n != name]
        following = others[0] if others else DEFAULT
        self.apply(self.store.load(following))
        self.save_current()
        self.window.statusBar().showMessage(f"Deleted workspace “{name}”; now “{following}”", 6_000)

    def reset(self) -> None:
        """The built-in layout, no panes, in the current workspace."""
        self.apply(Workspace(self.name))
        self.save_current()

    # ------------------------------------------------------------------ internals

    def _name_problem(self, current: str | None) -> Callable[[str], str | None]:
        def problem(text: str) -> str | None:
            try:
                name = clean_name(text)
            except ValueError as exc:
                return str(exc).capitalize()
            if name != current and (self.store.exists(name) or name == self.name):
                return f"A workspace named “{name}” already exists"
            return None

        return problem

    def _say_problems(self) -> None:
        problems = self.store.take_problems()
        if problems:
            self.window.statusBar().showMessage("; ".join(problems), 20_000)


def install(window: Any) -> WorkspaceController:
    return WorkspaceController(window)
