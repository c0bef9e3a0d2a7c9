"""The simulated Kraken level3 endpoint (docs/protocol-kraken-level3.md): ``wss://ws-l3.kraken.com/v2``.

A host of its own on Kraken; here a path of its own (``L3_WS_PATH``) on the Kraken port. It serves the
``level3`` channel only, and only with a valid WebSocket token (the same check, and words, as the private
channels). Frames follow the pair's level-2 book through ``orders.PairOrders``: a snapshot of the top
``depth`` levels order by order, then add/modify/delete events as the book moves, each frame with the
level3 CRC32. The ``bad-checksum`` fault corrupts that checksum as it does the book's.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from app.sim.events import KrakenBook, KrakenExecution, SimEvent
from app.sim.kraken import wire as kw
from app.sim.kraken.orders import SIDES, OrderOp, PairOrders, SimOrder
from app.sim.kraken.ws import KrakenSub, KrakenWs, _Asked, _frame
from app.sim.market import rfc3339

L3_WS_PATH = "/l3/v2"  # stands for the host ws-l3.kraken.com; the path stays /v2 there
CHANNEL = "level3"
DEPTHS = (10, 100, 1000)
PARAMS = {"channel", "symbol", "depth", "snapshot", "token"}
USER_ORDER_PAIRS = 4
OWN_RANK = {"bids": 2, "asks": 1}  # where the user's orders rest: a few levels in, behind others


class KrakenLevel3Ws(KrakenWs):
    """Kraken's level3 WebSocket: the orders behind each price, for holders of a token."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.orders: dict[str, PairOrders] = {}  # pair -> its orders, following its book from the start
        # Where the user's fills go: the main endpoint's private ``executions`` and ``balances``.
        self.on_own_fill: Callable[[Sequence[SimEvent]], None] | None = None
        self._fill_trade_ids = 0
        self._ids_rng = random.Random(self.market.config.seed * 7_919 + 3)
        for symbol in self.market.kraken:
            self.pair_orders(symbol)
        self._place_user_orders()

    def _new_id(self, prefix: str) -> str:
        chars = "".join(self._ids_rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
        return f"{prefix}{chars[:5]}-{chars[5:10]}-{chars[10:16]}"

    def _place_user_orders(self) -> None:
        """Some of the resting orders are the simulated user's: one bid and one ask on each of the first
        pairs, a few levels in and behind others, listed as open orders in the executions snapshot."""
        for orders in list(self.orders.values())[:USER_ORDER_PAIRS]:
            for name in SIDES:
                self._place_own(orders, name)

    def _place_own(self, orders: PairOrders, name: str) -> dict[str, Any] | None:
        """One of the user's orders on ``name``'s side (a resting order behind others, a few levels in),
        as the open order the executions channel reports; None when the side is too thin."""
        pair = orders.state.pair
        account = self.market.kraken_account
        order = orders.pick_resting(name, OWN_RANK[name])
        if order is None or order.order_id in orders.own:
            return None
        orders.own.add(order.order_id)
        report = account.open_orders[order.order_id] = {
            "order_id": order.order_id,
            "exec_type": "new",
            "symbol": pair.symbol,
            "side": "buy" if name == "bids" else "sell",
            "order_type": "limit",
            "limit_price": (order.price, pair.price_precision),
            "order_qty": (order.qty, pair.qty_precision),
            "cum_qty": (0, pair.qty_precision),
            "order_status": "new",
            "timestamp": order.ts,
            "order_userref": 0,
        }
        return report

    def pair_orders(self, symbol: str) -> PairOrders | None:
        """The pair's orders, started from its level-2 book on first use; None for a pair we don't list."""
        orders = self.orders.get(symbol)
        state = self.market.kraken.get(symbol)
        if orders is None and state is not None:
            seed = self.market.config.seed * 1_000_003 + zlib.crc32(symbol.encode())
            orders = self.orders[symbol] = PairOrders(state, random.Random(seed))
        return orders

    # ------------------------------------------------------------------ requests

    def route(self, ask: _Asked, channel: str, params: dict[str, Any]) -> None:
        if channel != CHANNEL:
            return ask.fail("Subscription name invalid")
        unknown = sorted(set(params) - PARAMS)
        if unknown:
            return ask.fail(f"Unsupported field: '{unknown[0]}' for the given msg type: {ask.method}")
        problem = self.token_problem(params.get("token"))
        if problem is not None:
            return ask.fail(problem)
        symbols = params.get("symbol")
        if not isinstance(symbols, list) or not symbols or not all(isinstance(s, str) for s in symbols):
            return ask.fail("EGeneral:Invalid arguments:symbol")
        depth = params.get("depth", 10)
        snapshot = params.get("snapshot", True) is not False
        conn = ask.conn
        for symbol in dict.fromkeys(symbols):
            if depth not in DEPTHS:
                ask.fail("Subscription depth not supported", symbol)
                continue
            orders = self.pair_orders(symbol)
            if orders is None:
                ask.fail(f"Currency pair not supported {symbol}", symbol)
                continue
            key = (CHANNEL, symbol)
            existing = conn.subs.get(key)
            result: dict[str, Any] = {"channel": CHANNEL, "symbol": symbol, "depth": depth}
            if ask.method == "unsubscribe":
                if existing is None or existing.depth != depth:
                    ask.not_found(symbol)
                    continue
                del conn.subs[key]
                ask.ok(result)
                continue
            if existing is not None:
                ask.fail("Already subscribed", symbol)
                continue
            conn.subs[key] = KrakenSub(CHANNEL, symbol, depth=depth, snapshot=snapshot)
            ask.ok({**result, "snapshot": snapshot})
            if snapshot:
                conn.outbox.put(_frame(snapshot_frame(orders, depth)))

    # ------------------------------------------------------------------ market events

    def dispatch(self, events: Sequence[SimEvent]) -> None:
        """Follow every book change of a pair with orders (subscribed or not: they must stay equal to the
        level-2 book), and tell each level3 subscriber of that pair what its window saw."""
        for event in events:
            if isinstance(event, KrakenBook):
                orders = self.orders.get(event.pair)
                if orders is not None:
                    self._follow(orders, event)

    def _own_fills(
        self, orders: PairOrders, ops: dict[str, dict[int, list[OrderOp]]], event: KrakenBook
    ) -> None:
        """The user's resting orders a trade reached: each fill reported as Kraken's ``executions`` does
        (``partially_filled`` then ``filled``), the balances moved, and a filled order no longer open."""
        account = self.market.kraken_account
        state = orders.state
        qd = state.pair.qty_precision
        out: list[SimEvent] = []
        for side_ops in ops.values():
            for level_ops in side_ops.values():
                for op in level_ops:
                    if not op.filled or op.order.order_id not in orders.own:
                        continue
                    order_id = op.order.order_id
                    report = account.open_orders.get(order_id)
                    if report is None:
                        continue
                    order_qty, cum = report["order_qty"][0], report["cum_qty"][0] + op.filled
                    if not self.market.kraken_affordable(
                        state, report["side"], op.filled, op.order.price, is_taker=False
                    ):
                        # a spot account never sells what it does not hold: the order is cancelled
                        del account.open_orders[order_id]
                        orders.own.discard(order_id)
                        out.append(KrakenExecution(_cancelled(report, event.ts)))
                        continue
                    self._fill_trade_ids += 1
                    out += self.market.kraken_execution(
                        state,
                        order_id,
                        side=report["side"],
                        qty=op.filled,
                        price=op.order.price,
                        stamp=event.ts,
                        trade_id=10_000_000 + self._fill_trade_ids,
                        is_taker=False,
                        order_qty=order_qty,
                        cum_qty=cum,
                        new_id=self._new_id,
                    )
                    if cum >= order_qty:
                        del account.open_orders[order_id]
                        orders.own.discard(order_id)
                        # the user quotes again on that side, as a market maker does: a new open order
                        placed = self._place_own(orders, "bids" if report["side"] == "buy" else "asks")
                        if placed is not None:
                            out.append(KrakenExecution(dict(placed)))
                    else:
                        report["cum_qty"] = (cum, qd)
                        report["order_status"] = "partially_filled"
        if out and self.on_own_fill is not None:
            self.on_own_fill(out)

    def _follow(self, orders: PairOrders, event: KrakenBook) -> None:
        subs = [
            (conn, sub)
            for conn in list(self.conns.values())
            if (sub := conn.subs.get((CHANNEL, event.pair))) is not None and not conn.blasting
        ]
        depths = {sub.depth for _, sub in subs}
        old_bounds = {depth: orders.bounds(depth) for depth in depths}
        touched = [(side, price) for side, price, _ in event.touched]
        existed = {name: {p for s, p in touched if s == name and p in orders.side(name)} for name in SIDES}
        ops = orders.sync(touched)
        if orders.own:
            self._own_fills(orders, ops, event)
        rendered: dict[int, tuple[str, int] | None] = {}
        for conn, sub in subs:
            if sub.depth not in rendered:
                told = orders.window_events(ops, old_bounds[sub.depth], existed, sub.depth)
                if not told["bids"] and not told["asks"]:
                    rendered[sub.depth] = None
                else:
                    crc = orders.checksum()
                    rendered[sub.depth] = (_frame(update_frame(orders, told, crc, event.ts)), crc)
            frame = rendered[sub.depth]
            if frame is None:
                continue
            text, crc = frame
            if self.faults.frame("bad-checksum", "kraken", conn.id):
                text = text.replace(f'"checksum":{crc}', f'"checksum":{(crc + 1) & 0xFFFFFFFF}')
            self._data(conn, text)


# ---------------------------------------------------------------------------------------- frames


def _order(orders: PairOrders, order: SimOrder, event: str | None) -> dict[str, Any]:
    pair = orders.state.pair
    out: dict[str, Any] = {} if event is None else {"event": event}
    out["order_id"] = order.order_id
    out["limit_price"] = kw.num(order.price, pair.price_precision)
    out["order_qty"] = kw.num(order.qty, pair.qty_precision)
    out["timestamp"] = order.ts
    return out


def snapshot_frame(orders: PairOrders, depth: int) -> dict[str, Any]:
    """The top ``depth`` levels of each side, best first, every level's orders in queue order."""
    sides = {
        name: [_order(orders, o, None) for _, queue in orders.side(name).top(depth) for o in queue]
        for name in SIDES
    }
    return {
        "channel": CHANNEL,
        "type": "snapshot",
        "data": [
            {
                "symbol": orders.state.symbol,
                "bids": sides["bids"],
                "asks": sides["asks"],
                "checksum": orders.checksum(),
                "timestamp": rfc3339(),
            }
        ],
    }


def update_frame(orders: PairOrders, told: dict[str, list[OrderOp]], crc: int, ts: str) -> dict[str, Any]:
    sides = {name: [_order(orders, op.order, op.event) for op in told[name]] for name in SIDES}
    return {
        "channel": CHANNEL,
        "type": "update",
        "data": [
            {
                "symbol": orders.state.symbol,
                "bids": sides["bids"],
                "asks": sides["asks"],
                "checksum": crc,
                "timestamp": ts,
            }
        ],
    }


def _cancelled(report: dict[str, Any], stamp: str) -> dict[str, Any]:
    """The executions update for one of the user's orders the account can no longer cover."""
    return {
        "order_id": report["order_id"],
        "exec_type": "canceled",
        "symbol": report["symbol"],
        "side": report["side"],
        "order_status": "canceled",
        "cum_qty": report["cum_qty"],
        "reason": "Insufficient funds",
        "timestamp": stamp,
        "order_userref": 0,
    }
