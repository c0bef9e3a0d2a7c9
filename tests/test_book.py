"""Tests for app.core.book: BookSide and OrderBook, by example and against a naive dict model."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.book import BookSide, OrderBook
from app.core.events import Level
from app.core.instruments import Venue


def make_book(depth: int | None = None, price_decimals: int = 2, size_decimals: int = 2) -> OrderBook:
    return OrderBook(Venue.KRAKEN, "BTC/USD", price_decimals, size_decimals, depth=depth)


# ---------------------------------------------------------------------------------------------------
# Examples
# ---------------------------------------------------------------------------------------------------


def test_snapshot_replaces_never_merges() -> None:
    """A second snapshot replaces both sides: levels only in the first snapshot are gone."""
    book = make_book()
    book.apply_snapshot([(100, 5), (99, 3)], [(101, 2), (102, 4)])
    book.apply_snapshot([(95, 1)], [(110, 7)])
    assert book.top_bids() == [(95, 1)]
    assert book.top_asks() == [(110, 7)]
    assert 100 not in book.bids
    assert book.bids.size_at(100) == 0
    assert len(book.bids) == 1
    assert len(book.asks) == 1


def test_snapshot_drops_zero_size_levels() -> None:
    """Zero-size entries in a snapshot are not stored as levels."""
    book = make_book()
    book.apply_snapshot([(100, 0), (99, 3)], [(101, 0)])
    assert book.top_bids() == [(99, 3)]
    assert book.top_asks() == []


def test_additive_change_adds_and_removes() -> None:
    """Additive deltas create, grow, shrink and (at exactly zero) remove levels; result is True."""
    book = make_book()
    book.apply_snapshot([(50, 10)], [(60, 10)])
    assert book.apply_change([(50, 5), (49, 3)], [(60, -10), (61, 2)], additive=True) is True
    assert book.top_bids() == [(50, 15), (49, 3)]
    assert book.top_asks() == [(61, 2)]
    assert 60 not in book.asks


def test_additive_change_below_zero_returns_false_and_drops_level() -> None:
    """A delta driving a level negative makes apply_change return False and removes the level."""
    book = make_book()
    book.apply_snapshot([(50, 10), (49, 1)], [(60, 10)])
    assert book.apply_change([(50, -11)], [], additive=True) is False
    assert 50 not in book.bids
    assert book.top_bids() == [(49, 1)]


def test_additive_negative_delta_on_missing_level_returns_false() -> None:
    """Removing size from a level that does not exist is a corrupt book: False, nothing stored."""
    book = make_book()
    book.apply_snapshot([], [(60, 10)])
    assert book.apply_change([], [(61, -1)], additive=True) is False
    assert book.top_asks() == [(60, 10)]


def test_absolute_change_sets_and_size_zero_removes() -> None:
    """Absolute changes overwrite sizes; size 0 removes the level; removing an absent level is a no-op."""
    book = make_book()
    book.apply_snapshot([(50, 10), (49, 1)], [(60, 10)])
    assert book.apply_change([(50, 3), (49, 0), (40, 0)], [(60, 0), (65, 2)], additive=False) is True
    assert book.top_bids() == [(50, 3)]
    assert book.top_asks() == [(65, 2)]


def test_absolute_change_repeated_price_last_wins() -> None:
    """Within one message the same price may repeat; changes apply in order so the last one wins."""
    book = make_book()
    book.apply_change([(50, 3), (50, 0), (50, 7)], [(60, 4), (60, 0)], additive=False)
    assert book.top_bids() == [(50, 7)]
    assert book.top_asks() == []


def test_bookside_set_negative_size_raises() -> None:
    """An absolute size below zero is rejected."""
    side = BookSide(is_bid=True)
    with pytest.raises(ValueError, match="negative size"):
        side.set(10, -1)


def test_truncate_to_depth_after_change() -> None:
    """With a depth, only the best `depth` levels per side survive a change (bids high, asks low)."""
    book = make_book(depth=2)
    book.apply_snapshot([(50, 1), (49, 1)], [(60, 1), (61, 1)])
    book.apply_change([(51, 2), (48, 2)], [(59, 2), (62, 2)], additive=False)
    assert book.top_bids() == [(51, 2), (50, 1)]
    assert book.top_asks() == [(59, 2), (60, 1)]
    assert len(book.bids) == 2
    assert 49 not in book.bids
    assert 61 not in book.asks


def test_truncate_to_depth_after_snapshot() -> None:
    """A snapshot larger than the depth is truncated to the best levels."""
    book = make_book(depth=1)
    book.apply_snapshot([(48, 1), (50, 1), (49, 1)], [(62, 1), (60, 1), (61, 1)])
    assert book.top_bids() == [(50, 1)]
    assert book.top_asks() == [(60, 1)]


def test_best_and_top_ordering() -> None:
    """best_* return the top level; top_* list bids highest-first, asks lowest-first, with n limits."""
    book = make_book()
    assert book.best_bid() is None
    assert book.best_ask() is None
    assert book.best_bid_price() is None
    book.apply_snapshot([(48, 1), (50, 2), (49, 3)], [(62, 4), (60, 5), (61, 6)])
    assert book.best_bid() == (50, 2)
    assert book.best_ask() == (60, 5)
    assert book.top_bids() == [(50, 2), (49, 3), (48, 1)]
    assert book.top_asks() == [(60, 5), (61, 6), (62, 4)]
    assert book.top_bids(2) == [(50, 2), (49, 3)]
    assert book.top_asks(1) == [(60, 5)]
    assert [p for p, _ in book.bids.top(2)] == [50, 49]
    assert [p for p, _ in book.asks.top(5)] == [60, 61, 62]
    assert str(book.best_bid_price()) == "0.50"
    assert str(book.best_ask_price()) == "0.60"


@pytest.mark.parametrize(
    ("bids", "asks", "crossed"),
    [
        ([(50, 1)], [(60, 1)], False),
        ([(60, 1)], [(60, 1)], True),  # locked counts as crossed
        ([(61, 1)], [(60, 1)], True),
        ([], [(60, 1)], False),
        ([(50, 1)], [], False),
        ([], [], False),
    ],
)
def test_is_crossed(bids: list[Level], asks: list[Level], crossed: bool) -> None:
    """is_crossed is True exactly when both sides exist and best bid >= best ask."""
    book = make_book()
    book.apply_snapshot(bids, asks)
    assert book.is_crossed() is crossed


def test_rescale_finer_keeps_values() -> None:
    """Rescaling to a finer scale multiplies units and leaves the Decimal values unchanged."""
    book = make_book(price_decimals=1, size_decimals=2)
    book.apply_snapshot([(452852, 150), (452850, 1)], [(452853, 99)])
    before = book.levels_as_decimals()
    book.rescale(3, 5)
    assert book.price_decimals == 3
    assert book.size_decimals == 5
    assert book.top_bids() == [(45285200, 150000), (45285000, 1000)]
    assert book.top_asks() == [(45285300, 99000)]
    assert book.levels_as_decimals() == before


def test_rescale_same_scale_is_noop() -> None:
    """Rescaling to the current scale changes nothing."""
    book = make_book(price_decimals=1, size_decimals=2)
    book.apply_snapshot([(10, 1)], [(11, 1)])
    book.rescale(1, 2)
    assert book.top_bids() == [(10, 1)]
    assert book.top_asks() == [(11, 1)]


@pytest.mark.parametrize(("pd", "sd"), [(0, 2), (1, 1), (0, 0)])
def test_rescale_coarser_raises(pd: int, sd: int) -> None:
    """Moving to a coarser price or size scale raises ValueError and leaves the book untouched."""
    book = make_book(price_decimals=1, size_decimals=2)
    book.apply_snapshot([(10, 1)], [(11, 1)])
    with pytest.raises(ValueError, match="finer"):
        book.rescale(pd, sd)
    assert (book.price_decimals, book.size_decimals) == (1, 2)
    assert book.top_bids() == [(10, 1)]


def test_stale_flag_lifecycle() -> None:
    """A new book is stale until its first snapshot; mark_stale and clear make it stale again."""
    book = make_book()
    assert book.stale
    assert book.stale_reason == "no snapshot yet"
    assert not book.has_snapshot
    book.apply_snapshot([(1, 1)], [(2, 1)])
    assert not book.stale
    assert book.stale_reason is None
    assert book.has_snapshot
    book.mark_stale("checksum mismatch")
    assert book.stale
    assert book.stale_reason == "checksum mismatch"
    book.apply_snapshot([(1, 1)], [(2, 1)])
    assert not book.stale
    book.clear("reconnecting")
    assert book.stale
    assert book.stale_reason == "reconnecting"
    assert not book.has_snapshot
    assert book.top_bids() == []
    assert book.top_asks() == []


def test_change_does_not_clear_stale() -> None:
    """Only a snapshot makes a book live again; changes (even successful ones) keep it stale."""
    book = make_book()
    book.apply_change([(1, 1)], [], additive=False)
    assert book.stale
    book.apply_snapshot([], [])
    book.mark_stale("gap")
    book.apply_change([(1, 1)], [], additive=True)
    assert book.stale_reason == "gap"


# ---------------------------------------------------------------------------------------------------
# Property tests against a naive model
# ---------------------------------------------------------------------------------------------------


@dataclass
class Model:
    """Two plain dicts price -> size; truncation sorts and keeps the best `depth` levels per side."""

    depth: int | None
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)

    def sorted_bids(self) -> list[Level]:
        return sorted(self.bids.items(), key=lambda lv: -lv[0])

    def sorted_asks(self) -> list[Level]:
        return sorted(self.asks.items())

    def truncate(self) -> None:
        if self.depth is not None:
            self.bids = dict(self.sorted_bids()[: self.depth])
            self.asks = dict(self.sorted_asks()[: self.depth])

    def snapshot(self, bids: list[Level], asks: list[Level]) -> None:
        self.bids = {p: s for p, s in bids if s > 0}
        self.asks = {p: s for p, s in asks if s > 0}
        self.truncate()

    def set_change(self, bids: list[Level], asks: list[Level]) -> None:
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)
        self.truncate()

    def add_change(self, bids: list[Level], asks: list[Level]) -> bool:
        ok = True
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for price, delta in levels:
                new = side.get(price, 0) + delta
                if new > 0:
                    side[price] = new
                else:
                    side.pop(price, None)
                    if new < 0:
                        ok = False
        self.truncate()
        return ok


PRICES = st.integers(min_value=1, max_value=60)
SIZES = st.integers(min_value=1, max_value=50)
# Absolute sizes: 0 (delete) often, so deletions of present and absent levels both happen.
SET_SIZES = st.one_of(st.just(0), SIZES)
DELTAS = st.integers(min_value=-40, max_value=40)
DEPTHS = st.one_of(st.none(), st.integers(min_value=1, max_value=6))


def _snapshot_side() -> st.SearchStrategy[list[Level]]:
    return st.dictionaries(PRICES, SIZES, max_size=15).map(lambda d: list(d.items()))


def _change_side(values: st.SearchStrategy[int]) -> st.SearchStrategy[list[Level]]:
    # Lists (not dicts): the same price may repeat within one message.
    return st.lists(st.tuples(PRICES, values), max_size=8)


SNAPSHOT_OP = st.tuples(st.just("snapshot"), _snapshot_side(), _snapshot_side())
SET_OP = st.tuples(st.just("set"), _change_side(SET_SIZES), _change_side(SET_SIZES))
ADD_OP = st.tuples(st.just("add"), _change_side(DELTAS), _change_side(DELTAS))

Op = tuple[str, list[Level], list[Level]]


def run_stream(depth: int | None, ops: list[Op]) -> None:
    """Apply each message to the book and the model, comparing the full state after every one."""
    book = make_book(depth=depth)
    model = Model(depth)
    for kind, bids, asks in ops:
        if kind == "snapshot":
            book.apply_snapshot(bids, asks)
            model.snapshot(bids, asks)
        elif kind == "set":
            assert book.apply_change(bids, asks, additive=False) is True
            model.set_change(bids, asks)
        else:
            expected_ok = model.add_change(bids, asks)
            assert book.apply_change(bids, asks, additive=True) is expected_ok
        assert_matches(book, model)


def assert_matches(book: OrderBook, model: Model) -> None:
    exp_bids, exp_asks = model.sorted_bids(), model.sorted_asks()
    assert book.top_bids() == exp_bids
    assert book.top_asks() == exp_asks
    assert book.top_bids(3) == exp_bids[:3]
    assert book.top_asks(3) == exp_asks[:3]
    assert book.best_bid() == (exp_bids[0] if exp_bids else None)
    assert book.best_ask() == (exp_asks[0] if exp_asks else None)
    assert len(book.bids) == len(model.bids)
    assert len(book.asks) == len(model.asks)
    if model.depth is not None:
        assert len(book.bids) <= model.depth
        assert len(book.asks) <= model.depth
    for price in range(1, 61):
        assert book.bids.size_at(price) == model.bids.get(price, 0)
        assert (price in book.asks) == (price in model.asks)
    crossed = bool(exp_bids and exp_asks and exp_bids[0][0] >= exp_asks[0][0])
    assert book.is_crossed() is crossed


@settings(max_examples=200, deadline=None)
@given(DEPTHS, st.lists(st.one_of(SNAPSHOT_OP, SET_OP), min_size=1, max_size=30))
def test_absolute_stream_matches_model(depth: int | None, ops: list[Op]) -> None:
    """Snapshots and absolute set-changes (repeats, zero deletes) keep the book equal to the model."""
    run_stream(depth, ops)


@settings(max_examples=200, deadline=None)
@given(DEPTHS, st.lists(st.one_of(SNAPSHOT_OP, ADD_OP), min_size=1, max_size=30))
def test_additive_stream_matches_model(depth: int | None, ops: list[Op]) -> None:
    """Snapshots and additive deltas keep the book equal to the model; a level going negative is
    dropped and apply_change returns False exactly when the model says so."""
    run_stream(depth, ops)


@settings(max_examples=200, deadline=None)
@given(DEPTHS, st.lists(st.one_of(SNAPSHOT_OP, SET_OP, ADD_OP), min_size=1, max_size=40))
def test_mixed_stream_matches_model(depth: int | None, ops: list[Op]) -> None:
    """Interleaving all three message kinds (including before any snapshot) still matches the model."""
    run_stream(depth, ops)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(SNAPSHOT_OP, SET_OP, ADD_OP), min_size=1, max_size=20),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=0, max_value=3),
)
def test_rescale_preserves_decimal_levels(ops: list[Op], dp: int, ds: int) -> None:
    """After any stream, rescaling to a finer scale keeps levels_as_decimals equal and order intact."""
    book = make_book(price_decimals=1, size_decimals=2)
    for kind, bids, asks in ops:
        if kind == "snapshot":
            book.apply_snapshot(bids, asks)
        else:
            book.apply_change(bids, asks, additive=kind == "add")
    before = book.levels_as_decimals()
    before_units = (book.top_bids(), book.top_asks())
    book.rescale(1 + dp, 2 + ds)
    assert book.levels_as_decimals() == before
    pf, sf = 10**dp, 10**ds
    assert book.top_bids() == [(p * pf, s * sf) for p, s in before_units[0]]
    assert book.top_asks() == [(p * pf, s * sf) for p, s in before_units[1]]
