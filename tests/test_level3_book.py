"""app.core.level3: the order-by-order book, by example and against a naive model of queues."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.core.events import OrderEvent, OrderEventKind
from app.core.instruments import Venue
from app.core.level3 import Level3Book, QueuePlace, RestingOrder, time_key

ADD, MODIFY, DELETE = OrderEventKind.ADD, OrderEventKind.MODIFY, OrderEventKind.DELETE


def book(depth: int | None = None) -> Level3Book:
    return Level3Book(Venue.KRAKEN, "BTC/USD", 1, 8, depth)


def ts(second: int) -> str:
    return f"2024-01-08T12:26:{second:02d}.000000001Z"


def ids(orders: list[RestingOrder]) -> list[str]:
    return [o.order_id for o in orders]


def test_snapshot_keeps_each_level_in_the_order_listed_and_sums_sizes() -> None:
    b = book()
    b.apply_snapshot(
        [RestingOrder("b1", 100, 5), RestingOrder("b2", 100, 3), RestingOrder("b3", 99, 7)],
        [RestingOrder("a1", 101, 2), RestingOrder("a2", 103, 4), RestingOrder("a3", 101, 1)],
    )
    assert b.top_bids() == [(100, 8), (99, 7)]
    assert b.top_asks() == [(101, 3), (103, 4)]
    assert ids(b.asks.orders_at(101)) == ["a1", "a3"]
    assert b.bids.counts() == [(100, 2), (99, 1)]
    assert len(b) == 6 and not b.stale


def test_add_joins_the_back_modify_keeps_the_place_delete_removes() -> None:
    b = book()
    b.apply_snapshot([RestingOrder("b1", 100, 5, ts(1)), RestingOrder("b2", 100, 3, ts(2))], [])
    assert b.apply_events([OrderEvent(ADD, "b3", 100, 4, ts(3))], []) == []
    assert ids(b.bids.orders_at(100)) == ["b1", "b2", "b3"]
    b.apply_events([OrderEvent(MODIFY, "b1", 100, 1, ts(4))], [])  # a partial fill of the first
    assert ids(b.bids.orders_at(100)) == ["b1", "b2", "b3"] and b.bids.size_at(100) == 8
    b.apply_events([OrderEvent(DELETE, "b2", 100, 3, ts(5))], [])
    assert ids(b.bids.orders_at(100)) == ["b1", "b3"]
    b.apply_events([OrderEvent(DELETE, "b1", 100, 1), OrderEvent(DELETE, "b3", 100, 4)], [])
    assert b.top_bids() == [] and 100 not in b.bids and len(b) == 0


def test_an_order_re_entering_the_window_goes_where_its_time_puts_it() -> None:
    """Kraken lists a refilled level's orders as adds, not always in time order (protocol note §4.1)."""
    b = book()
    b.apply_snapshot([], [RestingOrder("new", 105, 1, ts(30))])
    b.apply_events([], [OrderEvent(ADD, "old", 105, 2, ts(10)), OrderEvent(ADD, "mid", 105, 3, ts(20))])
    assert ids(b.asks.orders_at(105)) == ["old", "mid", "new"]
    b.apply_events([], [OrderEvent(ADD, "same", 105, 1, ts(20))])  # same time: after those already there
    assert ids(b.asks.orders_at(105)) == ["old", "mid", "same", "new"]


def test_a_price_change_sends_the_order_to_the_back_of_its_new_level() -> None:
    b = book()
    b.apply_snapshot([RestingOrder("x", 100, 5, ts(1)), RestingOrder("y", 99, 5, ts(2))], [])
    b.apply_events([OrderEvent(MODIFY, "x", 99, 5, ts(9))], [])
    assert b.top_bids() == [(99, 10)] and ids(b.bids.orders_at(99)) == ["y", "x"]


def test_events_the_book_cannot_place_are_reported() -> None:
    b = book()
    b.apply_snapshot([RestingOrder("b1", 100, 5)], [RestingOrder("a1", 101, 5)])
    problems = b.apply_events(
        [OrderEvent(DELETE, "ghost", 100, 1), OrderEvent(MODIFY, "a1", 100, 1)],
        [OrderEvent(MODIFY, "nobody", 101, 1)],
    )
    assert len(problems) == 3
    assert "ghost" in problems[0] and "other side" in problems[1] and "nobody" in problems[2]
    assert b.top_asks() == [(101, 5)]  # nothing moved


def test_an_add_of_an_id_already_held_replaces_the_stale_copy() -> None:
    b = book()
    b.apply_snapshot([RestingOrder("b1", 100, 5), RestingOrder("b2", 100, 1)], [])
    b.apply_events([OrderEvent(ADD, "b1", 98, 2)], [])
    assert b.top_bids() == [(100, 1), (98, 2)] and len(b) == 2


