"""The user's positions (Kalshi contracts) and balances (Kraken assets), marked to market in USD, one row
each, under the account's total.

The mark is the live book's mid where the market is watched (a settled Kalshi market: its settlement
value); otherwise the mid the venue's REST gave for it (``marks``, fetched by the window through
app/launch/marks.py every few seconds, see ``unmarked``); else the last trade seen. A Kalshi YES position
is worth contracts * mark, a NO one contracts * (1 - mark); unrealized P&L is that value less what the
open position cost. Kraken reports balances, not positions, so a coin has a value but no cost basis.

A refresh compares the rows' inputs (the store's objects, which it replaces on change, and the marks) and
does nothing when none moved: the 5 Hz refresh costs next to nothing while the account is still.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.core.events import Balance, Position
from app.core.instruments import Venue
from app.core.numbers import format_decimal
from app.core.store import MarketStore
from app.ui import format as fmt
from app.ui.keyed_model import KeyedTableModel, RowView
from app.ui.table_base import BUY, DIM, SELL, Column

POSITION_KIND, BALANCE_KIND, TOTAL_KIND = "position", "balance", "total"
USD = "USD"
Key = tuple[str, Venue, str]
MarkKey = tuple[Venue, str]
(C_VENUE, C_NAME, C_POSITION, C_MARK, C_VALUE, C_COST, C_UNREALIZED, C_REALIZED, C_FEES) = range(9)


@dataclass(frozen=True, slots=True)
class Marked:
    """One row's worth: its mark (None: no price known) and what that makes it worth in USD."""

    mark: Decimal | None
    value: Decimal | None
    unrealized: Decimal | None
    source: str  # where the mark came from, for the tooltip


class PositionsModel(KeyedTableModel):
    columns = (
        Column("Venue", "Kraken"),
        Column("Market / Asset", "Account total (USD), 8 unpriced"),
        Column(
            "Position",
            "00,000.00000000",  # a Kraken coin balance at ledger precision
            numeric=True,
            tip="Kalshi: contracts held (Yes or No); Kraken: balance",
        ),
        Column(
            "Mark", "00,000.0", numeric=True, tip="The price it is valued at: the book's mid (Kalshi: YES)"
        ),
        Column("Value", "$00,000,000.00", numeric=True, tip="What it is worth at the mark, in USD"),
        Column("Cost", "$00,000.00", numeric=True, tip="What the open position cost"),
        Column(
            "Unrealized", "+$0,000.00", numeric=True, tip="Value less cost: the P&L if closed at the mark"
        ),
        Column("Realized P&L", "+$0,000.00", numeric=True),
        Column("Fees", "$000.00", numeric=True),
    )

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[Key, tuple[object, Decimal | None, str]] = {}
        self.marks: dict[MarkKey, Decimal] = {}  # venue REST mids for what no live book prices

    def refresh(self, store: MarketStore) -> bool:
        """Bring the rows up to date. Returns whether anything was looked at (something changed)."""
        current: dict[Key, object] = {}
        for (venue, market), position in store.positions.items():
            current[(POSITION_KIND, venue, market)] = position
        for (venue, asset), balance in store.balances.items():
            current[(BALANCE_KIND, venue, asset)] = balance
        priced = {key: self._marked(store, key, item) for key, item in current.items()}
        inputs = {key: (item, priced[key].mark, priced[key].source) for key, item in current.items()}
        if inputs.keys() == self._seen.keys() and all(
            self._seen[k][0] is v[0] and self._seen[k][1:] == v[1:] for k, v in inputs.items()
        ):
            return False
        self._seen = inputs
        # Positions first, then balances; each by venue and name (stable, so new keys insert in place).
        rows = [(key, _view(item, priced[key])) for key, item in sorted(current.items(), key=_order)]
        if rows:  # first: the figure that matters, visible however short the dock is
            rows.insert(0, ((TOTAL_KIND, Venue.KALSHI, ""), _total_view(current, priced)))
        self.sync(rows)
        return True

    def unmarked(self, store: MarketStore) -> dict[Venue, list[str]]:
        """Markets a holding needs a price from and no live book gives: what the window asks REST for."""
        out: dict[Venue, list[str]] = {v: [] for v in Venue}
        for (venue, market), position in store.positions.items():
            if position.position and _book_mid(store, venue, market) is None:
                out[venue].append(market)
        for (venue, asset), balance in store.balances.items():
            pair = _usd_pair(asset)
            if balance.balance and asset != USD and _book_mid(store, venue, pair) is None:
                out[venue].append(pair)
        return {v: sorted(set(m)) for v, m in out.items() if m}

    # ------------------------------------------------------------------ marking

    def _mark(self, store: MarketStore, venue: Venue, market: str) -> tuple[Decimal | None, str]:
        state = store.markets.get((venue, market))
        if state is not None and state.outcome is not None and state.outcome.value is not None:
            return state.outcome.value, "settlement value"
        mid = _book_mid(store, venue, market)
        if mid is not None:
            return mid, "mid of the live book"
        rest = self.marks.get((venue, market))
        if rest is not None:
            return rest, "mid from the venue (not watched)"
        if state is not None and state.last is not None:
            return state.last, "last trade"
        return None, "no price known"

    def _marked(self, store: MarketStore, key: Key, item: object) -> Marked:
        if isinstance(item, Balance):
            if item.asset == USD:
                return Marked(Decimal(1), item.balance, None, "US dollars")
            mark, source = self._mark(store, item.venue, _usd_pair(item.asset))
            value = None if mark is None else item.balance * mark
            return Marked(mark, value, None, f"{_usd_pair(item.asset)} {source}")
        assert isinstance(item, Position)
        mark, source = self._mark(store, item.venue, item.market)
        if mark is None:
            return Marked(None, None, None, source)
        if item.venue is Venue.KALSHI:
            held = abs(item.position)
            value = held * (mark if item.position > 0 else 1 - mark)
        elif item.market.endswith(f"/{USD}"):
            value = item.position * mark
        else:  # priced in another coin: not a USD value
            return Marked(mark, None, None, source)
        unrealized = None if item.cost is None else value - item.cost
        return Marked(mark, value, unrealized, source)


