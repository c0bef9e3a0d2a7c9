"""The live tables (app/ui/tables.py): tape, fills, positions and health models and their view.

Two halves: model unit tests on a MarketStore filled with real core events (exact signal counts), then
the same models against the real simulator and stream engine (live data, a reconnect, injected faults).
Every model also runs under Qt's QAbstractItemModelTester, which keeps checking on every later signal.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.core import store as store_mod
from app.core.events import (
    Balance,
    Fill,
    Position,
    RecoveryAction,
    RecoveryKind,
    SequenceGap,
    TakerSide,
    Trade,
)
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.launch.launcher import Launch, launch
from app.sim.faults import FaultSpec
from app.sim.server import SimOptions
from app.ui import theme
from app.ui.keyed_model import KeyedTableModel, RowView
from app.ui.statusbar import VenueStatus
from app.ui.table_base import Column
from app.ui.tables import (
    ROW_HEIGHT,
    FillsModel,
    HealthModel,
    PositionsModel,
    RawRole,
    TableModel,
    TradeTapeModel,
    make_table_view,
)
from app.ui.watchlist_model import C_STATUS, WatchlistModel
from app.user.secret_store import SecretStore
from app.user.settings import MarketRef, Profile
from tests.qtsupport import pump_until, run_on

K, X = Venue.KALSHI, Venue.KRAKEN
BTC = "BTC/USD"


class Signals:
    """Counts a model's row signals, so a test can say 'exactly one insert per refresh'."""

    def __init__(self, model: TableModel) -> None:
        self.inserted: list[tuple[int, int]] = []
        self.removed: list[tuple[int, int]] = []
        self.changed: list[tuple[int, int]] = []
        self.resets = 0
        model.rowsInserted.connect(lambda _p, first, last: self.inserted.append((first, last)))
        model.rowsRemoved.connect(lambda _p, first, last: self.removed.append((first, last)))
        # Whether each removal took the bottom rows (checked before they go).
        self.at_bottom: list[bool] = []
        model.rowsAboutToBeRemoved.connect(
            lambda _p, _f, last: self.at_bottom.append(last == model.rowCount() - 1)
        )
        model.dataChanged.connect(lambda a, b, _r=(): self.changed.append((a.row(), b.row())))
        model.modelReset.connect(self._reset)

    def _reset(self) -> None:
        self.resets += 1

    def clear(self) -> None:
        self.inserted.clear()
        self.removed.clear()
        self.changed.clear()
        self.at_bottom.clear()
        self.resets = 0


@pytest.fixture
def checked(qtmodeltester: Any) -> Any:
    """``checked(model)`` puts a model under Qt's QAbstractItemModelTester for the rest of the test; pytest-qt
    fails the test on any complaint (e.g. an insert whose announced range differs from the rows added)."""

    def check(model: TableModel) -> TableModel:
        qtmodeltester.check(model)
        return model

    return check


def trade(n: int, market: str = BTC, venue: Venue = X, side: TakerSide | None = TakerSide.BUY) -> Trade:
    return Trade(
        venue, market, str(n), Decimal("67000.1") + n, Decimal("0.00150000"), side, 1_700_000_000_000 + n, n
    )


def fill(
    n: int, venue: Venue = X, market: str = BTC, price: str = "67000.5", size: str = "0.01000000"
) -> Fill:
    ts_ms = 1_700_000_000_000 + n * 1000
    side = TakerSide.BUY if n % 2 else TakerSide.SELL
    return Fill(
        venue,
        market,
        f"F{n}",
        f"O{n}",
        Decimal(price),
        Decimal(size),
        side,
        n % 3 == 0,
        Decimal("0.1"),
        None,
        ts_ms,
    )


def fills_changed(store: MarketStore) -> bool:
    return store.fills_changed  # read through a call: mypy would narrow the attribute between asserts


def num(text: str) -> float:
    """A table's number text back to a number (the dash of 'no value yet' is 0)."""
    return 0.0 if text == "–" else float(text.replace(",", ""))


def texts(model: TableModel, row: int) -> list[str]:
    return [model.data(model.index(row, c)) for c in range(model.columnCount())]


# ====================================================================== the trade tape


