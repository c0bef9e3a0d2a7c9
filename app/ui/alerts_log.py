"""The Alerts log: every firing, newest first (date and time, market, rule, the value that fired it,
acknowledged or not), capped; the dockable panel that shows it with how alerts reach the user."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTableView, QVBoxLayout, QWidget

from app.alerts.firing import Firing
from app.ui.table_base import BUY, DIM, SELL, WARN, Column, TableModel, make_table_view

LOG_ROWS = 1_000
WHEN, ACK, MARKET, VALUE, RULE = range(5)  # the rule last: it is the longest, and the least read


@dataclass(slots=True)
class Entry:
    firing: Firing
    acknowledged: bool = False
    replay: bool = False  # fired on a recording played in the window, not on live data


def when(received_ms: int) -> str:
    t = received_ms / 1000
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) + f".{received_ms % 1000:03d}"


class AlertsLogModel(TableModel):
    columns = (
        Column("When", "2026-11-21 00:00:00.000"),
        Column("Ack", "New", centered=True, tip="New until acknowledged (double-click, or Acknowledge all)"),
        Column("Market", "kalshi:KXBTCD-26DEC0317-T96499.99"),
        Column("Value", "fill: bought 191.7 at 78c"),
        Column("Rule", "kalshi:KXBTCD-26NOV21-T96500 bid above 55c once"),
    )

    def __init__(self, limit: int = LOG_ROWS) -> None:
        super().__init__()
        self.entries: deque[Entry] = deque()  # newest first
        self.limit = limit
        self.unacknowledged = 0

    def add(self, firing: Firing, *, replay: bool = False) -> None:
        self.beginInsertRows(QModelIndex(), 0, 0)
        self.entries.appendleft(Entry(firing, replay=replay))
        self.unacknowledged += 1
        self.endInsertRows()
        if len(self.entries) > self.limit:
            last = len(self.entries) - 1
            self.beginRemoveRows(QModelIndex(), last, last)
            if not self.entries.pop().acknowledged:
                self.unacknowledged -= 1
            self.endRemoveRows()

    def acknowledge(self, rows: list[int] | None = None) -> None:
        """Rows (or every row) as seen."""
        targets = range(len(self.entries)) if rows is None else rows
        changed = [r for r in targets if 0 <= r < len(self.entries) and not self.entries[r].acknowledged]
        for r in changed:
            self.entries[r].acknowledged = True
        self.unacknowledged -= len(changed)
        if changed:
            self.dataChanged.emit(self.index(min(changed), ACK), self.index(max(changed), ACK))

    # ---------------------------------------------------------------- TableModel

    def row_count(self) -> int:
        return len(self.entries)

    def cell(self, row: int, col: int) -> str:
        entry = self.entries[row]
        f = entry.firing
        if col == WHEN:
            return when(f.received_ms)
        if col == MARKET:
            return f"REPLAY {f.market}" if entry.replay else f.market
        if col == RULE:
            return f.rule.text
        if col == VALUE:
            return f.shown
        return "" if entry.acknowledged else "New"

    def tone(self, row: int, col: int) -> str | None:
        entry = self.entries[row]
        if col == VALUE:
            return BUY if entry.firing.up else SELL
        if col == ACK and not entry.acknowledged:
            return WARN
        return DIM if entry.acknowledged else None

    def tooltip(self, row: int, col: int) -> str | None:
        f = self.entries[row].firing
        exchange = "" if f.ts_ms is None else f"; exchange time {when(f.ts_ms)}"
        trade = f"; trade {f.trade_id}" if f.trade_id else ""
        return f"value {f.value}{exchange}{trade}"

    def raw(self, row: int) -> object:
        return self.entries[row].firing


class AlertsLogPanel(QWidget):
    """The dock's widget: how alerts reach the user, the log, and Acknowledge all."""

    acknowledged = Signal()

    def __init__(self, model: AlertsLogModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.channel = QLabel("Alerts notify through the Alerts log only")
        self.channel.setObjectName("alertsChannel")
        self.channel.setWordWrap(True)
        self.ack_all = QPushButton("Acknowledge all")
        self.ack_all.setObjectName("alertsAckAll")
        self.ack_all.clicked.connect(self._ack_all)
        self.view: QTableView = make_table_view(model, self)
        self.view.setObjectName("alertsLog")
        self.view.doubleClicked.connect(self._ack_row)
        top = QHBoxLayout()
        top.addWidget(self.channel, 1)
        top.addWidget(self.ack_all)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)

    def _ack_all(self) -> None:
        self.model.acknowledge()
        self.acknowledged.emit()

    def _ack_row(self, index: QModelIndex) -> None:
        self.model.acknowledge([index.row()])
        self.acknowledged.emit()


def status_text(unacknowledged: int) -> str:
    return "" if not unacknowledged else f"{unacknowledged} new alert{'s' if unacknowledged != 1 else ''}"
