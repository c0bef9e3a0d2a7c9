"""The simulated resting orders behind one Kraken pair's book (docs/protocol-kraken-level3.md).

The market model moves level-2 sizes only (``KrakenPairState.bids``/``asks``). This follows it order by
order: a level that grows gets a new order at the back of its queue, one that shrinks loses size from the
front (a fill), or the one order whose size is the whole decrease (a cancel), and a level that goes loses
all its orders. So at every price the orders' sizes sum to the level-2 size, by construction.

Each sync returns the order events it made; ``window_events`` turns them into what a subscriber of one
depth must be told, the way Kraken tells it: events for orders inside its window, every order of a level
that enters the window as an ``add``, and nothing for levels pushed out (the client truncates them).
"""

from __future__ import annotations

import random
import time
import zlib
from bisect import bisect_left, insort
from dataclasses import dataclass

from app.sim.kraken.market import KrakenPairState
from app.sim.units import fixed

CHECKSUM_LEVELS = 10
SEED_ORDERS_MAX = 4  # orders a seeded level is split into, at most
SIDES = ("bids", "asks")


@dataclass(slots=True)
class SimOrder:
    order_id: str
    price: int
    qty: int
    ts: str  # RFC 3339 with nanoseconds, as Kraken writes an order's time


@dataclass(frozen=True, slots=True)
class OrderOp:
    """One order event (``add``, ``modify`` to a smaller size, ``delete``) and the order as it is after it."""

    event: str
    order: SimOrder
    filled: int = 0  # the size a trade took from it (a fill from the front, or its level traded away)


class OrderSide:
    """One side: price -> orders in queue order (first to fill first), best price at rank 0."""

    __slots__ = ("_keys", "descending", "levels")

    def __init__(self, descending: bool) -> None:
        self.descending = descending
        self.levels: dict[int, list[SimOrder]] = {}
        self._keys: list[int] = []

    def _key(self, price: int) -> int:
        return -price if self.descending else price

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, price: int) -> bool:
        return price in self.levels

    def price_at(self, rank: int) -> int:
        return self._key(self._keys[rank])

    def rank(self, price: int) -> int:
        return bisect_left(self._keys, self._key(price))

    def bound(self, depth: int) -> int | None:
        """The worst price inside a ``depth``-level window, or None when the side has fewer levels."""
        return self.price_at(depth - 1) if len(self._keys) >= depth else None

    def size_at(self, price: int) -> int:
        return sum(o.qty for o in self.levels.get(price, ()))

    def orders_at(self, price: int) -> list[SimOrder]:
        return self.levels.get(price, [])

    def top(self, n: int | None = None) -> list[tuple[int, list[SimOrder]]]:
        keys = self._keys if n is None else self._keys[:n]
        return [(p, self.levels[p]) for p in map(self._key, keys)]

    def append(self, order: SimOrder) -> None:
        queue = self.levels.get(order.price)
        if queue is None:
            self.levels[order.price] = [order]
            insort(self._keys, self._key(order.price))
        else:
            queue.append(order)

    def drop_level(self, price: int) -> None:
        if self.levels.pop(price, None) is not None:
            del self._keys[bisect_left(self._keys, self._key(price))]


