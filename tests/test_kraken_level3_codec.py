"""The Kraken level3 codec and session on Kraken's documented frames (tests/data/kraken-level3.jsonl) and on
frames built from them: exact numbers, queue order, the checksum, and the narrow recovery."""

from __future__ import annotations

import copy
import zlib
from typing import Any

import pytest

from app.core.events import (
    ChecksumResult,
    Level3Snapshot,
    Malformed,
    OrderEventKind,
    RecoveryAction,
    RecoveryKind,
    Subscribed,
    Unsubscribed,
)
from app.core.instruments import Instrument, Venue
from app.core.numbers import format_scaled
from app.venues.kraken.checksum import level3_checksum, level3_checksum_text
from app.venues.kraken.level3 import Level3DecodeError, Level3Frame, decode_level3
from app.venues.kraken.session import KrakenSession
from tests.conftest import fixture_lines

LINES = list(fixture_lines("kraken-level3.jsonl"))
GUIDE = next(line for line in LINES if line["channel"] == "level3-checksum-example")


def guide_snapshot() -> dict[str, Any]:
    return copy.deepcopy(GUIDE["raw"])


def update(
    symbol: str, checksum: int, bids: list[dict[str, Any]], asks: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "channel": "level3",
        "type": "update",
        "data": [{"symbol": symbol, "checksum": checksum, "bids": bids, "asks": asks}],
    }


