"""The Kraken session on real and documented frames (tests/data, from the shared fixtures)."""

from __future__ import annotations

import zlib
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from app.core.events import (
    Ack,
    Balance,
    BookChange,
    BookSnapshot,
    Candle,
    ChecksumResult,
    ErrorEvent,
    Fill,
    Heartbeat,
    InstrumentUpdate,
    Malformed,
    RecoveryAction,
    RecoveryKind,
    Status,
    Subscribed,
    Ticker,
    Trade,
)
from app.core.instruments import Instrument, Venue
from app.core.numbers import format_scaled
from app.venues.kraken.checksum import book_checksum, checksum_text
from app.venues.kraken.session import KrakenSession
from tests.conftest import fixture_lines

SEQUENCES = {
    # file: (symbol, book frames, depth)
    "kraken-book-sequence-1.jsonl": ("BTC/USD", 53, 10),
    "kraken-book-sequence-2.jsonl": ("MINA/GBP", 30, 25),
    "kraken-book-sequence-3.jsonl": ("BTC/USD", 510, 10),
    "kraken-book-sequence-4.jsonl": ("ETH/USD", 2, 10),
}


def feed(session: KrakenSession, raw: Any) -> list[Any]:
    return session.on_frame(raw) if isinstance(raw, str) else session.on_message(raw)


def run_file(name: str, session: KrakenSession | None = None) -> tuple[KrakenSession, Counter[str]]:
    session = session or KrakenSession()
    kinds: Counter[str] = Counter()
    for line in fixture_lines(name):
        for ev in feed(session, line["raw"]):
            kinds[type(ev).__name__] += 1
    return session, kinds


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_book_sequences_verify_every_checksum(name: str) -> None:
    """All four captured sequences end with zero checksum failures, every book frame verified."""
    symbol, frames, depth = SEQUENCES[name]
    session, kinds = run_file(name)
    assert session.checksum_failed[symbol] == 0
    assert session.checksum_ok[symbol] == frames
    assert kinds["RecoveryAction"] == 0
    book = session.books[symbol]
    assert not book.stale
    assert book.depth == depth
    assert len(book.bids) <= depth and len(book.asks) <= depth
    assert not book.is_crossed()


def test_sequence_1_fails_without_truncation() -> None:
    """Truncating to the subscribed depth is what makes sequence 1 verify: without the ack (so no depth
    10) and a 1000-level window, most updates mismatch, as the fixtures README says (18/53 match)."""
    session = KrakenSession(default_depth=1000)
    for line in fixture_lines("kraken-book-sequence-1.jsonl"):
        raw = line["raw"]
        if isinstance(raw, dict) and "method" in raw:
            continue  # drop the subscribe request and its ack, which carry depth 10
        session.on_message(raw)
    assert session.checksum_failed["BTC/USD"] > 0


def test_sequence_3_needs_the_instrument_precision() -> None:
    """Sequence 3 lost its trailing zeros (re-serialised); it verifies at the instrument precision
    (price 1, qty 8), whether given or inferred, and fails on the stored text alone."""
    given = KrakenSession()
    given.set_instrument(Instrument(Venue.KRAKEN, "BTC/USD", 1, 8))
    run_file("kraken-book-sequence-3.jsonl", given)
    assert (given.checksum_ok["BTC/USD"], given.checksum_failed["BTC/USD"]) == (510, 0)

    inferred, _ = run_file("kraken-book-sequence-3.jsonl")
    assert (inferred.checksum_ok["BTC/USD"], inferred.checksum_failed["BTC/USD"]) == (510, 0)

    # Hashing the stored text as it stands (e.g. "4.0") does not reproduce Kraken's checksum.
    snapshot = next(fixture_lines("kraken-book-sequence-3.jsonl"))["raw"]["data"][0]

    def verbatim(levels: list[dict[str, str]]) -> str:
        return "".join(f"{lv['price']}{lv['qty']}".replace(".", "").lstrip("0") for lv in levels[:10])

    text = verbatim(snapshot["asks"]) + verbatim(snapshot["bids"])
    assert zlib.crc32(text.encode()) != snapshot["checksum"]