class PairOrders:
    """The resting orders of one simulated pair, kept equal (summed per price) to its level-2 book."""

    def __init__(self, state: KrakenPairState, rng: random.Random) -> None:
        self.state = state
        self.rng = rng
        self.bids = OrderSide(descending=True)
        self.asks = OrderSide(descending=False)
        self._last_ns = 0
        self.own: set[str] = set()  # the simulated user's order ids: never cancelled by others
        self._seed()

    def side(self, name: str) -> OrderSide:
        return self.bids if name == "bids" else self.asks

    # --- ids and times -----------------------------------------------------------------------

    def _new_id(self) -> str:
        chars = "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
        return f"O{chars[:5]}-{chars[5:10]}-{chars[10:16]}"

    def _stamp(self, ns: int | None = None) -> str:
        """Strictly increasing order times, so queue order is also time order (as on Kraken)."""
        ns = max(time.time_ns() if ns is None else ns, self._last_ns + 1)
        self._last_ns = ns
        secs, frac = divmod(ns, 1_000_000_000)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"

    def _seed(self) -> None:
        """Each level of the pair's book split into one to four orders, placed over the last hour."""
        now = time.time_ns()
        start = now - 3_600 * 1_000_000_000
        seeded: list[tuple[str, int, int]] = []
        for name in SIDES:
            for price, qty in self.state.side(name).top():
                parts = min(qty, self.rng.randint(1, SEED_ORDERS_MAX))
                cuts = sorted(self.rng.sample(range(1, qty), parts - 1)) if parts > 1 else []
                edges = [0, *cuts, qty]
                seeded.extend((name, price, edges[i + 1] - edges[i]) for i in range(parts))
        step = (now - start) // max(1, len(seeded))
        for i, (name, price, qty) in enumerate(seeded):
            self.side(name).append(SimOrder(self._new_id(), price, qty, self._stamp(start + i * step)))

    def pick_resting(self, name: str, rank: int) -> SimOrder | None:
        """An order with others ahead of it at the ``rank``-th best level (the user's, in the simulator)."""
        side = self.side(name)
        if len(side) <= rank:
            return None
        queue = side.orders_at(side.price_at(rank))
        return queue[-1] if len(queue) > 1 else queue[0]

    # --- following the level-2 book ------------------------------------------------------------

    def sync(self, prices: list[tuple[str, int]]) -> dict[str, dict[int, list[OrderOp]]]:
        """Bring the orders at ``prices`` to the level-2 sizes now; the events it took, per side and price."""
        ops: dict[str, dict[int, list[OrderOp]]] = {"bids": {}, "asks": {}}
        for name, price in prices:
            if price in ops[name]:
                continue
            ops[name][price] = self._sync_level(self.side(name), price, self.state.side(name).get(price))
        return ops

    def _sync_level(self, side: OrderSide, price: int, target: int) -> list[OrderOp]:
        queue = side.levels.get(price, [])
        have = sum(o.qty for o in queue)
        if target == have:
            return []
        if target > have:  # new liquidity joins the back of the queue
            order = SimOrder(self._new_id(), price, target - have, self._stamp())
            side.append(order)
            return [OrderOp("add", order)]
        if target == 0:  # the level went: for the user's order, only a trade can have taken it
            side.drop_level(price)
            return [OrderOp("delete", o, o.qty if o.order_id in self.own else 0) for o in queue]
        cut = have - target
        whole = next((o for o in queue if o.qty == cut and o.order_id not in self.own), None)
        if whole is not None:  # exactly one order's size went: that order was cancelled
            queue.remove(whole)
            return [OrderOp("delete", whole)]
        out: list[OrderOp] = []
        while cut > 0:  # otherwise a fill, from the front of the queue
            head = queue[0]
            if head.qty <= cut:
                cut -= head.qty
                queue.pop(0)
                out.append(OrderOp("delete", head, head.qty))
            else:
                head.qty -= cut
                out.append(OrderOp("modify", SimOrder(head.order_id, head.price, head.qty, head.ts), cut))
                cut = 0
        return out

    # --- what one subscriber is told -------------------------------------------------------------

    def bounds(self, depth: int) -> dict[str, int | None]:
        return {name: self.side(name).bound(depth) for name in SIDES}

    def window_events(
        self,
        ops: dict[str, dict[int, list[OrderOp]]],
        old_bounds: dict[str, int | None],
        existed: dict[str, set[int]],
        depth: int,
    ) -> dict[str, list[OrderOp]]:
        """The events a depth-``depth`` subscriber needs so its truncated book equals our top ``depth``.

        ``old_bounds`` and ``existed`` describe the book before the sync: each side's worst price inside
        the window (None: not full) and which touched prices held orders.
        """
        out: dict[str, list[OrderOp]] = {}
        for name in SIDES:
            side, bound = self.side(name), old_bounds[name]
            events: list[OrderOp] = []
            for price, level_ops in ops[name].items():
                was_in = price in existed[name] and (
                    bound is None or (price >= bound if side.descending else price <= bound)
                )
                if was_in:  # the client holds this level: tell it what changed
                    events.extend(level_ops)
                elif price in side and side.rank(price) < depth:  # a level entering the window
                    events.extend(OrderOp("add", o) for o in side.orders_at(price))
            if bound is not None:  # untouched levels refilling the window after one inside it left
                start = side.rank(bound) + (1 if bound in side else 0)
                for rank in range(start, min(depth, len(side))):
                    price = side.price_at(rank)
                    if price not in ops[name]:
                        events.extend(OrderOp("add", o) for o in side.orders_at(price))
            out[name] = events
        return out

    # --- checksum ----------------------------------------------------------------------------------

    def checksum(self) -> int:
        """Kraken's level3 CRC32: every order of the 10 best asks then the 10 best bids, in queue order,
        as its price then its quantity at the pair's precision, the ``.`` and leading zeros removed."""
        pd, qd = self.state.pair.price_precision, self.state.pair.qty_precision

        def text(side: OrderSide) -> str:
            return "".join(
                _digits(fixed(o.price, pd)) + _digits(fixed(o.qty, qd))
                for _, queue in side.top(CHECKSUM_LEVELS)
                for o in queue
            )

        return zlib.crc32((text(self.asks) + text(self.bids)).encode("ascii")) & 0xFFFFFFFF


def _digits(number: str) -> str:
    return number.replace(".", "").lstrip("0")
