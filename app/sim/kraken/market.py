"""One simulated Kraken pair: its book, 24 h stats, candles and recent trades."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from app.sim.catalog import KrakenPair
from app.sim.history import Bar
from app.sim.ladder import Ladder

BOOK_DEPTHS = (10, 25, 100, 500, 1000)
OHLC_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)  # minutes
RECENT_TRADES = 50  # a trade snapshot holds the 50 most recent (protocol/kraken.md §3.2)
CANDLES_KEPT = 720


@dataclass(slots=True)
class Candle:
    begin_s: int  # interval start, unix seconds
    open: int
    high: int
    low: int
    close: int
    volume: int
    cost: int  # sum(price * qty) in price*qty units, for vwap
    trades: int


@dataclass(slots=True)
class KrakenPairState:
    pair: KrakenPair
    status: str = "online"
    bids: Ladder = field(default_factory=lambda: Ladder(descending=True))
    asks: Ladder = field(default_factory=lambda: Ladder(descending=False))
    open_price: int = 0  # the price 24 h ago, for change / change_pct
    fair: int = 0  # where new liquidity centres
    last: int = 0
    low: int = 0
    high: int = 0
    volume: int = 0
    cost: int = 0  # sum(price * qty), for vwap
    next_trade_id: int = 1
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT_TRADES))
    candles: dict[int, deque[Candle]] = field(default_factory=dict)
    level_text: dict[tuple[int, int], str] = field(default_factory=dict)  # checksum text cache

    @property
    def symbol(self) -> str:
        return self.pair.symbol

    def side(self, name: str) -> Ladder:
        return self.bids if name == "bids" else self.asks

    def bounds(self) -> dict[int, tuple[int | None, int | None]]:
        """For each subscribable depth, the worst price inside that window (None: window not full)."""
        out: dict[int, tuple[int | None, int | None]] = {}
        nb, na = len(self.bids), len(self.asks)
        for depth in BOOK_DEPTHS:
            out[depth] = (
                self.bids.price_at(depth - 1) if nb >= depth else None,
                self.asks.price_at(depth - 1) if na >= depth else None,
            )
        return out

    def vwap(self) -> int:
        return self.cost // self.volume if self.volume else self.last

    def backfill(self, bars: list[Bar]) -> None:
        """The day before the simulator started (app/sim/history.py): candles at every interval, and
        the 24 h figures the ticker reports (open 24 h ago, low, high)."""
        for bar in bars:
            for minutes in OHLC_INTERVALS:
                begin = bar.begin_s - bar.begin_s % (minutes * 60)
                series = self.candles.setdefault(minutes, deque(maxlen=CANDLES_KEPT))
                cost = (bar.open + bar.close) // 2 * bar.volume
                if series and series[-1].begin_s == begin:
                    c = series[-1]
                    c.high, c.low, c.close = max(c.high, bar.high), min(c.low, bar.low), bar.close
                    c.volume += bar.volume
                    c.cost += cost
                    c.trades += bar.trades
                else:
                    series.append(
                        Candle(begin, bar.open, bar.high, bar.low, bar.close, bar.volume, cost, bar.trades)
                    )
        if bars:
            self.open_price = bars[0].open
            self.low = min(b.low for b in bars)
            self.high = max(b.high for b in bars)
            self.last = bars[-1].close

    def record_trade(self, price: int, qty: int, ts_s: int) -> None:
        self.last = price
        self.low = min(self.low, price) if self.low else price
        self.high = max(self.high, price)
        self.volume += qty
        self.cost += price * qty
        for minutes in OHLC_INTERVALS:
            begin = ts_s - ts_s % (minutes * 60)
            series = self.candles.setdefault(minutes, deque(maxlen=CANDLES_KEPT))
            if series and series[-1].begin_s == begin:
                c = series[-1]
                c.high, c.low, c.close = max(c.high, price), min(c.low, price), price
                c.volume += qty
                c.cost += price * qty
                c.trades += 1
            else:
                series.append(Candle(begin, price, price, price, price, qty, price * qty, 1))
