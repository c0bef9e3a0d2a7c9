"""The Kraken session's hot path (``_update_fast``) is an optimisation only: fed the same frames, a
session that uses it and one that takes the general path (``on_message``) emit equal events and hold
equal books, on real fixtures, on the simulator's blasted stream and on mutated update frames."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.sim.kraken import wire as kw
from app.sim.market import SimConfig, SimMarket
from app.venues import wire
from app.venues.kraken.session import KrakenSession
from tests.conftest import fixture_lines

SUB = {"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}, "req_id": 1}


def _pair() -> tuple[KrakenSession, KrakenSession]:
    fast, general = KrakenSession(10), KrakenSession(10)
    fast.on_command_sent(SUB)
    general.on_command_sent(SUB)
    return fast, general


def _feed_both(frames: list[str]) -> tuple[KrakenSession, KrakenSession]:
    fast, general = _pair()
    for frame in frames:
        got = fast.on_frame(frame)
        try:
            obj = wire.parse(frame)
        except wire.FrameError:
            expected = general.on_frame(frame)  # not JSON: both take the same branch
        else:
            expected = general.on_message(obj)
        assert got == expected, frame
    assert fast.books.keys() == general.books.keys()
    for symbol, book in fast.books.items():
        other = general.books[symbol]
        assert (book.top_bids(), book.top_asks(), book.stale_reason) == (
            other.top_bids(),
            other.top_asks(),
            other.stale_reason,
        )
        assert (book.price_decimals, book.size_decimals) == (other.price_decimals, other.size_decimals)
    assert fast.checksum_ok == general.checksum_ok and fast.checksum_failed == general.checksum_failed
    return fast, general


def _blasted(count: int) -> list[str]:
    """The simulator's blast-mode stream for one pair at depth 10 (what bench --stream measures)."""
    market = SimMarket(SimConfig(seed=3, kalshi_markets=1, kraken_pairs=2))
    state = market.kraken["BTC/USD"]
    frames = [kw.encode(kw.book_snapshot(state, 10, kw.checksum(state))).decode()]
    for event in market.blast_kraken("BTC/USD", count, 10):
        bids, asks = kw.book_changes(state, event, 10)
        frames.append(kw.encode(kw.book_update(state, bids, asks, kw.checksum(state), event.ts)).decode())
    return frames


def test_blasted_stream_agrees_and_every_checksum_passes() -> None:
    fast, _ = _feed_both(_blasted(3000))
    assert fast.checksum_ok["BTC/USD"] == 3001  # the snapshot and every update and not fast.checksum_failed
    assert not fast.books["BTC/USD"].stale


def test_fixture_streams_agree() -> None:
    for name in (
        "kraken.jsonl",
        "kraken-samples.jsonl",
        "kraken-book-sequence-1.jsonl",
        "kraken-book-sequence-4.jsonl",
    ):
        raw = [line["raw"] for line in fixture_lines(name)]
        _feed_both([r if isinstance(r, str) else json.dumps(r) for r in raw])


SHORT = _blasted(30)
_ODD_VALUES = st.sampled_from(
    [None, True, 0, -1, "0", "-5.0", "1e3", "97000.1", "97000.10", "0.5", "0.00000001", "", "x", [], {}, 3.5]
)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_updates_agree(data: st.DataObject) -> None:
    """Updates with a field replaced by something odd (wrong types, finer precision, negative sizes,
    missing keys) after a good stream: both paths say the same and keep the same book."""
    frames = list(SHORT)
    for index in data.draw(st.sets(st.integers(1, len(frames) - 1), min_size=1, max_size=4)):
        obj: dict[str, Any] = json.loads(frames[index], parse_float=str)
        item = obj["data"][0]
        where = data.draw(st.sampled_from(["symbol", "checksum", "bids", "asks", "level", "data", "drop"]))
        odd = data.draw(_ODD_VALUES)
        if where in ("symbol", "checksum", "bids", "asks"):
            item[where] = odd
        elif where == "data":
            obj["data"] = [item, item] if odd is None else odd
        elif where == "drop":
            item.pop(data.draw(st.sampled_from(["symbol", "checksum", "bids", "asks"])), None)
        else:
            side = item["bids"] or item["asks"]
            if side:
                side[0][data.draw(st.sampled_from(["price", "qty"]))] = odd
        # Level numbers go back out as strings (Kraken's SDK accepts both; the other frames keep
        # the bare JSON numbers Kraken writes).
        text = json.dumps(obj)
        frames[index] = text
    _feed_both(frames)