def test_tape_shows_the_store_tape_newest_first_one_insert_per_refresh(checked: Any) -> None:
    store = MarketStore()
    model = checked(TradeTapeModel())
    signals = Signals(model)
    model.set_market(X, BTC)
    assert model.refresh(store) == 0 and model.rowCount() == 0  # nothing for this market yet

    store.apply(X, [trade(n) for n in range(1, 6)] + [trade(99, market="ETH/USD")])
    assert model.refresh(store) == 5
    assert signals.inserted == [(0, 4)]  # one batched insert
    assert [model.trade_at(r).trade_id for r in range(5)] == ["5", "4", "3", "2", "1"]
    assert model.refresh(store) == 0 and signals.inserted == [(0, 4)]  # nothing new: no signal

    store.apply(X, [trade(n) for n in range(6, 9)])
    model.refresh(store)
    assert signals.inserted == [(0, 4), (0, 2)]
    state = store.markets[(X, BTC)]
    assert [model.trade_at(r) for r in range(model.rowCount())] == list(reversed(state.tape))
    assert texts(model, 0) == [model.column_texts(0)[0], "67,008.1", "0.00150000", "Buy"]
    assert model.data(model.index(0, 1), RawRole) is state.tape[-1]
    buy = model.data(model.index(0, 1), Qt.ItemDataRole.ForegroundRole)
    assert buy.name() == theme.current().bid.lower()
    assert model.data(model.index(0, 1), Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight


def test_tape_caps_rows_and_drops_the_oldest_in_one_removal(checked: Any) -> None:
    store = MarketStore()
    model = checked(TradeTapeModel(limit=10))
    signals = Signals(model)
    model.set_market(X, BTC)
    store.apply(X, [trade(n) for n in range(1, 9)])
    model.refresh(store)
    store.apply(X, [trade(n) for n in range(9, 14)])  # 8 + 5 = 13 > 10
    model.refresh(store)
    assert signals.removed == [(5, 7)]  # the three oldest, at the bottom, at once (before the insert)
    assert signals.inserted == [(0, 7), (0, 4)]
    assert [model.trade_at(r).trade_id for r in range(10)] == [str(n) for n in range(13, 3, -1)]
    store.apply(X, [trade(n) for n in range(14, 40)])  # more than the cap in one go
    model.refresh(store)
    assert [model.trade_at(r).trade_id for r in range(10)] == [str(n) for n in range(39, 29, -1)]


def test_tape_starts_over_when_more_arrived_than_the_store_keeps(checked: Any) -> None:
    store = MarketStore()
    model = checked(TradeTapeModel())
    signals = Signals(model)
    model.set_market(X, BTC)
    store.apply(X, [trade(n) for n in range(1, 4)])
    model.refresh(store)
    signals.clear()
    # More than the store's 500-trade deque between two refreshes: the rows in between are lost.
    store.apply(X, [trade(n) for n in range(4, 4 + store_mod.TAPE_LIMIT + 50)])
    model.refresh(store)
    assert signals.resets == 1
    tape = store.markets[(X, BTC)].tape
    assert [model.trade_at(r) for r in range(model.rowCount())] == list(reversed(tape))
    assert model.rowCount() == store_mod.TAPE_LIMIT


def test_tape_switches_market_and_shows_kalshi_in_cents(checked: Any) -> None:
    store = MarketStore()
    model = checked(TradeTapeModel())
    ticker = "KXBTCD-TEST-T90000"
    store.apply(
        K, [Trade(K, ticker, "t1", Decimal("0.8750"), Decimal("12.00"), TakerSide.SELL, 1_700_000_000_000)]
    )
    store.apply(X, [trade(1)])
    model.set_market(K, ticker)
    model.refresh(store)
    assert texts(model, 0)[1:] == ["87.5¢", "12", "No"]
    sell = model.data(model.index(0, 3), Qt.ItemDataRole.ForegroundRole)
    assert sell.name() == theme.current().ask.lower()
    assert "87.5%" in model.data(model.index(0, 1), Qt.ItemDataRole.ToolTipRole)
    model.set_market(X, BTC)
    assert model.rowCount() == 0
    model.refresh(store)
    assert model.trade_at(0).market == BTC and model.rowCount() == 1
    model.set_market(None, None)
    assert model.rowCount() == 0 and model.refresh(store) == 0


def test_tape_pads_a_sub_cent_market_so_decimals_line_up(checked: Any) -> None:
    store = MarketStore()
    model = checked(TradeTapeModel())
    signals = Signals(model)
    ticker = "KXSUBCENT"
    model.set_market(K, ticker)

    def kalshi(n: int, price: str, size: str) -> Trade:
        return Trade(K, ticker, str(n), Decimal(price), Decimal(size), TakerSide.BUY, 1_700_000_000_000 + n)

    store.apply(K, [kalshi(1, "0.8700", "10.00"), kalshi(2, "0.8800", "3.00")])
    model.refresh(store)
    assert model.column_texts(1) == ["88¢", "87¢"] and model.column_texts(2) == ["3", "10"]
    store.apply(K, [kalshi(3, "0.8750", "2.50")])
    model.refresh(store)
    assert model.column_texts(1) == ["87.5¢", "88.0¢", "87.0¢"]
    assert model.column_texts(2) == ["2.5", "3.0", "10.0"]
    assert signals.changed == [(1, 2)]  # the older rows, redrawn with the new decimals


# ====================================================================== fills


def test_fills_insert_only_new_ones_once_and_reset_the_flag(checked: Any) -> None:
    store = MarketStore()
    model = checked(FillsModel())
    signals = Signals(model)
    assert model.refresh(store) == 0
    store.apply(X, [fill(1), fill(2)])
    store.apply(K, [fill(3, K, "KXTEST", "0.4250", "25.00")])
    assert fills_changed(store)
    assert model.refresh(store) == 3
    assert not fills_changed(store)  # the consumer resets it
    assert signals.inserted == [(0, 2)]
    assert model.fill_ids() == [(K, "F3"), (X, "F2"), (X, "F1")]
    assert model.refresh(store) == 0
    store.apply(X, [fill(1), fill(2)])  # duplicates (a reconnect's snapshot) change nothing
    assert model.refresh(store) == 0 and model.rowCount() == 3
    store.apply(X, [fill(4)])
    assert model.refresh(store) == 1 and signals.inserted[-1] == (0, 0)
    row = texts(model, 0)
    assert row[1:] == ["Kraken", BTC, "Sell", "67,000.5", "0.01000000", "0.1", "Maker", "O4"]
    assert texts(model, 1)[1:4] == ["Kalshi", "KXTEST", "Yes"]
    assert texts(model, 1)[4:8] == ["42.5¢", "25", "$0.10", "Taker"]
    assert "F4" in model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)


