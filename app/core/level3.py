"""An exact order-by-order book (level 3): every resting order at each price, in queue order.

Prices and sizes are integer units, as in ``core.book``. Each side keeps price -> the orders at that price,
first to fill first, plus the sorted price keys (asks ascending, bids as negated prices), and the book keeps
order id -> where the order rests. A level's size is the sum of its orders, so the level-2 view of the same
market falls out of this one (``top_bids``/``top_asks``).

Queue order (docs/protocol-kraken-level3.md §4.1): an added order joins the back of its level unless its
own timestamp is older than orders already there (an order re-entering the window after a refill or a
truncation), in which case it goes where its time puts it; a size change keeps the order's place; a price
change sends it to the back of the new level.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from app.core.book import rescale_sides
from app.core.events import Level, OrderEvent, OrderEventKind
from app.core.instruments import Venue
from app.core.numbers import from_scaled


@dataclass(slots=True)
class RestingOrder:
    order_id: str
    price: int
    size: int
    ts: str | None = None  # the venue's time of insertion or amendment, as sent (RFC 3339)


@dataclass(frozen=True, slots=True)
class QueuePlace:
    """Where one order stands in its level's queue."""

    is_bid: bool
    price: int
    size: int
    position: int  # 1: the next to fill at this price
    orders_ahead: int
    size_ahead: int  # what must trade at this price before this order fills
    level_orders: int
    level_size: int


def time_key(ts: str | None) -> str | None:
    """A sortable form of an RFC 3339 UTC time ("2024-01-08T12:26:39.5261Z" -> seconds text + 9-digit
    fraction), or None for anything else (such an order is placed by arrival alone)."""
    if ts is None or len(ts) < 20 or ts[-1] != "Z" or ts[10:11] != "T":
        return None
    whole, _, frac = ts[:-1].partition(".")
    if len(whole) != 19 or len(frac) > 9 or (frac and not frac.isdigit()):
        return None
    return whole + frac.ljust(9, "0")