def kinds(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_the_guide_example_reproduces_its_checksum_and_its_strings() -> None:
    session = KrakenSession()
    events = session.on_message(GUIDE["raw"])
    assert kinds(events) == ["Level3Snapshot"]
    snap = events[0]
    assert isinstance(snap, Level3Snapshot) and (snap.bid_orders, snap.ask_orders) == (21, 14)
    book = session.level3.books["BTC/USD"]
    assert (book.price_decimals, book.size_decimals) == (GUIDE["price_precision"], GUIDE["qty_precision"])
    assert level3_checksum_text(book) == GUIDE["asks_string"] + GUIDE["bids_string"]
    assert level3_checksum(book) == GUIDE["expected_checksum"] == 1063832831
    assert session.level3.checksum_ok["BTC/USD"] == 1 and not session.level3.checksum_failed
    assert not book.stale
    # The level-2 view of it, exact: 8 orders at the best bid summed.
    price, size = book.top_bids(1)[0]
    assert (format_scaled(price, 1), format_scaled(size, 8)) == ("44939.4", "3.55788870")


def test_the_checksum_also_checks_queue_order() -> None:
    raw = guide_snapshot()
    bids = raw["data"][0]["bids"]
    bids[0], bids[1] = bids[1], bids[0]  # the same orders, two swapped at the best bid
    events = KrakenSession().on_message(raw)
    assert kinds(events) == ["Level3Snapshot", "ChecksumResult", "RecoveryAction"]


def test_every_documented_frame_decodes() -> None:
    session = KrakenSession()
    seen = []
    for line in LINES:
        events = session.on_message(line["raw"])
        assert not any(isinstance(e, Malformed) for e in events), line["channel"]
        seen.extend(kinds(events))
    assert seen.count("Subscribed") == 2 and seen.count("Unsubscribed") == 1
    assert seen.count("Level3Snapshot") == 2 and seen.count("Level3Change") == 1
    acks = [e for line in LINES[1:3] for e in KrakenSession().on_message(line["raw"])]
    assert all(isinstance(e, Subscribed) and e.channel == "level3" for e in acks)
    assert isinstance(KrakenSession().on_message(LINES[6]["raw"])[0], Unsubscribed)


def test_the_documented_update_decodes_with_exact_numbers() -> None:
    frame = decode_level3(LINES[4]["raw"])[0]
    assert isinstance(frame, Level3Frame) and not frame.snapshot and frame.checksum == 2841398499
    assert [o.kind for o in frame.asks] == [OrderEventKind.DELETE, *[OrderEventKind.ADD] * 3]
    assert [o.qty for o in frame.asks] == [
        "302.89736033",
        "3500.77668626",
        "22149.62881248",
        "42196.34088652",
    ]
    assert frame.asks[0].price == "0.5636" and frame.asks[0].ts == "2023-10-06T18:21:00.097010033Z"


def test_the_documented_matic_snapshot_is_an_excerpt_and_asks_for_a_resync() -> None:
    """Its checksum is of a larger book (docs/protocol-kraken-level3.md §5): a mismatch, one resync."""
    session = KrakenSession()
    events = session.on_message(LINES[3]["raw"])
    assert kinds(events) == ["Level3Snapshot", "ChecksumResult", "RecoveryAction"]
    check, action = events[1], events[2]
    assert isinstance(check, ChecksumResult) and check.channel == "level3" and check.expected == 281817320
    assert isinstance(action, RecoveryAction)
    assert (action.kind, action.channel, action.markets, action.params) == (
        RecoveryKind.RESUBSCRIBE,
        "level3",
        ["MATIC/USD"],
        {"depth": 10},
    )
    # Until a new snapshot, further trouble asks for nothing more.
    assert kinds(session.on_message(LINES[4]["raw"])) == ["Level3Change"]
    assert session.level3.books["MATIC/USD"].stale


def _event(kind: str, order_id: str, price: str, qty: str, ts: str) -> dict[str, Any]:
    return {"event": kind, "order_id": order_id, "limit_price": price, "order_qty": qty, "timestamp": ts}


def test_updates_on_the_guide_book_verify_with_the_checksum_kraken_would_send() -> None:
    """A fill, a new order behind the queue and a cancel, each update carrying the checksum of the book
    it leaves (computed independently from the guide's own strings)."""
    session = KrakenSession()
    session.on_message(GUIDE["raw"])
    asks, bids = GUIDE["asks_string"], GUIDE["bids_string"]
    # 1. The first order at the best ask (4.52308393) partly fills to 4.00000000.
    asks1 = asks.replace("449395452308393", "449395400000000", 1)
    fill = _event("modify", "OFVLAA-HRSSP-BK75KB", "44939.5", "4.00000000", "2024-01-08T12:27:00.000000000Z")
    events = session.on_message(update("BTC/USD", zlib.crc32((asks1 + bids).encode()), [], [fill]))
    assert kinds(events) == ["Level3Change"]
    # 2. A new bid joins the back of the best bid level.
    bids2 = bids.replace("4493941281408604493713346877", "449394128140860449394500000004493713346877", 1)
    add = _event("add", "ONEWBI-D0000-000001", "44939.4", "0.50000000", "2024-01-08T12:27:01.000000000Z")
    events = session.on_message(update("BTC/USD", zlib.crc32((asks1 + bids2).encode()), [add], []))
    assert kinds(events) == ["Level3Change"]
    # 3. The only order at 44937.1 is cancelled: that level leaves the top 10; nothing refills it here.
    bids3 = bids2.replace("4493713346877", "", 1)
    cancel = _event(
        "delete", "OJPMIN-NXZL5-SOWP6V", "44937.1", "0.03346877", "2024-01-08T12:26:39.691304329Z"
    )
    events = session.on_message(update("BTC/USD", zlib.crc32((asks1 + bids3).encode()), [cancel], []))
    assert kinds(events) == ["Level3Change"]
    assert session.level3.checksum_ok["BTC/USD"] == 4 and not session.level3.checksum_failed
    place = session.level3.books["BTC/USD"].place_of("ONEWBI-D0000-000001")
    assert place is not None and (place.position, place.orders_ahead, place.level_orders) == (9, 8, 9)
    assert format_scaled(place.size_ahead, 8) == "3.55788870"


def test_a_bad_checksum_marks_the_book_stale_and_a_new_snapshot_heals_it() -> None:
    session = KrakenSession()
    session.on_message(GUIDE["raw"])
    fill = _event("modify", "OFVLAA-HRSSP-BK75KB", "44939.5", "4.00000000", "2024-01-08T12:27:00.000000000Z")
    events = session.on_message(update("BTC/USD", 12345, [], [fill]))
    assert kinds(events) == ["Level3Change", "ChecksumResult", "RecoveryAction"]
    book = session.level3.books["BTC/USD"]
    assert book.stale and "level3 checksum mismatch: expected 12345" in str(book.stale_reason)
    session.on_message(GUIDE["raw"])
    assert not book.stale and session.level3.checksum_ok["BTC/USD"] == 2


def test_a_delete_of_an_order_the_book_does_not_hold_asks_for_a_resync() -> None:
    session = KrakenSession()
    session.on_message(GUIDE["raw"])
    ghost = _event("delete", "OGHOST-00000-000000", "44939.5", "1.00000000", "2024-01-08T12:27:00.0Z")
    events = session.on_message(update("BTC/USD", 1, [], [ghost]))
    assert kinds(events) == ["Level3Change", "RecoveryAction"]
    assert "OGHOST-00000-000000" in str(session.level3.books["BTC/USD"].stale_reason)


def test_an_update_before_any_snapshot_asks_for_one() -> None:
    session = KrakenSession()
    events = session.on_message(LINES[4]["raw"])
    assert kinds(events) == ["RecoveryAction"]


def test_the_depth_subscribed_is_the_depth_truncated_to() -> None:
    session = KrakenSession()
    session.on_command_sent(
        {
            "method": "subscribe",
            "params": {"channel": "level3", "symbol": ["BTC/USD"], "depth": 100, "token": "t"},
        }
    )
    session.on_message(GUIDE["raw"])
    assert session.level3.books["BTC/USD"].depth == 100
    assert session.depth("BTC/USD") == 10  # the level-2 book's depth is its own


def test_a_known_instrument_precision_is_used_and_off_grid_numbers_refused() -> None:
    session = KrakenSession()
    session.set_instrument(Instrument(Venue.KRAKEN, "BTC/USD", 1, 8))
    raw = guide_snapshot()
    raw["data"][0]["bids"][0]["limit_price"] = "44939.45"
    events = session.on_message(raw)
    assert kinds(events) == ["Malformed"] and "off the pair's grid" in events[0].reason


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"type": "delta"}, "type must be snapshot or update"),
        ({"data": {}}, "data must be a list"),
        ({"data": [{"bids": []}]}, "without a symbol"),
        ({"data": [{"symbol": "X/Y", "checksum": -1}]}, "unsigned 32-bit"),
        (
            {"data": [{"symbol": "X/Y", "bids": [{"order_id": "O", "limit_price": True, "order_qty": "1"}]}]},
            "must be numbers",
        ),
        (
            {"data": [{"symbol": "X/Y", "bids": [{"limit_price": "1", "order_qty": "1"}]}]},
            "without an order_id",
        ),
        ({"data": [{"symbol": "X/Y", "bids": "none"}]}, "must be a list of orders"),
    ],
)
def test_malformed_frames_say_what_is_wrong(change: dict[str, Any], words: str) -> None:
    raw = {
        "channel": "level3",
        "type": "snapshot",
        "data": [{"symbol": "X/Y", "bids": [], "asks": []}],
        **change,
    }
    with pytest.raises(Level3DecodeError, match=words):
        decode_level3(raw)
    events = KrakenSession().on_message(raw)
    assert kinds(events) == ["Malformed"] and words in events[0].reason