def test_fills_backfilled_late_go_where_their_time_says(checked: Any) -> None:
    store = MarketStore()
    model = checked(FillsModel())
    signals = Signals(model)
    store.add_fills([fill(10), fill(20), fill(30)])
    model.refresh(store)
    # After a reconnect: a live fill (40) first, then REST returns ones missed during the outage.
    store.add_fills([fill(40)])
    store.add_fills([fill(25), fill(35)])
    signals.clear()
    model.refresh(store)
    assert [f for _, f in model.fill_ids()] == ["F40", "F35", "F30", "F25", "F20", "F10"]
    assert signals.inserted == [(1, 1), (0, 1)]  # two runs, bottom-up: F25, then F40 + F35 on top


def test_fills_are_capped_and_reload_when_the_store_dropped_what_we_knew(checked: Any) -> None:
    store = MarketStore(fills_limit=8)
    model = checked(FillsModel(limit=5))
    signals = Signals(model)
    store.add_fills([fill(n) for n in range(1, 4)])
    model.refresh(store)
    store.add_fills([fill(n) for n in range(4, 8)])
    model.refresh(store)
    assert [f for _, f in model.fill_ids()] == ["F7", "F6", "F5", "F4", "F3"]
    assert signals.removed == [(5, 6)]
    store.add_fills([fill(n) for n in range(8, 17)])  # the store forgets F7, the newest the model took
    assert (X, "F7") not in store.fills
    model.refresh(store)
    assert signals.resets == 1
    assert [f for _, f in model.fill_ids()] == ["F16", "F15", "F14", "F13", "F12"]


# ====================================================================== positions and balances


