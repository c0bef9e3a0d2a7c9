"""An exact price-level order book.

Prices and sizes are integer units (see ``core.numbers``). Each side keeps a dict price -> size plus a
sorted list of keys, so best-first iteration, top-N and truncation never sort: inserting a new level is
one ``bisect.insort`` (a C memmove), and updating an existing level is a dict store.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol

from app.core.events import Level
from app.core.instruments import Venue
from app.core.numbers import from_scaled

_POW10: list[int] = [10**i for i in range(40)]


class BookSide:
    """One side of the book. Keys are sorted ascending: prices for asks, negated prices for bids,
    so index 0 is always the best level."""

    __slots__ = ("_keys", "_sign", "_sizes")

    def __init__(self, is_bid: bool) -> None:
        self._sizes: dict[int, int] = {}
        self._keys: list[int] = []
        self._sign = -1 if is_bid else 1

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, price: int) -> bool:
        return price in self._sizes

    def size_at(self, price: int) -> int:
        return self._sizes.get(price, 0)

    def replace(self, levels: Iterable[Level]) -> None:
        latest = dict(levels)  # a repeated price: the last one wins, as in a change
        sizes = {p: s for p, s in latest.items() if s > 0}
        self._sizes = sizes
        sign = self._sign
        self._keys = sorted(p * sign for p in sizes)

    def set(self, price: int, size: int) -> None:
        """Absolute size at a price; 0 removes the level."""
        sizes = self._sizes
        if size > 0:
            if price not in sizes:
                insort(self._keys, price * self._sign)
            sizes[price] = size
        elif size == 0:
            if sizes.pop(price, None) is not None:
                self._remove_key(price)
        else:
            raise ValueError(f"negative size {size} at {price}")

    def add(self, price: int, delta: int) -> int:
        """Adjust a level by ``delta``; removes it at 0. Returns the new size; a negative result
        (a corrupted book) removes the level and is returned so the caller can re-sync."""
        sizes = self._sizes
        old = sizes.get(price)
        new = delta if old is None else old + delta
        if new > 0:
            if old is None:
                insort(self._keys, price * self._sign)
            sizes[price] = new
        elif old is not None:
            del sizes[price]
            self._remove_key(price)
        return new

    def _remove_key(self, price: int) -> None:
        keys = self._keys
        key = price * self._sign
        del keys[bisect_left(keys, key)]

    def truncate(self, depth: int) -> None:
        keys = self._keys
        if len(keys) > depth:
            sizes, sign = self._sizes, self._sign
            for key in keys[depth:]:
                del sizes[key * sign]
            del keys[depth:]

    def best(self) -> Level | None:
        if not self._keys:
            return None
        price = self._keys[0] * self._sign
        return (price, self._sizes[price])

    def top(self, n: int | None = None) -> list[Level]:
        sizes, sign = self._sizes, self._sign
        keys = self._keys if n is None else self._keys[:n]
        return [(k * sign, sizes[k * sign]) for k in keys]

    def nth_price(self, n: int) -> int | None:
        """The price of the n-th best level (1 = the best), or None when the side has fewer."""
        keys = self._keys
        return keys[n - 1] * self._sign if len(keys) >= n else None

    def top_size(self, n: int) -> int:
        """The sizes of the best ``n`` levels summed (an imbalance alert reads it per frame)."""
        sizes, sign = self._sizes, self._sign
        return sum([sizes[k * sign] for k in self._keys[:n]])

    def top_text(self, n: int) -> str:
        """Each of the best ``n`` levels as its price units followed by its size units, concatenated
        (Kraken's checksum text when the units are at the pair's precision)."""
        sizes, sign = self._sizes, self._sign
        if sign == 1:
            return "".join([f"{k}{sizes[k]}" for k in self._keys[:n]])
        return "".join([f"{-k}{sizes[-k]}" for k in self._keys[:n]])

    def rescale(self, price_factor: int, size_factor: int) -> None:
        self.replace([(p * price_factor, s * size_factor) for p, s in self._sizes.items()])


class TextBookSide(BookSide):
    """A side that also keeps each level's text, its price units then its size units, written when
    the level changes: a checksum over the top levels (Kraken's) then joins stored strings instead of
    formatting twenty integers per message."""

    __slots__ = ("_texts",)

    def __init__(self, is_bid: bool) -> None:
        super().__init__(is_bid)
        self._texts: dict[int, str] = {}  # key (signed, as in _keys) -> level text

    def replace(self, levels: Iterable[Level]) -> None:
        super().replace(levels)
        sign = self._sign
        self._texts = {p * sign: f"{p}{s}" for p, s in self._sizes.items()}

    def set(self, price: int, size: int) -> None:
        sizes = self._sizes
        key = price * self._sign
        if size > 0:
            if price not in sizes:
                insort(self._keys, key)
            sizes[price] = size
            self._texts[key] = f"{price}{size}"
        elif size == 0:
            if sizes.pop(price, None) is not None:
                keys = self._keys
                del keys[bisect_left(keys, key)]
                del self._texts[key]
        else:
            raise ValueError(f"negative size {size} at {price}")

    def add(self, price: int, delta: int) -> int:
        new = super().add(price, delta)
        key = price * self._sign
        if new > 0:
            self._texts[key] = f"{price}{new}"
        else:
            self._texts.pop(key, None)
        return new

    def truncate(self, depth: int) -> None:
        keys = self._keys
        if len(keys) > depth:
            sizes, texts, sign = self._sizes, self._texts, self._sign
            for key in keys[depth:]:
                del sizes[key * sign]
                del texts[key]
            del keys[depth:]

    def top_text(self, n: int) -> str:
        texts = self._texts
        return "".join([texts[k] for k in self._keys[:n]])


class _Rescalable(Protocol):
    """A book with two sides that can be multiplied into finer units (``OrderBook``, ``Level3Book``)."""

    price_decimals: int
    size_decimals: int

    @property
    def bids(self) -> _Side: ...

    @property
    def asks(self) -> _Side: ...


class _Side(Protocol):
    def rescale(self, price_factor: int, size_factor: int) -> None: ...


def rescale_sides(book: _Rescalable, price_decimals: int, size_decimals: int) -> None:
    """Move a book to a finer scale (never coarser: that could lose digits)."""
    dp = price_decimals - book.price_decimals
    ds = size_decimals - book.size_decimals
    if dp < 0 or ds < 0:
        raise ValueError("a book can only move to a finer scale")
    if dp or ds:
        book.bids.rescale(_POW10[dp], _POW10[ds])
        book.asks.rescale(_POW10[dp], _POW10[ds])
        book.price_decimals = price_decimals
        book.size_decimals = size_decimals


class OrderBook:
    """Price levels of one market.

    A snapshot replaces both sides; a change sets (absolute) or adjusts (additive) levels; with a
    ``depth`` the sides are truncated to it after each message. ``stale`` means the book is known or
    suspected wrong (gap, checksum mismatch, no snapshot yet) and must not be shown as live.
    ``level_text``: the sides keep each level's text for a checksum (``TextBookSide``).
    """

    __slots__ = (
        "asks",
        "bids",
        "depth",
        "has_snapshot",
        "market",
        "price_decimals",
        "size_decimals",
        "stale_reason",
        "venue",
    )

    def __init__(
        self,
        venue: Venue,
        market: str,
        price_decimals: int,
        size_decimals: int,
        depth: int | None = None,
        *,
        level_text: bool = False,
    ) -> None:
        self.venue = venue
        self.market = market
        self.price_decimals = price_decimals
        self.size_decimals = size_decimals
        self.depth = depth
        side = TextBookSide if level_text else BookSide
        self.bids = side(is_bid=True)
        self.asks = side(is_bid=False)
        self.has_snapshot = False
        self.stale_reason: str | None = "no snapshot yet"

    @property
    def stale(self) -> bool:
        return self.stale_reason is not None

    def mark_stale(self, reason: str) -> None:
        self.stale_reason = reason

    def apply_snapshot(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        self.bids.replace(bids)
        self.asks.replace(asks)
        self.has_snapshot = True
        self.stale_reason = None
        if self.depth is not None:
            self.truncate(self.depth)

    def apply_change(self, bids: Iterable[Level], asks: Iterable[Level], additive: bool) -> bool:
        """Apply one message's level changes in order. False if an additive change drove a level
        below zero (the level is dropped; the book needs a fresh snapshot)."""
        ok = True
        if additive:
            for price, delta in bids:
                if self.bids.add(price, delta) < 0:
                    ok = False
            for price, delta in asks:
                if self.asks.add(price, delta) < 0:
                    ok = False
        else:
            bid_set, ask_set = self.bids.set, self.asks.set
            for price, size in bids:
                bid_set(price, size)
            for price, size in asks:
                ask_set(price, size)
        if self.depth is not None:
            self.truncate(self.depth)
        return ok

    def truncate(self, depth: int) -> None:
        self.bids.truncate(depth)
        self.asks.truncate(depth)

    def clear(self, reason: str) -> None:
        self.bids.replace(())
        self.asks.replace(())
        self.has_snapshot = False
        self.stale_reason = reason

    def rescale(self, price_decimals: int, size_decimals: int) -> None:
        """Move to a finer scale (never coarser: that could lose digits)."""
        rescale_sides(self, price_decimals, size_decimals)

    def best_bid(self) -> Level | None:
        return self.bids.best()

    def best_ask(self) -> Level | None:
        return self.asks.best()

    def touch(self) -> tuple[int | None, int | None]:
        """The best bid and ask prices in units (None for an empty side), as cheaply as can be: the alert
        engine reads this on every frame of a market with rules."""
        bids, asks = self.bids._keys, self.asks._keys
        return (-bids[0] if bids else None, asks[0] if asks else None)

    def best_bid_price(self) -> Decimal | None:
        best = self.bids.best()
        return None if best is None else from_scaled(best[0], self.price_decimals)

    def best_ask_price(self) -> Decimal | None:
        best = self.asks.best()
        return None if best is None else from_scaled(best[0], self.price_decimals)

    def top_bids(self, n: int | None = None) -> list[Level]:
        return self.bids.top(n)

    def top_asks(self, n: int | None = None) -> list[Level]:
        return self.asks.top(n)

    def is_crossed(self) -> bool:
        bid, ask = self.bids.best(), self.asks.best()
        return bid is not None and ask is not None and bid[0] >= ask[0]

    def levels_as_decimals(self, n: int | None = None) -> tuple[list[tuple[Decimal, Decimal]], ...]:
        pd, sd = self.price_decimals, self.size_decimals
        bids = [(from_scaled(p, pd), from_scaled(s, sd)) for p, s in self.bids.top(n)]
        asks = [(from_scaled(p, pd), from_scaled(s, sd)) for p, s in self.asks.top(n)]
        return bids, asks
