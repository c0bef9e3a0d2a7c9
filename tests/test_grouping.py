"""Price grouping (app/core/grouping.py): buckets a whole number of ticks wide, sizes summed exactly, bids
to the floor and asks to the ceiling, on generated books and on the simulator's own BTC/USD book."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.grouping import group_choices, group_side, step_units
from app.sim.market import SimConfig, SimMarket

prices = st.lists(st.integers(1, 10**9), min_size=0, max_size=60, unique=True)
sizes = st.integers(1, 10**12)


@given(prices, st.data(), st.integers(1, 10**5), st.booleans())
def test_grouped_sizes_sum_exactly_into_floor_or_ceiling_buckets(ps, data, step, is_bid) -> None:
    ordered = sorted(ps, reverse=is_bid)  # best first
    levels = [(p, data.draw(sizes)) for p in ordered]
    grouped = group_side(levels, step, is_bid)
    assert sum(s for _, s in grouped) == sum(s for _, s in levels)  # nothing lost, nothing rounded
    buckets = [b for b, _ in grouped]
    assert buckets == sorted(set(buckets), reverse=is_bid)  # each bucket once, best first
    for bucket, size in grouped:
        assert bucket % step == 0
        lo, hi = (bucket, bucket + step - 1) if is_bid else (bucket - step + 1, bucket)
        inside = [s for p, s in levels if lo <= p <= hi]
        assert sum(inside) == size


def test_bids_floor_asks_ceil_and_the_sides_never_meet() -> None:
    bids = [(671255, 3), (671201, 2), (671199, 5)]  # BTC/USD in tenths: 67,125.5 ...
    asks = [(671256, 1), (671300, 4), (671301, 6)]
    assert group_side(bids, 100, is_bid=True) == [(671200, 5), (671100, 5)]
    assert group_side(asks, 100, is_bid=False) == [(671300, 5), (671400, 6)]
    assert group_side(bids, 1, is_bid=True) == bids  # one tick wide: the book itself
    with pytest.raises(ValueError, match="at least one unit"):
        group_side(bids, 0, is_bid=True)


def test_choices_follow_the_pairs_tick_and_widths_are_whole_ticks() -> None:
    assert group_choices(Decimal("0.1"), Decimal("67000")) == [Decimal("0.1"), 1, 10, 100]
    assert [str(c) for c in group_choices(Decimal("0.1"))] == ["0.1", "1", "10", "100"]
    assert [str(c) for c in group_choices(Decimal("0.01"), Decimal("3.5"))] == ["0.01", "0.1"]
    assert group_choices(Decimal(0)) == []
    assert step_units(Decimal("10"), 1) == 100
    assert step_units(Decimal("0.1"), 1) == 1
    for bad in (Decimal("0.05"), Decimal("0"), Decimal("-1")):
        with pytest.raises(ValueError, match="whole number"):
            step_units(bad, 1)


def test_the_simulators_book_grouped_keeps_its_total() -> None:
    market = SimMarket(SimConfig(seed=1))
    state = market.kraken["BTC/USD"]
    for _ in range(200):
        market.step()
    pd = state.pair.price_precision
    for width in group_choices(Decimal(1).scaleb(-pd)):
        step = step_units(width, pd)
        for side, is_bid in ((state.bids, True), (state.asks, False)):
            levels = side.top(1000)
            grouped = group_side(levels, step, is_bid)
            assert sum(s for _, s in grouped) == sum(s for _, s in levels) > 0
            assert len(grouped) <= len(levels)
