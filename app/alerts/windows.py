"""One market's trades over the last T seconds (exchange time): their total size, and the move of a
price against the window's lowest and highest, kept with monotonic queues so each trade costs O(1)."""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from fractions import Fraction

ZERO = Decimal(0)


class Rolling:
    __slots__ = ("highs", "lows", "total", "trades", "window_ms")

    def __init__(self, window_s: float) -> None:
        self.window_ms = window_s * 1000
        self.trades: deque[tuple[int, Decimal]] = deque()  # (ts_ms, size)
        self.total = ZERO
        self.lows: deque[tuple[int, Decimal]] = deque()  # (ts_ms, price), prices rising
        self.highs: deque[tuple[int, Decimal]] = deque()  # prices falling

    def evict(self, ts_ms: int) -> None:
        """Forget trades at or before ``ts_ms - T``: the window is (ts - T, ts]."""
        cutoff = ts_ms - self.window_ms
        trades = self.trades
        while trades and trades[0][0] <= cutoff:
            self.total -= trades.popleft()[1]
        for q in (self.lows, self.highs):
            while q and q[0][0] <= cutoff:
                q.popleft()

    def add(self, ts_ms: int, price: Decimal, size: Decimal) -> None:
        self.trades.append((ts_ms, size))
        self.total += size
        lows, highs = self.lows, self.highs
        while lows and lows[-1][1] >= price:
            lows.pop()
        lows.append((ts_ms, price))
        while highs and highs[-1][1] <= price:
            highs.pop()
        highs.append((ts_ms, price))

    def move(self, price: Decimal | None, direction: str | None) -> Fraction:
        """How far ``price`` is, in percent, from the window's lowest (up) or highest (down) price."""
        if price is None or not self.lows:
            return Fraction(0)
        low, high = self.lows[0][1], self.highs[0][1]
        up = Fraction(price - low) / Fraction(low) * 100 if low > 0 else Fraction(0)
        down = Fraction(high - price) / Fraction(high) * 100 if high > 0 else Fraction(0)
        if direction == "up":
            return up
        if direction == "down":
            return down
        return max(up, down)
