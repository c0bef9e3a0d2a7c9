"""The user's positions (Kalshi contracts) and balances (Kraken assets), one row each.

The store replaces a Position or Balance object whenever a new one arrives, so "nothing changed" is an
identity check of a few dozen objects: the 30 Hz refresh costs next to nothing while the account is still.
"""

from __future__ import annotations

from decimal import Decimal

from app.core.events import Balance, Position
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.ui import format as fmt
from app.ui.keyed_model import KeyedTableModel, RowView
from app.ui.table_base import BUY, DIM, SELL, Column

POSITION_KIND, BALANCE_KIND = "position", "balance"


class PositionsModel(KeyedTableModel):
    columns = (
        Column("Venue", "Kraken"),
        Column("Market / Asset", "KXBTCD-26NOV2117-T96500"),
        Column(
            "Position",
            "00,000.00000000",  # a Kraken coin balance at ledger precision
            numeric=True,
            tip="Kalshi: contracts held (Yes or No); Kraken: balance",
        ),
        Column("Cost", "$00,000.00", numeric=True),
        Column("Realized P&L", "+$0,000.00", numeric=True),
        Column("Fees", "$000.00", numeric=True),
    )

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[tuple[str, Venue, str], object] = {}

    def refresh(self, store: MarketStore) -> bool:
        """Bring the rows up to date. Returns whether anything was looked at (something changed)."""
        current: dict[tuple[str, Venue, str], object] = {}
        for (venue, market), position in store.positions.items():
            current[(POSITION_KIND, venue, market)] = position
        for (venue, asset), balance in store.balances.items():
            current[(BALANCE_KIND, venue, asset)] = balance
        if len(current) == len(self._seen) and all(self._seen.get(k) is v for k, v in current.items()):
            return False
        self._seen = current
        # Positions first, then balances; each by venue and name (stable, so new keys insert in place).
        self.sync([(key, _view(item)) for key, item in sorted(current.items(), key=_order)])
        return True


def _order(entry: tuple[tuple[str, Venue, str], object]) -> tuple[int, str, str]:
    (kind, venue, name), _ = entry
    return (0 if kind == POSITION_KIND else 1, venue.value, name)


def _view(item: object) -> RowView:
    if isinstance(item, Position):
        return _position_view(item)
    assert isinstance(item, Balance)
    return _balance_view(item)


def _position_view(p: Position) -> RowView:
    if p.venue is Venue.KALSHI:
        held = fmt.contracts(p.position)
        # Whole cents, so the decimal points line up; the exact (sub-cent) amounts are in the tooltip.
        cost, fees = fmt.money(p.cost, cents_only=True), fmt.money(p.fees_paid, cents_only=True)
        pnl_text = fmt.money(p.realized_pnl, signed=True, cents_only=True)
        shown_pnl = None if p.realized_pnl is None else p.realized_pnl.quantize(Decimal("0.01"))
    else:
        held = fmt.decimal_text(p.position, grouped=True)
        cost, fees = fmt.decimal_text(p.cost), fmt.decimal_text(p.fees_paid)
        pnl_text, shown_pnl = fmt.signed(p.realized_pnl), p.realized_pnl
    side = None if p.position == 0 else (BUY if p.position > 0 else SELL)
    tip = [
        f"cost {fmt.decimal_text(p.cost)}",
        f"realized P&L {fmt.signed(p.realized_pnl)}",
        f"fees {fmt.decimal_text(p.fees_paid)}",
    ]
    if p.volume is not None:
        tip.append(f"traded {fmt.size(p.venue, p.volume)}")
    return RowView(
        cells=(fmt.venue_name(p.venue), p.market, held, cost, pnl_text, fees),
        tones=(
            None,
            None,
            side if side is not None else DIM,
            None,
            None if not shown_pnl else (BUY if shown_pnl > 0 else SELL),
            DIM,
        ),
        tip="\n".join(tip),
        raw=p,
    )


def _balance_view(b: Balance) -> RowView:
    tip = f"{b.asset} balance"
    if b.change is not None:
        tip += f"; last change {fmt.signed(b.change)}"
    if b.ts_ms is not None:
        tip += f" at {fmt.clock(b.ts_ms)}"
    return RowView(
        cells=(fmt.venue_name(b.venue), b.asset, fmt.decimal_text(b.balance, grouped=True), "", "", ""),
        tones=(None, None, DIM if b.balance == 0 else None),
        tip=tip,
        raw=b,
    )