def test_positions_rows_follow_the_store_with_ranged_changes(checked: Any) -> None:
    store = MarketStore()
    model = checked(PositionsModel())
    signals = Signals(model)
    store.apply(
        K,
        [
            Position(
                K,
                "KXB",
                Decimal("12.00"),
                Decimal("6.1200"),
                Decimal("-0.4000"),
                Decimal("0.0700"),
                Decimal("40"),
            )
        ],
    )
    store.apply(X, [Balance(X, "USD", Decimal("250000.0000"), Decimal("-12.5"), 1_700_000_000_000)])
    assert model.refresh(store)
    assert signals.inserted == [(0, 2)]  # the account total (first), the position and the balance
    # No book and no trade for KXB yet: no mark, so no value; USD is its own mark.
    assert texts(model, 0) == [
        "",
        "Account total (USD), 1 unpriced",
        "",
        "",
        "$250,000.00",
        "$6.12",
        "–",
        "-$0.40",
        "$0.07",
    ]
    assert texts(model, 1) == ["Kalshi", "KXB", "12 Yes", "–", "–", "$6.12", "–", "-$0.40", "$0.07"]
    assert texts(model, 2) == ["Kraken", "USD", "250,000.0000", "", "$250,000.00", "", "", "", ""]
    assert "-12.5" in model.data(model.index(2, 0), Qt.ItemDataRole.ToolTipRole)
    assert "KXB" in model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)  # what the total leaves out
    assert not model.refresh(store) and signals.changed == []  # nothing new: nothing emitted

    store.apply(
        K, [Position(K, "KXA", Decimal("-3"), Decimal("1.50"), Decimal("0"), Decimal("0.02"))]
    )  # sorts first
    store.apply(K, [Position(K, "KXB", Decimal("10.00"), Decimal("5.10"), Decimal("1.2"), Decimal("0.08"))])
    model.refresh(store)
    assert signals.inserted[-1] == (1, 1)
    assert signals.changed == [(0, 2)]  # the total through the KXB row (the KXA row between is new)
    assert texts(model, 1)[2] == "3 No" and texts(model, 2)[2] == "10 Yes"
    assert [texts(model, 2)[i] for i in (5, 7)] == ["$5.10", "+$1.20"]
    pnl = model.data(model.index(2, 7), Qt.ItemDataRole.ForegroundRole)
    assert pnl.name() == theme.current().bid.lower()
    assert [model.data(model.index(r, 1)) for r in range(1, 4)] == ["KXA", "KXB", "USD"]
    # A trade gives KXB a mark (no book yet): 10 YES at 62¢ are worth $6.20, $1.10 over their cost.
    store.apply(K, [Trade(K, "KXB", "t1", Decimal("0.62"), Decimal("1"), None, 1_700_000_000_000)])
    model.refresh(store)
    assert texts(model, 2)[3:7] == ["62¢", "$6.20", "$5.10", "+$1.10"]


def test_keyed_sync_removes_inserts_and_changes_in_runs(checked: Any) -> None:
    class Two(KeyedTableModel):
        columns = (Column("a", "aaa"), Column("b", "bbb"))

    model = checked(Two())
    signals = Signals(model)

    def view(key: str, v: str = "") -> tuple[str, RowView]:
        return (key, RowView((key, v)))

    model.sync([view("a"), view("c"), view("d"), view("f")])
    model.sync([view("a"), view("b"), view("c", "x"), view("e"), view("f", "y")])
    assert signals.removed == [(2, 2)]  # d
    assert signals.inserted == [(0, 3), (1, 1), (3, 3)]
    assert signals.changed == [(2, 4)]  # c .. f in one range
    assert model.column_texts(0) == ["a", "b", "c", "e", "f"]
    model.sync([view("f"), view("a")])  # a caller reordering keys gets a reset, never a wrong table
    assert model.column_texts(0) == ["f", "a"]


# ====================================================================== health (store only)


def test_health_rows_from_the_store_alone(checked: Any) -> None:
    store = MarketStore()
    model = checked(HealthModel(min_interval_s=0))
    store.apply(X, [trade(1)])
    store.apply(K, [SequenceGap(K, 3, 10, 12, "orderbook_delta", ["KXB"])])
    store.apply(K, [RecoveryAction(K, RecoveryKind.RESNAPSHOT, "gap", ["KXB"], 3, "orderbook_delta")])
    assert model.refresh(store, None)
    rows = {
        (model.data(model.index(r, 0)), model.data(model.index(r, 1))): texts(model, r)
        for r in range(model.rowCount())
    }
    book = rows[("Kalshi", "book")]
    assert book[2] == "–" and book[5] == "1" and book[7] == "1"  # no link; one gap, one resync
    assert rows[("Kraken", "trade")][4].endswith(" s")
    assert list(rows) == [("Kalshi", "book"), ("Kraken", "trade")]  # venue order, then kind order