def test_official_worked_example() -> None:
    """Vector A: the guide's snapshot hashes to 3310070434 through exactly the documented string."""
    line = next(fixture_lines("kraken-samples.jsonl"))
    session = KrakenSession()
    session.set_instrument(
        Instrument(Venue.KRAKEN, "BTC/USD", line["price_precision"], line["qty_precision"])
    )
    events = session.on_message(line["raw"])
    assert not [e for e in events if isinstance(e, ChecksumResult)]
    book = session.books["BTC/USD"]
    assert checksum_text(book) == line["asks_string"] + line["bids_string"]
    assert book_checksum(book) == line["expected_checksum"] == 3310070434


def test_sample_vectors_with_expected_checksums() -> None:
    """Every kraken-samples line carrying expected_checksum (vector A, vector B snapshot+update, the
    python-kraken-sdk snapshot and 16 updates) reproduces it at the stated precision."""
    sessions: dict[str, KrakenSession] = {}
    checked = 0
    for line in fixture_lines("kraken-samples.jsonl"):
        if "expected_checksum" not in line:
            continue
        raw = line["raw"]
        symbol = raw["data"][0]["symbol"]
        key = line["source"].split(" ")[0] + symbol
        session = sessions.setdefault(key, KrakenSession(default_depth=line.get("depth", 10)))
        session.set_instrument(
            Instrument(Venue.KRAKEN, symbol, line["price_precision"], line["qty_precision"])
        )
        events = session.on_message(raw)
        assert not [e for e in events if isinstance(e, ChecksumResult)], line["source"]
        assert book_checksum(session.books[symbol]) == line["expected_checksum"]
        checked += 1
    assert checked == 20


def test_checksum_mismatch_resyncs_that_symbol_only() -> None:
    """A corrupted checksum marks that book stale and asks once for a re-subscribe of that symbol with
    its depth; other books are untouched; the next snapshot clears it."""
    session = KrakenSession()
    lines = [line["raw"] for line in fixture_lines("kraken-book-sequence-4.jsonl")]
    ack, snapshot, update = lines
    session.on_message(ack)
    session.on_message(snapshot)
    other = {
        "channel": "book",
        "type": "snapshot",
        "data": [
            {"symbol": "SOL/USD", "bids": [{"price": "10.00", "qty": "1.0"}], "asks": [], "checksum": 0}
        ],
    }
    session.on_message(other)  # a wrong checksum on SOL/USD's own snapshot
    assert session.books["SOL/USD"].stale
    bad = {**update, "data": [{**update["data"][0], "checksum": update["data"][0]["checksum"] ^ 1}]}
    events = session.on_message(bad)
    actions = [e for e in events if isinstance(e, RecoveryAction)]
    assert len(actions) == 1
    assert actions[0].kind is RecoveryKind.RESUBSCRIBE
    assert actions[0].markets == ["ETH/USD"] and actions[0].params == {"depth": 10}
    assert session.books["ETH/USD"].stale
    # While the resync is pending, more updates neither re-verify nor ask again.
    assert not [e for e in session.on_message(bad) if isinstance(e, RecoveryAction | ChecksumResult)]
    session.on_message(snapshot)
    assert not session.books["ETH/USD"].stale


def test_update_before_snapshot_is_not_applied() -> None:
    """Kraken never re-snapshots by itself: an update with no snapshot asks for one, once."""
    session = KrakenSession()
    update = list(fixture_lines("kraken-book-sequence-4.jsonl"))[2]["raw"]
    first = session.on_message(update)
    assert [type(e) for e in first] == [RecoveryAction]
    assert session.on_message(update) == []
    assert not session.books["ETH/USD"].has_snapshot