def _book_mid(store: MarketStore, venue: Venue, market: str) -> Decimal | None:
    book = store.book(venue, market)
    if book is None or book.stale:
        return None
    bid, ask = book.best_bid_price(), book.best_ask_price()
    return None if bid is None or ask is None else (bid + ask) / 2


def _usd_pair(asset: str) -> str:
    return f"{asset}/{USD}"


def _order(entry: tuple[Key, object]) -> tuple[int, str, str]:
    (kind, venue, name), _ = entry
    return (0 if kind == POSITION_KIND else 1, venue.value, name)


def _view(item: object, marked: Marked) -> RowView:
    if isinstance(item, Position):
        return _position_view(item, marked)
    assert isinstance(item, Balance)
    return _balance_view(item, marked)


def _usd(value: Decimal | None, *, signed: bool = False) -> str:
    """Whole cents, so the decimal points of a column line up (exact amounts are in the tooltip)."""
    return fmt.money(value, signed=signed, cents_only=True)


def _tone(value: Decimal | None) -> str | None:
    shown = None if value is None else value.quantize(Decimal("0.01"))
    return None if not shown else (BUY if shown > 0 else SELL)


def _mark_text(venue: Venue, mark: Decimal | None) -> str:
    if mark is None:
        return fmt.DASH
    if venue is Venue.KALSHI:
        return fmt.cents(mark)
    return fmt.price(venue, fmt.trimmed(mark))