# ====================================================================== against the simulator


@pytest.fixture
def live(qloop: asyncio.AbstractEventLoop) -> Iterator[Launch]:
    """The simulator (fast, so the account trades within a second) and the engine, both venues live."""
    options = SimOptions(seed=5, rate=2000, markets=6)  # few Kalshi markets: each one trades often
    started = run_on(
        qloop, launch(Profile("Simulator"), SecretStore(), {K: [], X: [BTC]}, sim_options=options)
    )
    try:
        run_on(qloop, started.engine.wait_live(10))
        yield started
    finally:
        run_on(qloop, started.stop())


def test_live_tape_matches_the_store_with_one_insert_per_refresh(
    qtbot: Any, qloop: asyncio.AbstractEventLoop, live: Launch, checked: Any
) -> None:
    assert live.sim is not None
    store = live.engine.store
    ticker = next(iter(live.sim.market.kalshi))
    run_on(qloop, live.engine.watch(K, [ticker]))
    for venue, market, limit in ((X, BTC, 40), (K, ticker, 12)):
        model = checked(TradeTapeModel(limit=limit))
        signals = Signals(model)
        model.set_market(venue, market)
        refreshes = 0

        def step(model: TradeTapeModel = model, signals: Signals = signals) -> bool:
            nonlocal refreshes
            before = len(signals.inserted)
            added = model.refresh(store)
            assert len(signals.inserted) - before == (1 if added else 0)  # batched, whatever arrived
            refreshes += 1 if added else 0
            return refreshes >= 4 and bool(signals.removed)  # past the cap, old rows dropped

        pump_until(step, 15)
        tape = list(reversed(store.markets[(venue, market)].tape))
        model.refresh(store)
        assert [model.trade_at(r) for r in range(model.rowCount())] == tape[: model.limit]
        assert model.rowCount() == model.limit
        assert all(signals.at_bottom)  # the oldest rows, always
        price = model.data(model.index(0, 1))
        assert price.endswith("¢") if venue is K else "," in price


def test_live_fills_positions_never_duplicate_after_a_reconnect(
    qtbot: Any, qloop: asyncio.AbstractEventLoop, live: Launch, checked: Any
) -> None:
    assert live.sim is not None
    sim, store = live.sim, live.engine.store
    fills = checked(FillsModel())
    positions = checked(PositionsModel())

    def both_venues_filled() -> bool:
        fills.refresh(store)
        return {v for v, _ in fills.fill_ids()} == {K, X}

    pump_until(both_venues_filled, 15)
    truth = {f.trade_id for f in sim.market.kalshi_fills} | {
        str(r["exec_id"]) for r in sim.market.kraken_account.executions
    }
    assert {fid for _, fid in fills.fill_ids()} <= truth  # every row is a fill the account really made

    # Drop both connections once: Kraken's executions snapshot then repeats fills we already have, and
    # Kalshi's catch-up over REST overlaps the live fills.
    before = {link.name: link.reconnects for link in live.engine.links}
    sim.faults.set([FaultSpec.parse(f"drop:every=0.1,count=1,venue={v.value}") for v in (K, X)])
    pump_until(lambda: all(lk.reconnects > before[lk.name] for lk in live.engine.links), 10)
    run_on(qloop, live.engine.wait_live(10))
    shown = len(fills.fill_ids())
    pump_until(lambda: fills.refresh(store) >= 0 and len(fills.fill_ids()) > shown + 3, 15)
    ids = fills.fill_ids()
    assert len(ids) == len(set(ids)) == len(store.fills)
    assert store.duplicate_fills > 0  # the snapshot did repeat fills; none reached the table

    # Kalshi sends a position only when it changes (the link loads none over REST): wait for one.
    pump_until(lambda: positions.refresh(store) is not None and store.positions and store.balances, 10)
    n = len(store.positions)
    assert positions.rowCount() == n + len(store.balances) + 1  # and the account total
    got = [positions.data(positions.index(r, 0), RawRole) for r in range(1, n + 1)]  # under the total
    assert got == [p for _, p in sorted(store.positions.items(), key=lambda kv: (kv[0][0].value, kv[0][1]))]
    balances = [positions.data(positions.index(r, 1)) for r in range(n + 1, positions.rowCount())]
    assert balances == sorted(asset for (_, asset) in store.balances)