def test_every_fixture_line_decodes() -> None:
    """Every line of every Kraken fixture file goes through the session without raising, and the
    message kinds come out as the protocol says."""
    kinds: Counter[str] = Counter()
    for name in ("kraken.jsonl", "kraken-samples.jsonl", *SEQUENCES):
        _, k = run_file(name)
        kinds.update(k)
    for expected in (
        "Status",
        "Heartbeat",
        "Subscribed",
        "Unsubscribed",
        "Ack",
        "ErrorEvent",
        "Ticker",
        "Trade",
        "Candle",
        "InstrumentUpdate",
        "BookSnapshot",
        "BookChange",
        "Fill",
        "OrderUpdate",
        "Balance",
        "Malformed",
        "ClientCommand",
    ):
        assert kinds[expected] > 0, expected


def _events_of(raw: Any) -> list[Any]:
    return KrakenSession().on_message(raw)


def test_status_keeps_a_connection_id_above_2_53() -> None:
    raw = list(fixture_lines("kraken-book-sequence-1.jsonl"))[1]["raw"]
    (status,) = _events_of(raw)
    assert isinstance(status, Status)
    assert status.system == "online" and status.connection_id == 769405522530892351


def test_non_json_text_frame_is_an_event() -> None:
    """Kraken's proxy restart text is reported, not raised."""
    (ev,) = KrakenSession().on_frame("CloudFlare WebSocket proxy restarting")
    assert isinstance(ev, Malformed) and "proxy restarting" in ev.text


def test_refused_subscribe_is_an_error_event() -> None:
    """success:false (depth 27) becomes an ErrorEvent with Kraken's words; missing success too."""
    (ev,) = _events_of(
        {
            "error": "Subscription depth not supported",
            "method": "subscribe",
            "req_id": 3,
            "success": False,
            "symbol": "BTC/USD",
        }
    )
    assert isinstance(ev, ErrorEvent)
    assert "Subscription depth not supported" in ev.message and ev.req_id == 3 and ev.markets == ["BTC/USD"]
    (ev2,) = _events_of(
        {"method": "subscribe", "result": {"channel": "book", "symbol": "X/Y"}, "success": "yes"}
    )
    assert isinstance(ev2, ErrorEvent)


def test_subscribe_ack_sets_depth_and_pong_is_an_ack() -> None:
    session = KrakenSession()
    (ack,) = session.on_message(
        {
            "method": "subscribe",
            "result": {
                "channel": "book",
                "depth": 25,
                "snapshot": True,
                "symbol": "MINA/GBP",
                "warnings": ["x"],
            },
            "success": True,
            "req_id": 1,
        }
    )
    assert isinstance(ack, Subscribed) and ack.market == "MINA/GBP" and "warnings" not in ack.params
    assert session.depth("MINA/GBP") == 25
    (pong,) = session.on_message({"method": "pong", "req_id": 7, "time_in": "x", "time_out": "y"})
    assert isinstance(pong, Ack) and pong.kind == "pong" and pong.req_id == 7


def test_market_data_values_are_exact() -> None:
    """Ticker, trade, ohlc and instrument values keep their exact decimal text."""
    session = KrakenSession()
    (t,) = session.on_message(
        {
            "channel": "ticker",
            "type": "update",
            "data": [
                {
                    "symbol": "BTC/USD",
                    "bid": "45283.5",
                    "bid_qty": "0.10000000",
                    "ask": "45285.2",
                    "ask_qty": "1.5",
                    "last": "45284.0",
                    "volume": "1234.56789012",
                    "vwap": "45000.1",
                    "low": "44000.0",
                    "high": "46000.0",
                    "change": "-120.5",
                    "change_pct": "-0.27",
                }
            ],
        }
    )
    assert isinstance(t, Ticker)
    assert (
        t.bid == Decimal("45283.5") and str(t.bid_size) == "0.10000000" and t.change_pct == Decimal("-0.27")
    )
    (tr,) = session.on_message(
        {
            "channel": "trade",
            "type": "update",
            "data": [
                {
                    "symbol": "BTC/USD",
                    "side": "sell",
                    "price": "45284.0",
                    "qty": "0.00100000",
                    "ord_type": "market",
                    "trade_id": 4665906,
                    "timestamp": "2023-09-25T07:49:37.708706Z",
                }
            ],
        }
    )
    assert isinstance(tr, Trade) and tr.trade_id == "4665906" and tr.taker_side == "sell"
    assert tr.ts_ms == 1695628177708
    (c,) = session.on_message(
        {
            "channel": "ohlc",
            "type": "update",
            "timestamp": "x",
            "data": [
                {
                    "symbol": "BTC/USD",
                    "open": "1.0",
                    "high": "2.0",
                    "low": "0.5",
                    "close": "1.5",
                    "vwap": "1.2",
                    "trades": 3,
                    "volume": "10.0",
                    "interval_begin": "2023-10-04T15:25:00.000000000Z",
                    "interval": 5,
                }
            ],
        }
    )
    assert isinstance(c, Candle) and c.interval_min == 5 and c.trades == 3
    (inst,) = session.on_message(
        {
            "channel": "instrument",
            "type": "snapshot",
            "data": {
                "assets": [],
                "pairs": [
                    {
                        "symbol": "BTC/USD",
                        "base": "BTC",
                        "quote": "USD",
                        "status": "online",
                        "price_precision": 1,
                        "qty_precision": 8,
                        "price_increment": "0.1",
                        "qty_increment": "1e-08",
                        "qty_min": "0.0001",
                    }
                ],
            },
        }
    )
    assert isinstance(inst, InstrumentUpdate)
    assert inst.instruments[0].lot == Decimal("1e-08") and session.instruments["BTC/USD"].size_decimals == 8