class OrderQueueSide:
    """One side: price -> orders in queue order. Index 0 of the keys is always the best price."""

    __slots__ = ("_keys", "_levels", "_sign")

    def __init__(self, is_bid: bool) -> None:
        self._levels: dict[int, list[RestingOrder]] = {}
        self._keys: list[int] = []
        self._sign = -1 if is_bid else 1

    @property
    def is_bid(self) -> bool:
        return self._sign == -1

    def __len__(self) -> int:
        """The number of price levels."""
        return len(self._keys)

    def __contains__(self, price: int) -> bool:
        return price in self._levels

    def order_count(self) -> int:
        return sum(len(q) for q in self._levels.values())

    def orders_at(self, price: int) -> list[RestingOrder]:
        """The orders at a price, first to fill first (a copy)."""
        return list(self._levels.get(price, ()))

    def size_at(self, price: int) -> int:
        return sum(o.size for o in self._levels.get(price, ()))

    def clear(self) -> None:
        self._levels = {}
        self._keys = []

    def append(self, order: RestingOrder) -> None:
        """Put an order at the back of its level (a snapshot lists each level in queue order)."""
        queue = self._levels.get(order.price)
        if queue is None:
            self._levels[order.price] = [order]
            insort(self._keys, order.price * self._sign)
        else:
            queue.append(order)

    def insert(self, order: RestingOrder) -> None:
        """Add an order to its level where its time puts it: at the back unless it is older than the
        orders there (one coming back into the window keeps its original priority)."""
        queue = self._levels.get(order.price)
        if queue is None:
            self._levels[order.price] = [order]
            insort(self._keys, order.price * self._sign)
            return
        key = time_key(order.ts)
        at = len(queue)
        if key is not None:
            while at > 0:
                before = time_key(queue[at - 1].ts)
                if before is None or before <= key:
                    break
                at -= 1
        queue.insert(at, order)

    def queue(self, price: int) -> list[RestingOrder]:
        """The level's own list (not a copy): for reading only."""
        return self._levels[price]

    def remove(self, order: RestingOrder) -> None:
        queue = self._levels.get(order.price)
        if queue is None:
            return
        for i, resting in enumerate(queue):
            if resting is order:
                del queue[i]
                break
        if not queue:
            del self._levels[order.price]
            keys = self._keys
            del keys[bisect_left(keys, order.price * self._sign)]

    def truncate(self, depth: int) -> list[RestingOrder]:
        """Keep the best ``depth`` levels; returns the orders dropped."""
        keys = self._keys
        if len(keys) <= depth:
            return []
        dropped: list[RestingOrder] = []
        levels, sign = self._levels, self._sign
        for key in keys[depth:]:
            dropped.extend(levels.pop(key * sign))
        del keys[depth:]
        return dropped

    def prices(self, n: int | None = None) -> list[int]:
        sign = self._sign
        keys = self._keys if n is None else self._keys[:n]
        return [k * sign for k in keys]

    def levels(self, n: int | None = None) -> list[tuple[int, list[RestingOrder]]]:
        """The best ``n`` levels, best first, each with its orders in queue order (copies)."""
        levels = self._levels
        return [(p, list(levels[p])) for p in self.prices(n)]

    def top(self, n: int | None = None) -> list[Level]:
        """The best ``n`` levels as (price, the level's orders summed): the level-2 view."""
        levels = self._levels
        return [(p, sum(o.size for o in levels[p])) for p in self.prices(n)]

    def counts(self, n: int | None = None) -> list[tuple[int, int]]:
        """(price, number of orders) for the best ``n`` levels."""
        levels = self._levels
        return [(p, len(levels[p])) for p in self.prices(n)]

    def best(self) -> Level | None:
        top = self.top(1)
        return top[0] if top else None

    def top_text(self, n: int) -> str:
        """Every order of the best ``n`` levels, in queue order, as its price units then its size units
        (Kraken's level-3 checksum text when the units are at the pair's precision)."""
        levels = self._levels
        return "".join([f"{o.price}{o.size}" for p in self.prices(n) for o in levels[p]])

    def rescale(self, price_factor: int, size_factor: int) -> None:
        levels: dict[int, list[RestingOrder]] = {}
        for queue in self._levels.values():
            for order in queue:
                order.price *= price_factor
                order.size *= size_factor
            levels[queue[0].price] = queue
        self._levels = levels
        self._keys = sorted(p * self._sign for p in levels)