def test_truncation_counts_levels_and_forgets_the_orders_dropped() -> None:
    b = book(depth=2)
    b.apply_snapshot(
        [RestingOrder("b1", 100, 1), RestingOrder("b2", 99, 1), RestingOrder("b3", 99, 1)],
        [RestingOrder("a1", 101, 1)],
    )
    b.apply_events([OrderEvent(ADD, "b4", 100, 2), OrderEvent(ADD, "b0", 102, 1)], [])
    assert b.top_bids() == [(102, 1), (100, 3)]
    assert "b2" not in b and "b3" not in b and len(b) == 4
    # A dropped order coming back is an add with its own id again.
    assert b.apply_events([OrderEvent(DELETE, "b0", 102, 1), OrderEvent(ADD, "b2", 99, 1)], []) == []
    assert b.top_bids() == [(100, 3), (99, 1)]


def test_queue_place_says_position_and_size_ahead() -> None:
    b = book()
    b.apply_snapshot(
        [RestingOrder("b1", 100, 5), RestingOrder("mine", 100, 2), RestingOrder("b3", 100, 7)],
        [RestingOrder("a1", 101, 4)],
    )
    assert b.place_of("mine") == QueuePlace(True, 100, 2, 2, 1, 5, 3, 14)
    assert b.place_of("a1") == QueuePlace(False, 101, 4, 1, 0, 0, 1, 4)
    assert b.place_of("absent") is None


def test_rescale_keeps_every_order_exact() -> None:
    b = book()
    b.apply_snapshot([RestingOrder("b1", 449394, 88968699)], [RestingOrder("a1", 449395, 1)])
    b.rescale(2, 10)
    assert b.top_bids() == [(4493940, 8896869900)] and b.order("a1") == RestingOrder("a1", 4493950, 100)


def test_time_key_orders_rfc3339_times_and_refuses_other_text() -> None:
    assert time_key("2024-01-08T12:26:39.5Z") == "2024-01-08T12:26:39500000000"
    assert time_key("2024-01-08T12:26:39Z") == "2024-01-08T12:26:39000000000"
    assert time_key("2024-01-08T12:26:39.1+01:00") is None
    assert time_key("yesterday") is None and time_key(None) is None
    assert time_key("2024-01-08T12:26:39.526146327Z") < time_key("2024-01-08T12:26:39.6Z")  # type: ignore[operator]


# ---------------------------------------------------------------------------------------------------
# Against a naive model: per side a dict price -> list of (id, size), adds appended (times increase).
# ---------------------------------------------------------------------------------------------------

_events = st.lists(
    st.tuples(
        st.sampled_from([ADD, ADD, MODIFY, DELETE]),
        st.booleans(),  # bid?
        st.integers(0, 11),  # order number
        st.integers(95, 105),  # price
        st.integers(1, 9),  # size
    ),
    max_size=60,
)


@given(_events, st.sampled_from([None, 3]))
def test_matches_a_naive_queue_model(
    events: list[tuple[OrderEventKind, bool, int, int, int]], depth: int | None
) -> None:
    b = book(depth)
    b.apply_snapshot([], [])
    model: dict[bool, dict[int, list[tuple[str, int]]]] = {True: {}, False: {}}
    where: dict[str, tuple[bool, int]] = {}
    for n, (kind, is_bid, number, base_price, size) in enumerate(events):
        order_id = f"{'b' if is_bid else 'a'}{number}"
        price = base_price if is_bid else base_price + 20  # never crossed
        ev = OrderEvent(kind, order_id, price, size, ts(n % 60))
        held = where.get(order_id)
        problems = b.apply_events([ev] if is_bid else [], [] if is_bid else [ev])
        if kind is not ADD and held is None:
            assert problems
            continue
        assert problems == []
        side = model[is_bid]
        if held is not None and (kind is not MODIFY or held[1] != price):
            queue = side[held[1]]
            queue[:] = [o for o in queue if o[0] != order_id]
            if not queue:
                del side[held[1]]
            del where[order_id]
        if kind is ADD or (kind is MODIFY and (held is None or held[1] != price)):
            side.setdefault(price, []).append((order_id, size))
            where[order_id] = (is_bid, price)
        elif kind is MODIFY:
            side[price] = [(i, size if i == order_id else s) for i, s in side[price]]
        if depth is not None:
            for flag in (True, False):
                keep = sorted(model[flag], reverse=flag)[:depth]
                for p in list(model[flag]):
                    if p not in keep:
                        for i, _ in model[flag].pop(p):
                            del where[i]
        # Every event is newer than the last (ts(n), n < 60): each queue is exactly the model's.
        for flag, got in ((True, b.bids), (False, b.asks)):
            want = sorted(model[flag].items(), reverse=flag)
            assert got.top() == [(p, sum(s for _, s in q)) for p, q in want]
            assert [[(o.order_id, o.size) for o in queue] for _, queue in got.levels()] == [
                q for _, q in want
            ]
        assert len(b) == len(where)