def test_live_health_shows_state_rates_and_injected_faults(
    qtbot: Any, qloop: asyncio.AbstractEventLoop, live: Launch, checked: Any
) -> None:
    assert live.sim is not None
    store, engine = live.engine.store, live.engine
    ticker = next(iter(live.sim.market.kalshi))
    run_on(qloop, engine.watch(K, [ticker]))
    model = checked(HealthModel(min_interval_s=0))

    def row(venue: str, feed: str) -> dict[str, str] | None:
        for r in range(model.rowCount()):
            if model.data(model.index(r, 0)) == venue and model.data(model.index(r, 1)) == feed:
                return {c.title: model.data(model.index(r, i)) for i, c in enumerate(model.columns)}
        return None

    def book_flowing() -> bool:
        model.refresh(store, engine)
        kraken, kalshi = row("Kraken", "book"), row("Kalshi", "book")
        return bool(kraken and kalshi and num(kraken["Msg/s"]) > 0 and num(kalshi["Msg/s"]) > 0)

    pump_until(book_flowing, 10)
    conn = row("Kraken", "connection")
    assert conn is not None and conn["State"] == "live"
    in_sync, channels = conn["In sync"].split("/")
    assert in_sync == channels and int(channels) >= 5  # book, ticker, trade, ohlc, instrument, private
    assert row("Kalshi", "fills") is not None and row("Kraken", "positions") is not None
    tip = model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert "live" in tip

    live.sim.faults.set(
        [
            FaultSpec.parse("skip-seq:every=20,venue=kalshi"),
            FaultSpec.parse("bad-checksum:every=20,venue=kraken"),
        ]
    )

    def faults_counted() -> bool:
        model.refresh(store, engine)
        kalshi, kraken = row("Kalshi", "book"), row("Kraken", "book")
        return bool(
            kalshi
            and kraken
            and int(kalshi["Gaps"]) > 0
            and int(kalshi["Resyncs"]) > 0
            and int(kraken["Cksum"]) > 0
        )

    pump_until(faults_counted, 15)
    live.sim.faults.set([])
    model.refresh(store, engine)
    book = row("Kalshi", "book")
    assert book is not None and num(book["Gaps"]) == store.health[(K, "book")].gaps

    # A link that is not live turns its rows the warn colour and says why.
    run_on(qloop, engine.link(X).stop())
    model.refresh(store, engine)
    r = next(r for r in range(model.rowCount()) if model.data(model.index(r, 0)) == "Kraken")
    assert model.data(model.index(r, 2)) == "closed"
    warn = model.data(model.index(r, 2), Qt.ItemDataRole.ForegroundRole)
    assert warn.name() == theme.current().warn.lower()
    assert "stopped" in model.data(model.index(r, 0), Qt.ItemDataRole.ToolTipRole)


# ====================================================================== the view, and what it looks like


