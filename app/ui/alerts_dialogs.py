"""Alerts → New alert… (one rule, checked as it is typed) and Manage alerts… (every rule: enable,
disable, edit, duplicate, delete, with its last firing and count; import and export)."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.alerts.grammar import GRAMMAR, RuleError, parse
from app.alerts.rules import Rule
from app.alerts.ticks import Ticks
from app.ui.table_base import DIM, WARN, Column, TableModel, make_table_view

Check = Callable[[Rule], str | None]  # why a parsed rule can't be armed here (its market's grid), or None


class AlertDialog(QDialog):
    """One rule as text, checked on every keystroke; OK only when it can be armed."""

    def __init__(
        self,
        text: str = "",
        *,
        sound: bool = True,
        check: Check | None = None,
        title: str = "New alert",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("alertDialog")
        self.setWindowTitle(title)
        self.check = check
        self.rule: Rule | None = None
        self.edit = QLineEdit(text)
        self.edit.setObjectName("alertRule")
        self.edit.setPlaceholderText("kalshi:TICKER bid above 55c once")
        self.edit.setMinimumWidth(520)
        self.verdict = QLabel()
        self.verdict.setObjectName("alertVerdict")
        self.verdict.setWordWrap(True)
        self.sound = QCheckBox("Play a sound when it fires (rising for up, falling for down)")
        self.sound.setObjectName("alertSound")
        self.sound.setChecked(sound)
        grammar = QPlainTextEdit(GRAMMAR)
        grammar.setReadOnly(True)
        grammar.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        grammar.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        grammar.setMinimumHeight(150)
        widest = max(grammar.fontMetrics().horizontalAdvance(line) for line in GRAMMAR.splitlines())
        grammar.setMinimumWidth(widest + 24)  # every line readable without scrolling
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Rule:"))
        layout.addWidget(self.edit)
        layout.addWidget(self.verdict)
        layout.addWidget(self.sound)
        layout.addWidget(grammar, 1)
        layout.addWidget(self.buttons)
        self.edit.textChanged.connect(self._check)
        self._check(text)
        self.resize(self.sizeHint().width(), 440)

    def _check(self, text: str) -> None:
        ok = False
        try:
            rule = parse(text)
            problem = self.check(rule) if self.check is not None else None
            if problem is None:
                self.rule, ok = rule, True
                self.verdict.setText(f"Fires {describe(rule)}.")
            else:
                self.verdict.setText(problem)
        except RuleError as exc:
            self.verdict.setText(str(exc) if text.strip() else "Type a rule (the grammar is below).")
        if not ok:
            self.rule = None
        self.verdict.setStyleSheet("" if ok else "color: #d08a1e;")
        ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok_button.setEnabled(ok)


def describe(rule: Rule) -> str:
    """A rule's firing policy in words, for the dialog's verdict line."""
    parts = ["once, then it is done" if rule.mode.value == "once" else "every time, re-armed past its band"]
    if rule.cooldown_s:
        parts.append(f"no more often than every {rule.cooldown_s:g} s")
    if rule.expires_at is not None:
        parts.append(f"until {time.strftime('%Y-%m-%d %H:%M', time.localtime(rule.expires_at))}")
    if rule.initial:
        parts.append("also when a snapshot finds it already true")
    return ", ".join(parts)


# ---------------------------------------------------------------------- manage

ON, TEXT, SOUND, FIRED, LAST, STATE = range(6)


class RulesModel(TableModel):
    columns = (
        Column("On", "Off", centered=True),
        Column("Rule", "kalshi:KXBTCD-26NOV2117-T96500 bid above 55c once cooldown 30s"),
        Column("Sound", "Off", centered=True),
        Column("Fired", "0000", numeric=True),
        Column("Last fired", "2026-11-21 00:00:00"),
        Column("State", "done (fired once)"),
    )

    def __init__(self, rules: list[Rule]) -> None:
        super().__init__()
        self.rules = rules  # the settings' own list: edits here are the edits saved

    def reset(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def row_count(self) -> int:
        return len(self.rules)

    def cell(self, row: int, col: int) -> str:
        rule = self.rules[row]
        if col == ON:
            return "On" if rule.enabled else "Off"
        if col == TEXT:
            return rule.text
        if col == SOUND:
            return "On" if rule.sound else "Off"
        if col == FIRED:
            return str(rule.fired)
        if col == LAST:
            return (
                ""
                if rule.last_fired_at is None
                else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(rule.last_fired_at))
            )
        return state(rule)

    def tone(self, row: int, col: int) -> str | None:
        rule = self.rules[row]
        if not rule.active:
            return DIM
        return WARN if col == STATE and rule.fired else None

    def raw(self, row: int) -> object:
        return self.rules[row]


def state(rule: Rule) -> str:
    if rule.done:
        return "expired" if rule.expired(time.time()) and not rule.fired else "done (fired once)"
    if not rule.enabled:
        return "off"
    return "armed"


class ManageAlertsDialog(QDialog):
    """The rules in a table; every change goes to ``changed`` (the controller re-arms and saves)."""

    def __init__(
        self,
        rules: list[Rule],
        *,
        ticks: Ticks | None = None,
        changed: Callable[[], None],
        import_export: tuple[Callable[[], None], Callable[[], None]] | None = None,
        set_aside: list[str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("manageAlerts")
        self.setWindowTitle("Manage alerts")
        self.rules, self.ticks, self.changed = rules, ticks, changed
        self.model = RulesModel(rules)
        self.view = make_table_view(self.model, self)
        self.view.setObjectName("alertsRules")
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.doubleClicked.connect(lambda _index: self.edit_selected())
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        actions: list[tuple[str, Callable[[], None]]] = [
            ("New…", self.new),
            ("Edit…", self.edit_selected),
            ("Duplicate", self.duplicate),
            ("Delete", self.delete),
            ("Enable/disable", self.toggle),
            ("Sound on/off", self.toggle_sound),
        ]
        if import_export is not None:
            actions += [("Import…", self._wrap(import_export[0])), ("Export…", import_export[1])]
        for label, run in actions:
            button = QPushButton(label)
            button.setObjectName(f"alerts_{label.split('…')[0].split('/')[0].split(' ')[0].lower()}")
            button.clicked.connect(lambda _checked=False, run=run: run())
            row.addWidget(button)
            self.buttons[label] = button
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if set_aside:
            note = QLabel("Set aside (kept in settings.json, not armed): " + "; ".join(set_aside[:5]))
            note.setObjectName("alertsSetAside")
            note.setWordWrap(True)
            note.setStyleSheet("color: #d08a1e;")
            layout.addWidget(note)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)
        layout.addWidget(close)
        for col, width in ((ON, 40), (TEXT, 440), (SOUND, 56), (FIRED, 56), (LAST, 160)):
            self.view.setColumnWidth(col, width)
        self.resize(1000, 420)

    def _wrap(self, run: Callable[[], None]) -> Callable[[], None]:
        def wrapped() -> None:
            run()
            self.model.reset()

        return wrapped

    def selected(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _check(self, rule: Rule) -> str | None:
        t = rule.target
        if self.ticks is None or not t.single or t.venue is None or t.market is None:
            return None
        return self.ticks.problem(rule, t.venue, t.market)

    def _done(self) -> None:
        self.model.reset()
        self.changed()

    def new(self) -> None:
        dialog = AlertDialog(check=self._check, parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.rule is not None:
            dialog.rule.sound = dialog.sound.isChecked()
            self.rules.append(dialog.rule)
            self._done()

    def edit_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        old = self.rules[row]
        dialog = AlertDialog(old.text, sound=old.sound, check=self._check, title="Edit alert", parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.rule is not None:
            new = dialog.rule
            new.id, new.sound, new.enabled = old.id, dialog.sound.isChecked(), old.enabled
            if new.text == old.text:  # only the sound changed: keep the record
                new.fired, new.last_fired_at, new.done = old.fired, old.last_fired_at, old.done
            self.rules[row] = new
            self._done()

    def duplicate(self) -> None:
        row = self.selected()
        if row is None:
            return
        old = self.rules[row]
        copy = parse(old.text)
        copy.sound, copy.enabled = old.sound, old.enabled
        self.rules.insert(row + 1, copy)
        self._done()

    def delete(self) -> None:
        row = self.selected()
        if row is not None:
            del self.rules[row]
            self._done()

    def toggle(self) -> None:
        row = self.selected()
        if row is not None:
            rule = self.rules[row]
            rule.enabled = not rule.enabled
            if rule.enabled and rule.done and not rule.expired(time.time()):
                rule.done = False  # enabling a finished "once" rule arms it again
            self._done()

    def toggle_sound(self) -> None:
        row = self.selected()
        if row is not None:
            self.rules[row].sound = not self.rules[row].sound
            self._done()