class Level3Book:
    """The resting orders of one market.

    A snapshot replaces both sides; an update's order events are applied in message order; with a
    ``depth`` the sides are truncated to it (in price levels) after each message. ``stale``: known or
    suspected wrong (no snapshot yet, checksum mismatch, an event for an order the book does not hold).
    """

    __slots__ = (
        "_where",
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
        self, venue: Venue, market: str, price_decimals: int, size_decimals: int, depth: int | None = None
    ) -> None:
        self.venue = venue
        self.market = market
        self.price_decimals = price_decimals
        self.size_decimals = size_decimals
        self.depth = depth
        self.bids = OrderQueueSide(is_bid=True)
        self.asks = OrderQueueSide(is_bid=False)
        self._where: dict[str, tuple[OrderQueueSide, RestingOrder]] = {}  # order id -> where it rests
        self.has_snapshot = False
        self.stale_reason: str | None = "no snapshot yet"

    @property
    def stale(self) -> bool:
        return self.stale_reason is not None

    def mark_stale(self, reason: str) -> None:
        self.stale_reason = reason

    def __len__(self) -> int:
        """The number of resting orders."""
        return len(self._where)

    def __contains__(self, order_id: str) -> bool:
        return order_id in self._where

    def apply_snapshot(self, bids: Iterable[RestingOrder], asks: Iterable[RestingOrder]) -> None:
        """Both sides whole, each level's orders in queue order. An order id listed twice keeps its
        last listing."""
        self.bids.clear()
        self.asks.clear()
        self._where = {}
        for side, orders in ((self.bids, bids), (self.asks, asks)):
            for order in orders:
                if order.size <= 0:
                    continue
                old = self._where.get(order.order_id)
                if old is not None:
                    old[0].remove(old[1])
                self._where[order.order_id] = (side, order)
                side.append(order)
        self.has_snapshot = True
        self.stale_reason = None
        if self.depth is not None:
            self.truncate(self.depth)

    def apply_events(self, bids: Iterable[OrderEvent], asks: Iterable[OrderEvent]) -> list[str]:
        """One update's events, each side in message order, then truncation to the depth. Returns what
        did not fit the book (a modify or delete of an order it does not hold, an order on the other
        side): empty when the book took the message whole."""
        problems: list[str] = []
        for side, events in ((self.bids, bids), (self.asks, asks)):
            for ev in events:
                problem = self._apply(side, ev)
                if problem is not None:
                    problems.append(problem)
        if self.depth is not None:
            self.truncate(self.depth)
        return problems

    def _apply(self, side: OrderQueueSide, ev: OrderEvent) -> str | None:
        where = self._where
        held = where.get(ev.order_id)
        if held is not None and held[0] is not side:
            return f"order {ev.order_id} {ev.kind} on the other side of the book"
        old = None if held is None else held[1]
        if ev.kind is OrderEventKind.ADD:
            if old is not None:  # already held (a stale copy): the add says where it is now
                side.remove(old)
            if ev.size <= 0:
                where.pop(ev.order_id, None)
                return None
            order = RestingOrder(ev.order_id, ev.price, ev.size, ev.ts)
            where[ev.order_id] = (side, order)
            side.insert(order)
            return None
        if old is None:
            return f"{ev.kind} of order {ev.order_id}, which the book does not hold"
        if ev.kind is OrderEventKind.DELETE or ev.size <= 0:
            side.remove(old)
            del where[ev.order_id]
            return None
        if ev.price == old.price:  # a fill: the order keeps its place in the queue
            old.size = ev.size
            old.ts = ev.ts or old.ts
            return None
        side.remove(old)  # a new price: the back of that level's queue
        order = RestingOrder(ev.order_id, ev.price, ev.size, ev.ts)
        where[ev.order_id] = (side, order)
        side.append(order)
        return None

    def truncate(self, depth: int) -> None:
        where = self._where
        for side in (self.bids, self.asks):
            for order in side.truncate(depth):
                where.pop(order.order_id, None)

    def clear(self, reason: str) -> None:
        self.bids.clear()
        self.asks.clear()
        self._where = {}
        self.has_snapshot = False
        self.stale_reason = reason

    def rescale(self, price_decimals: int, size_decimals: int) -> None:
        """Move to a finer scale (never coarser: that could lose digits)."""
        rescale_sides(self, price_decimals, size_decimals)

    # --- reading -----------------------------------------------------------------------------

    def order(self, order_id: str) -> RestingOrder | None:
        held = self._where.get(order_id)
        return None if held is None else held[1]

    def place_of(self, order_id: str) -> QueuePlace | None:
        """Where an order stands in its level's queue, or None when the book does not hold it."""
        held = self._where.get(order_id)
        if held is None:
            return None
        side, order = held
        queue = side.queue(order.price)
        ahead = 0
        for i, resting in enumerate(queue):
            if resting is order:
                return QueuePlace(
                    side.is_bid,
                    order.price,
                    order.size,
                    i + 1,
                    i,
                    ahead,
                    len(queue),
                    ahead + sum(o.size for o in queue[i:]),
                )
            ahead += resting.size
        return None  # unreachable while the index and the levels agree

    def top_bids(self, n: int | None = None) -> list[Level]:
        return self.bids.top(n)

    def top_asks(self, n: int | None = None) -> list[Level]:
        return self.asks.top(n)

    def best_bid(self) -> Level | None:
        return self.bids.best()

    def best_ask(self) -> Level | None:
        return self.asks.best()

    def best_bid_price(self) -> Decimal | None:
        prices = self.bids.prices(1)
        return from_scaled(prices[0], self.price_decimals) if prices else None

    def best_ask_price(self) -> Decimal | None:
        prices = self.asks.prices(1)
        return from_scaled(prices[0], self.price_decimals) if prices else None

    def is_crossed(self) -> bool:
        bid, ask = self.bids.prices(1), self.asks.prices(1)
        return bool(bid) and bool(ask) and bid[0] >= ask[0]