def test_executions_and_balances() -> None:
    """Executions with a trade become Fills (plus the order's state); balances become Balance events; a
    jump in the channel sequence asks for a re-subscribe (the snapshot re-sends missed fills)."""
    session = KrakenSession()
    frame = {
        "channel": "executions",
        "type": "update",
        "sequence": 5,
        "data": [
            {
                "order_id": "O1",
                "exec_id": "E1",
                "exec_type": "trade",
                "trade_id": 9,
                "symbol": "BTC/USD",
                "side": "buy",
                "last_qty": "0.5",
                "last_price": "45000.0",
                "liquidity_ind": "t",
                "cost": "22500.0",
                "order_status": "partially_filled",
                "order_type": "limit",
                "order_qty": "1.0",
                "cum_qty": "0.5",
                "fees": [{"asset": "USD", "qty": "9.0"}],
                "timestamp": "2023-09-22T10:33:05.709993Z",
            }
        ],
    }
    events = session.on_message(frame)
    fill = next(e for e in events if isinstance(e, Fill))
    assert (fill.fill_id, fill.price, fill.size, fill.is_taker, fill.fee) == (
        "E1",
        Decimal("45000.0"),
        Decimal("0.5"),
        True,
        Decimal("9.0"),
    )
    jumped = session.on_message({**frame, "sequence": 9})
    assert any(isinstance(e, RecoveryAction) and e.channel == "executions" for e in jumped)
    (bal,) = session.on_message(
        {
            "channel": "balances",
            "type": "snapshot",
            "sequence": 1,
            "data": [{"asset": "BTC", "asset_class": "currency", "balance": "1.23456789", "wallets": []}],
        }
    )
    assert isinstance(bal, Balance) and str(bal.balance) == "1.23456789"


def test_snapshot_and_change_events_carry_exact_units() -> None:
    """Book events list the applied levels in integer units at the pair's precision."""
    session = KrakenSession()
    lines = [line["raw"] for line in fixture_lines("kraken-book-sequence-4.jsonl")]
    for raw in lines[:1]:
        session.on_message(raw)
    (snap,) = session.on_message(lines[1])
    assert isinstance(snap, BookSnapshot) and snap.price_decimals == 2 and snap.size_decimals == 8
    first_bid = lines[1]["data"][0]["bids"][0]
    assert format_scaled(snap.bids[0][0], 2) == first_bid["price"]
    assert format_scaled(snap.bids[0][1], 8) == first_bid["qty"]
    (change,) = session.on_message(lines[2])
    assert isinstance(change, BookChange) and not change.additive


def test_heartbeat() -> None:
    assert isinstance(_events_of({"channel": "heartbeat"})[0], Heartbeat)