def _position_view(p: Position, m: Marked) -> RowView:
    if p.venue is Venue.KALSHI:
        held = fmt.contracts(p.position)
        cost, fees = _usd(p.cost), _usd(p.fees_paid)
        pnl_text = _usd(p.realized_pnl, signed=True)
        pnl_tone = _tone(p.realized_pnl)
    else:
        held = fmt.decimal_text(p.position, grouped=True)
        cost, fees = fmt.decimal_text(p.cost), fmt.decimal_text(p.fees_paid)
        pnl_text, pnl_tone = fmt.signed(p.realized_pnl), _tone(p.realized_pnl)
    side = None if p.position == 0 else (BUY if p.position > 0 else SELL)
    tip = [
        f"mark {_mark_text(p.venue, m.mark)} ({m.source})",
        f"value {fmt.money(m.value)}",
        f"cost {fmt.decimal_text(p.cost)}",
        f"unrealized P&L {fmt.money(m.unrealized, signed=True)}",
        f"realized P&L {fmt.signed(p.realized_pnl)}",
        f"fees {fmt.decimal_text(p.fees_paid)}",
    ]
    if p.volume is not None:
        tip.append(f"traded {fmt.size(p.venue, p.volume)}")
    return RowView(
        cells=(
            fmt.venue_name(p.venue),
            p.market,
            held,
            _mark_text(p.venue, m.mark),
            _usd(m.value),
            cost,
            _usd(m.unrealized, signed=True),
            pnl_text,
            fees,
        ),
        tones=(
            None,
            None,
            side if side is not None else DIM,
            None if m.mark is not None else DIM,
            None,
            None,
            _tone(m.unrealized),
            pnl_tone,
            DIM,
        ),
        tip="\n".join(tip),
        raw=p,
        export=(
            p.venue.value,
            p.market,
            _exact(p.position),
            _exact(m.mark),
            _exact(m.value),
            _exact(p.cost),
            _exact(m.unrealized),
            _exact(p.realized_pnl),
            _exact(p.fees_paid),
        ),
    )


def _balance_view(b: Balance, m: Marked) -> RowView:
    tip = f"{b.asset} balance"
    if b.change is not None:
        tip += f"; last change {fmt.signed(b.change)}"
    if b.ts_ms is not None:
        tip += f" at {fmt.clock(b.ts_ms)}"
    if b.asset != USD:
        tip += f"\nmark {_mark_text(b.venue, m.mark)} ({m.source}); value {fmt.money(m.value)}"
        tip += "\nKraken reports balances, not positions: no cost basis, so no unrealized P&L"
    return RowView(
        cells=(
            fmt.venue_name(b.venue),
            b.asset,
            fmt.decimal_text(b.balance, grouped=True),
            "" if b.asset == USD else _mark_text(b.venue, m.mark),
            _usd(m.value),
            "",
            "",
            "",
            "",
        ),
        tones=(None, None, DIM if b.balance == 0 else None, None if m.mark is not None else DIM),
        tip=tip,
        raw=b,
        export=(b.venue.value, b.asset, _exact(b.balance), _exact(m.mark), _exact(m.value), "", "", "", ""),
    )


def _exact(value: Decimal | None) -> str:
    """A value as File → Export writes it: every digit, no grouping, no symbol ("" when unknown)."""
    return "" if value is None else format_decimal(value)


def _total_view(items: dict[Key, object], priced: dict[Key, Marked]) -> RowView:
    """The account in USD: every value that has a price, the P&L and fees summed; names what it left out."""

    def total(values: list[Decimal | None]) -> Decimal | None:
        known = [v for v in values if v is not None]
        return sum(known, Decimal(0)) if known else None

    positions = [(k, i) for k, i in items.items() if isinstance(i, Position)]
    unpriced = [k[2] for k, i in items.items() if priced[k].value is None and _holds(i)]
    value = total([priced[k].value for k in items])
    unrealized = total([priced[k].unrealized for k, _ in positions])
    kalshi = [i for _, i in positions if i.venue is Venue.KALSHI]
    realized = total([i.realized_pnl for i in kalshi])
    name = "Account total (USD)" + (f", {len(unpriced)} unpriced" if unpriced else "")
    tip = "Everything held, valued at its mark, in US dollars."
    if unpriced:
        tip += f"\nNot in the value (no price known yet): {', '.join(sorted(unpriced))}"
    return RowView(
        cells=(
            "",
            name,
            "",
            "",
            _usd(value),
            _usd(total([i.cost for i in kalshi])),
            _usd(unrealized, signed=True),
            _usd(realized, signed=True),
            _usd(total([i.fees_paid for i in kalshi])),
        ),
        tones=(
            None,
            "warn" if unpriced else None,
            None,
            None,
            None,
            None,
            _tone(unrealized),
            _tone(realized),
            DIM,
        ),
        tip=tip,
        raw=None,
        export=(
            "",
            "account total (USD)",
            "",
            "",
            _exact(value),
            _exact(total([i.cost for i in kalshi])),
            _exact(unrealized),
            _exact(realized),
            _exact(total([i.fees_paid for i in kalshi])),
        ),
    )


def _holds(item: object) -> bool:
    if isinstance(item, Position):
        return item.position != 0
    return isinstance(item, Balance) and item.balance != 0
