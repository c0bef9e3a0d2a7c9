"""Memory stays flat however many markets pass through the store: every history is capped per market
and in total (issue 13). Driven through ``MarketStore.apply`` with real core events."""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from app.core import store as store_mod
from app.core.budget import Budget
from app.core.events import Candle, Lifecycle, OrderUpdate, TakerSide, Trade
from app.core.instruments import Venue
from app.core.store import MarketStore

K, X = Venue.KALSHI, Venue.KRAKEN


def trade(market: str, n: int) -> Trade:
    return Trade(X, market, f"{market}-{n}", Decimal("100.5"), Decimal("0.1"), TakerSide.BUY, ts_ms=n)


def candle(market: str, minute: int) -> Candle:
    one = Decimal(1)
    return Candle(
        X, market, 1, f"2026-12-02T{minute // 60:02d}:{minute % 60:02d}:00Z", one, one, one, one, one
    )


def total_tape(store: MarketStore) -> int:
    return sum(len(m.tape) for m in store.markets.values())


def test_budget_trims_to_an_equal_share_and_spares_the_quiet() -> None:
    budget = Budget(limit=100, floor=5)
    busy, quiet = deque(range(80)), deque(range(10))
    budget.used = 90
    assert budget.grew(11)
    budget.trim([busy, quiet])
    # 90 % of the limit: the quiet history keeps all it has, the busy one the rest, newest items kept.
    assert len(quiet) == 10 and len(busy) == 80 and budget.used == 90  # already at the target
    busy.extend(range(80, 200))
    budget.used += 120
    budget.trim([busy, quiet])
    assert len(quiet) == 10 and len(busy) == 80 and busy[-1] == 199 and busy[0] == 120
    assert budget.used == 90 and budget.trims == 2


def test_budget_floor_holds_when_there_are_very_many_histories() -> None:
    budget = Budget(limit=100, floor=5)
    many = [deque(range(8)) for _ in range(50)]  # 400 items; floors alone would hold 250
    budget.used = 400
    budget.trim(many)
    assert all(len(h) == 1 and h[0] == 7 for h in many) and budget.used == 50  # the limit holds
    budget = Budget(limit=100, floor=5)
    more = [deque(range(3)) for _ in range(200)]  # more histories than the limit: one item each
    budget.used = 600
    budget.trim(more)
    assert budget.used == 200 and not budget.grew()  # no trim per item until real growth


def test_tapes_over_many_markets_stay_within_the_total(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(store_mod, "TAPE_TOTAL", 3_000)
    store = MarketStore()
    store.tape_budget = Budget(3_000, store_mod.TAPE_FLOOR)
    markets = [f"P{i}/USD" for i in range(40)]
    for n in range(store_mod.TAPE_LIMIT):
        store.apply(X, [trade(m, n) for m in markets[:10]])  # ten busy markets fill their tapes
    store.apply(X, [trade(m, 0) for m in markets[10:]])  # thirty quiet ones trade once
    assert total_tape(store) <= 3_000
    assert store.tape_budget.used == total_tape(store)
    busy = store.markets[(X, markets[0])]
    assert len(busy.tape) >= store_mod.TAPE_FLOOR and busy.tape[-1].trade_id == f"{markets[0]}-499"
    assert busy.trades_seen == store_mod.TAPE_LIMIT  # the count the tape view follows is untouched
    assert all(len(store.markets[(X, m)].tape) == 1 for m in markets[10:])  # the quiet keep theirs


def test_real_limits_bound_a_day_of_watchlist_switching() -> None:
    store = MarketStore()
    for batch in range(6):  # six watchlists of 100 markets, each tape filled
        markets = [f"B{batch}M{i}" for i in range(100)]
        for n in range(0, store_mod.TAPE_LIMIT, 50):
            store.apply(X, [trade(m, n + k) for m in markets for k in range(50)])
        assert total_tape(store) <= store_mod.TAPE_TOTAL
    assert store.tape_budget.trims > 0


def test_candles_capped_per_market_and_in_total(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = MarketStore()
    store.candle_budget = Budget(2_000, store_mod.CANDLE_FLOOR)
    for minute in range(store_mod.CANDLE_LIMIT + 30):
        store.apply(X, [candle("BTC/USD", minute)])
        store.apply(X, [candle("BTC/USD", minute)])  # a bar re-sent as it fills in is not a new one
    btc = store.markets[(X, "BTC/USD")].candles
    assert len(btc) == store_mod.CANDLE_LIMIT and next(iter(btc)).endswith("00:30:00Z")
    for i in range(10):
        for minute in range(300):
            store.apply(X, [candle(f"P{i}/USD", minute)])
    assert sum(len(m.candles) for m in store.markets.values()) <= 2_000
    assert all(len(m.candles) >= store_mod.CANDLE_FLOOR for m in store.markets.values())


def test_order_updates_are_capped_and_the_newest_kept() -> None:
    store = MarketStore()
    limit = store_mod.ORDERS_LIMIT
    store.apply(K, [OrderUpdate(K, "M", f"o{n}", "resting") for n in range(limit + 10)])
    store.apply(K, [OrderUpdate(K, "M", "o10", "executed")])  # an update refreshes its order
    store.apply(K, [OrderUpdate(K, "M", "new", "resting")])
    assert len(store.orders) == limit
    assert (K, "o10") in store.orders and (K, "o11") not in store.orders and (K, "new") in store.orders


def test_lifecycle_of_unwatched_markets_builds_no_market_state() -> None:
    store = MarketStore()
    store.apply(K, [Lifecycle(K, f"KX-{n}", "deactivated", status="paused") for n in range(500)])
    assert not store.markets  # no state, no tape, for a market nobody watches
    assert store.status(K, "KX-7") == "paused"
    store.apply(K, [trade_k := Trade(K, "KX-7", "t1", Decimal("0.5"), Decimal(1), None)])
    assert trade_k.market == "KX-7" and store.markets[(K, "KX-7")].status == "paused"  # carried over
    assert store.report(K, "KX-7")["status"] == "paused" and store.report(K, "KX-8")["status"] == "paused"
    store.apply(
        K, [Lifecycle(K, f"KY-{n}", "created", status="open") for n in range(store_mod.STATUSES_LIMIT)]
    )
    assert store.status(K, "KX-8") is None  # the oldest words go first