def test_views_render_live_data(
    qtbot: Any, qapp: QApplication, qloop: asyncio.AbstractEventLoop, live: Launch, tmp_path: Path
) -> None:
    """Each table filled with live data and drawn; MM_SCREENSHOTS=DIR keeps the pictures for a look."""
    assert live.sim is not None
    theme.apply(qapp, "dark")
    store, engine = live.engine.store, live.engine
    ticker = next(iter(live.sim.market.kalshi))
    run_on(qloop, engine.watch(K, [ticker]))
    tape, fills, positions, health = (
        TradeTapeModel(),
        FillsModel(),
        PositionsModel(),
        HealthModel(min_interval_s=0),
    )
    tape.set_market(X, BTC)

    def filled() -> bool:
        tape.refresh(store)
        fills.refresh(store)
        positions.refresh(store)
        health.refresh(store, engine)
        return tape.rowCount() >= 30 and fills.rowCount() >= 20 and positions.rowCount() >= 3

    pump_until(filled, 15)
    out = Path(os.environ.get("MM_SCREENSHOTS", tmp_path))
    sizes = {"tape": (380, 420), "fills": (1000, 420), "positions": (720, 300), "health": (1000, 340)}
    misfits = []
    for name, model in (("tape", tape), ("fills", fills), ("positions", positions), ("health", health)):
        view = make_table_view(model)
        qtbot.addWidget(view)
        view.resize(*sizes[name])
        view.show()
        qtbot.waitExposed(view)
        assert view.verticalHeader().isHidden() and not view.showGrid()
        assert view.verticalHeader().defaultSectionSize() == ROW_HEIGHT
        assert view.rowHeight(0) == ROW_HEIGHT
        for col, column in enumerate(model.columns[:-1]):  # every text fits its column, unclipped
            width = view.columnWidth(col)
            widest = max(view.fontMetrics().horizontalAdvance(t) for t in model.column_texts(col)[:50])
            if widest > width - 6:
                misfits.append((name, column.title, widest, width))
        picture = view.grab()
        assert not picture.isNull()
        assert picture.save(str(out / f"{name}.png"))
    assert not misfits

    # A link that goes down: its rows in the warn colour, the reason in the tooltip.
    run_on(qloop, engine.link(X).stop())
    health.refresh(store, engine)
    view = make_table_view(health)
    qtbot.addWidget(view)
    view.resize(*sizes["health"])
    view.show()
    qtbot.waitExposed(view)
    assert view.grab().save(str(out / "health-down.png"))


def test_a_book_under_repair_says_what_it_waits_for(
    qtbot: Any, qloop: asyncio.AbstractEventLoop, live: Launch, checked: Any
) -> None:
    """Issue 13: a stale book shows why and what its recovery is doing (the watchlist's status, the
    Health tooltip), and the words go once the book is live again."""
    assert live.sim is not None
    store, engine = live.engine.store, live.engine
    model = WatchlistModel()
    model.set_markets([MarketRef(X, BTC)], store)
    health = checked(HealthModel(min_interval_s=0))
    live.sim.faults.set([FaultSpec.parse("bad-checksum:every=1,venue=kraken")])  # every book frame wrong

    def status() -> str:
        model.repairs = engine.repairing()
        model.tick(store)
        return str(model.data(model.index(0, C_STATUS)))

    pump_until(lambda: "re-syncing" in status() or "unverified" in status(), 20)
    assert status().startswith("STALE: ")
    health.refresh(store, engine)
    book_row = next(
        r
        for r in range(health.rowCount())
        if health.data(health.index(r, 0)) == "Kraken" and health.data(health.index(r, 1)) == "book"
    )
    tip = health.data(health.index(book_row, 0), Qt.ItemDataRole.ToolTipRole)
    assert f"{BTC}: " in tip and ("re-syncing" in tip or "unverified" in tip)
    live.sim.faults.set([])
    pump_until(lambda: status() == "live", 20)
    assert not engine.repairing()


def test_an_unlisted_market_is_named_in_its_row_and_the_status_bar_turns_amber(
    qtbot: Any, qloop: asyncio.AbstractEventLoop, live: Launch
) -> None:
    """Issue 19 item 1: one unknown ticker never silences the rest; its row and the status bar say so."""
    assert live.sim is not None
    store, engine = live.engine.store, live.engine
    good = next(iter(live.sim.market.kalshi))
    refs = [MarketRef(K, good), MarketRef(K, "NOT-A-MARKET")]
    run_on(qloop, engine.watch(K, [r.market for r in refs]))
    model = WatchlistModel()
    model.set_markets(refs, store)
    bar = VenueStatus(K)
    qtbot.addWidget(bar)

    def shown() -> bool:
        model.refused = engine.refused()
        model.tick(store)
        return model.data(model.index(0, C_STATUS)) == "live" and bool(model.refused)

    pump_until(shown, 15)
    assert str(model.data(model.index(1, C_STATUS))).startswith("not listed by Kalshi: ")
    links = [link for link in engine.links if link.venue is K]
    bar.update_from(links, 100.0, {K})
    assert "1 market refused" in bar.text() and theme.current().warn in bar.text()
    assert "NOT-A-MARKET: not listed by the venue" in bar.toolTip()
    run_on(qloop, engine.watch(K, [good]))  # gone from the watchlist: the warning goes too
    bar.update_from(links, 100.0, {K})
    assert "refused" not in bar.text() and theme.current().warn not in bar.text()