def test_an_update_event_must_be_add_modify_or_delete() -> None:
    raw = update(
        "BTC/USD", 1, [{"event": "replace", "order_id": "O", "limit_price": "1.0", "order_qty": "1.0"}], []
    )
    events = KrakenSession().on_message(raw)
    assert kinds(events) == ["Malformed"] and "add, modify or delete" in events[0].reason


def test_negative_or_zero_prices_are_refused_without_touching_the_book() -> None:
    session = KrakenSession()
    session.on_message(GUIDE["raw"])
    bad = _event("add", "ONEG", "-1.0", "1.00000000", "2024-01-08T12:27:00.0Z")
    events = session.on_message(update("BTC/USD", 1, [bad], []))
    assert kinds(events) == ["Malformed", "RecoveryAction"]
    assert len(session.level3.books["BTC/USD"]) == 35


def test_frames_text_keeps_the_wire_precision() -> None:
    """Through on_frame (the wire parser), JSON numbers keep their text: 0.10000000 is 8 decimals."""
    session = KrakenSession()
    text = (
        '{"channel":"level3","type":"snapshot","data":[{"symbol":"ETH/USD","checksum":0,'
        '"bids":[{"order_id":"A","limit_price":2000.10,"order_qty":0.10000000,"timestamp":"2024-01-01T00:00:00.1Z"}],'
        '"asks":[]}]}'
    )
    session.on_frame(text)
    book = session.level3.books["ETH/USD"]
    assert (book.price_decimals, book.size_decimals) == (2, 8)
    assert level3_checksum_text(book) == "20001010000000"
