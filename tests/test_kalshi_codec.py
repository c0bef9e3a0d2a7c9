"""The Kalshi decoder and session on documented, captured and legacy frames (tests/data)."""

from __future__ import annotations

import copy
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from app.core.events import (
    Ack,
    BookChange,
    BookSnapshot,
    ErrorEvent,
    Fill,
    Lifecycle,
    Malformed,
    Notice,
    OrderUpdate,
    Position,
    RecoveryAction,
    RecoveryKind,
    SequenceGap,
    Subscribed,
    TakerSide,
    Ticker,
    Trade,
    Unknown,
)
from app.core.numbers import format_scaled
from app.venues.kalshi.commands import KalshiCommands
from app.venues.kalshi.decode import KalshiDecoder
from app.venues.kalshi.errors import ERROR_MESSAGES, TERMINAL_CODES
from app.venues.kalshi.session import KalshiSession
from tests.conftest import fixture_lines

FILES = ("kalshi.jsonl", "kalshi-samples.jsonl")
REMOVED_TYPES = {"ticker_v2", "multivariate_lookup"}  # channels Kalshi removed in 2026


def decode(raw: dict[str, Any], use_yes_price: bool = False) -> list[Any]:
    return KalshiDecoder(use_yes_price).decode_obj(raw)


def test_every_fixture_line_decodes() -> None:
    """Every line of both Kalshi files decodes without raising and without Malformed; only the removed
    ticker_v2 and multivariate_lookup types are Unknown; every kind in §5-6 shows up."""
    kinds: Counter[str] = Counter()
    for name in FILES:
        session = KalshiSession()
        for line in fixture_lines(name):
            for ev in session.on_message(line["raw"]):
                kinds[type(ev).__name__] += 1
                assert not isinstance(ev, Malformed), (line["source"], ev)
                if isinstance(ev, Unknown):
                    assert ev.type in REMOVED_TYPES
    for expected in (
        "Subscribed",
        "Unsubscribed",
        "Ack",
        "ErrorEvent",
        "BookSnapshot",
        "BookChange",
        "Ticker",
        "Trade",
        "Fill",
        "Position",
        "Lifecycle",
        "OrderUpdate",
        "Notice",
        "ClientCommand",
        "IndexValue",
    ):
        assert kinds[expected] > 0, expected


def test_settlement_index_values_from_both_documented_channels() -> None:
    """``cfbenchmarks_value`` carries the value only inside ``data`` (CF Benchmarks' own JSON text) beside
    the 60 s average; the 5 Hz channel also gives ``value_usd``. Both read exactly, as dollars."""
    found = {}
    for line in fixture_lines("kalshi-samples.jsonl"):
        if line["raw"].get("type") in ("cfbenchmarks_value", "cfbenchmarks_value_5hz"):
            (ev,) = decode(line["raw"])
            found[line["raw"]["type"]] = ev
    one, fast = found["cfbenchmarks_value"], found["cfbenchmarks_value_5hz"]
    assert (one.index_id, one.value, one.ts_ms, one.avg_60s) == (
        "BRTI",
        Decimal("68000.12"),
        1710000000123,
        Decimal("68000.12000000"),
    )
    assert (fast.index_id, fast.value, fast.ts_ms, fast.avg_60s) == (
        "BRTI",
        Decimal("68000.12000000"),
        1710000000323,
        None,
    )
    # damaged: named, never a wrong value
    for msg in (
        {"index_id": "BRTI", "data": "{not json"},
        {"index_id": "BRTI", "data": '{"id":"BRTI"}'},
        {"index_id": "", "value_usd": "1.0"},
        {"index_id": "BRTI", "value_usd": "abc"},
    ):
        (ev,) = decode({"type": "cfbenchmarks_value", "sid": 1, "seq": 1, "msg": msg})
        assert isinstance(ev, Malformed) and "cfbenchmarks_value" in ev.reason, (msg, ev)


def _only(raw: dict[str, Any], keep: str) -> dict[str, Any]:
    """A transitional frame reduced to one generation of fields: 'fp' (current) or 'legacy'."""
    out = copy.deepcopy(raw)
    msg = out["msg"]
    for key in list(msg):
        current = key.endswith(("_dollars", "_fp")) or key in ("fee_cost",)
        legacy = key in (
            "yes",
            "no",
            "price",
            "delta",
            "yes_bid",
            "yes_ask",
            "volume",
            "open_interest",
            "yes_price",
            "no_price",
            "count",
            "post_position",
            "position",
            "position_cost",
            "realized_pnl",
            "fees_paid",
            "position_fee_cost",
        )
        has_twin = any(key + suffix in raw["msg"] for suffix in ("_fp", "_dollars", "_dollars_fp"))
        if (keep == "fp" and legacy and has_twin) or (keep == "legacy" and current):
            del msg[key]
    return out


def _transitional(kind: str) -> dict[str, Any]:
    for line in fixture_lines("kalshi.jsonl"):
        if line.get("era", "").startswith("transitional") and line["raw"].get("type") == kind:
            return line["raw"]
    raise LookupError(kind)


@pytest.mark.parametrize(
    "kind", ["orderbook_snapshot", "orderbook_delta", "ticker", "trade", "fill", "market_position"]
)
def test_current_and_legacy_fields_decode_to_the_same_event(kind: str) -> None:
    """The 2026-03 transitional frames carry both generations side by side: each half alone decodes to
    the same event (cents -> dollars, counts -> contracts, position centi-cents -> dollars)."""
    raw = _transitional(kind)
    current, legacy = decode(_only(raw, "fp")), decode(_only(raw, "legacy"))
    assert current == legacy
    assert not isinstance(current[0], Malformed)


def test_legacy_money_is_centi_cents() -> None:
    """Original market_position money fields were centi-cents: 500000 -> $50.00."""
    (pos,) = decode(_only(_transitional("market_position"), "legacy"))
    assert isinstance(pos, Position)
    assert pos.cost == Decimal("50") and pos.realized_pnl == Decimal("10") and pos.position == Decimal("100")


def test_snapshot_yes_terms_default_scale() -> None:
    """Default scale: YES bids are bids; NO bids at p are YES asks at 1 - p, best first."""
    raw = {
        "type": "orderbook_snapshot",
        "sid": 2,
        "seq": 2,
        "msg": {
            "market_ticker": "FED-23DEC-T3.00",
            "market_id": "x",
            "yes_dollars_fp": [["0.0800", "300.00"], ["0.2200", "333.00"]],
            "no_dollars_fp": [["0.5400", "20.00"], ["0.5600", "146.00"]],
        },
    }
    (snap,) = decode(raw)
    assert isinstance(snap, BookSnapshot)
    assert [(format_scaled(p, 4), format_scaled(q, 2)) for p, q in snap.bids] == [
        ("0.2200", "333.00"),
        ("0.0800", "300.00"),
    ]
    assert [(format_scaled(p, 4), format_scaled(q, 2)) for p, q in snap.asks] == [
        ("0.4400", "146.00"),
        ("0.4600", "20.00"),
    ]


def test_use_yes_price_capture_is_one_scale() -> None:
    """The real [PA] snapshots were taken with use_yes_price:true: their NO levels are YES asks as
    they stand, and the book is not crossed."""
    raw = next(
        line["raw"]
        for line in fixture_lines("kalshi-samples.jsonl")
        if line["raw"].get("type") == "orderbook_snapshot"
        and "REAL" in line["source"]
        and "no_dollars_fp" in line["raw"]["msg"]
        and "yes_dollars_fp" in line["raw"]["msg"]
    )
    session = KalshiSession(use_yes_price=True)
    session.on_message(raw)
    book = session.books[raw["msg"]["market_ticker"]]
    no_prices = sorted(Decimal(p) for p, _ in raw["msg"]["no_dollars_fp"])
    assert book.best_ask_price() == no_prices[0]
    assert not book.is_crossed()


def test_subscribe_command_in_a_recording_sets_the_scale() -> None:
    """A recorded subscribe with use_yes_price:true switches the session to the one-scale reading."""
    session = KalshiSession()
    session.on_message(
        {
            "id": 1,
            "cmd": "subscribe",
            "params": {"channels": ["orderbook_delta"], "market_ticker": "M", "use_yes_price": True},
        }
    )
    assert session.use_yes_price


def test_empty_sides_are_valid() -> None:
    """A snapshot with both ladders absent (real demo frame, market_id "") is a valid empty book."""
    raw = {
        "type": "orderbook_snapshot",
        "sid": 1,
        "seq": 1,
        "msg": {"market_ticker": "KXBTCD-26AUG2017-T73749.99", "market_id": ""},
    }
    session = KalshiSession()
    (snap,) = session.on_message(raw)
    assert isinstance(snap, BookSnapshot) and snap.bids == [] and snap.asks == []
    book = session.books["KXBTCD-26AUG2017-T73749.99"]
    assert book.has_snapshot and not book.stale and book.best_bid() is None


def _snapshot(sid: int, seq: int, market: str) -> dict[str, Any]:
    return {
        "type": "orderbook_snapshot",
        "sid": sid,
        "seq": seq,
        "msg": {
            "market_ticker": market,
            "market_id": "",
            "yes_dollars_fp": [["0.4000", "10.00"]],
            "no_dollars_fp": [["0.5500", "5.00"]],
        },
    }


def _delta(sid: int, seq: int, market: str, price: str, delta: str, side: str) -> dict[str, Any]:
    return {
        "type": "orderbook_delta",
        "sid": sid,
        "seq": seq,
        "msg": {
            "market_ticker": market,
            "market_id": "",
            "price_dollars": price,
            "delta_fp": delta,
            "side": side,
        },
    }


def test_deltas_adjust_and_best_ask_is_one_minus_best_no_bid() -> None:
    session = KalshiSession()
    session.on_message(_snapshot(1, 1, "A"))
    session.on_message(_delta(1, 2, "A", "0.4000", "-4.00", "yes"))
    session.on_message(_delta(1, 3, "A", "0.5700", "2.50", "no"))
    book = session.books["A"]
    assert book.best_bid_price() == Decimal("0.4000") and book.best_bid() == (4000, 600)
    assert book.best_ask_price() == Decimal("0.4300")  # 1 - 0.57
    session.on_message(_delta(1, 4, "A", "0.4000", "-6.00", "yes"))
    assert book.best_bid() is None and not book.stale


def test_seq_gap_marks_every_book_on_the_sid_stale_and_asks_for_snapshots() -> None:
    """seq is per sid: a gap names no market, so all books on that sid go stale, and a get_snapshot
    for exactly those markets on that sid is asked for; the answer (continuing the seq) repairs them."""
    session = KalshiSession()
    session.on_message({"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 1}})
    session.on_message({"type": "subscribed", "id": 1, "msg": {"channel": "trade", "sid": 2}})
    session.on_message(_snapshot(1, 1, "A"))
    session.on_message(_snapshot(1, 2, "B"))
    session.on_message(
        {
            "type": "trade",
            "sid": 2,
            "seq": 1,
            "msg": {
                "trade_id": "t",
                "market_ticker": "A",
                "yes_price_dollars": "0.40",
                "count_fp": "1.00",
                "taker_outcome_side": "yes",
            },
        }
    )
    events = session.on_message(_delta(1, 4, "A", "0.4000", "1.00", "yes"))  # seq 3 lost
    gap = next(e for e in events if isinstance(e, SequenceGap))
    assert (gap.sid, gap.expected, gap.got, gap.markets) == (1, 3, 4, ["A", "B"])
    action = next(e for e in events if isinstance(e, RecoveryAction))
    assert action.kind is RecoveryKind.RESNAPSHOT and action.sid == 1 and action.markets == ["A", "B"]
    assert session.books["A"].stale and session.books["B"].stale
    cmd = KalshiCommands().get_snapshot(action.sid, action.markets)
    assert cmd["params"] == {"sid": 1, "market_tickers": ["A", "B"], "action": "get_snapshot"}
    session.on_message({**_snapshot(1, 5, "A"), "id": 9})
    assert not session.books["A"].stale and session.books["B"].stale
    session.on_message({**_snapshot(1, 6, "B"), "id": 9})
    assert not session.books["B"].stale


def test_control_frames_consume_seq_without_false_gaps() -> None:
    """ok, unsubscribed and scoped errors count on the sid's seq; a trade sid's first frame is seq 1."""
    session = KalshiSession()
    frames = [
        {"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 1}},
        _snapshot(1, 1, "A"),
        {"type": "ok", "id": 2, "sid": 1, "seq": 2, "msg": {"market_tickers": ["A", "B"]}},
        _snapshot(1, 3, "B"),
        {"type": "error", "sid": 1, "seq": 4, "msg": {"code": 13, "msg": "Unsupported action"}},
        _delta(1, 5, "B", "0.4000", "1.00", "yes"),
    ]
    for frame in frames:
        assert not [e for e in session.on_message(frame) if isinstance(e, SequenceGap)]
    assert session.sid_markets[1] == {"A", "B"}


def test_first_frame_of_a_new_sid_must_be_seq_1() -> None:
    session = KalshiSession()
    session.on_message({"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 3}})
    events = session.on_message(_snapshot(3, 2, "A"))
    assert any(isinstance(e, SequenceGap) and e.expected == 1 for e in events)


def test_delta_before_snapshot_and_negative_level_ask_for_a_snapshot_once() -> None:
    session = KalshiSession()
    first = session.on_message(_delta(1, 1, "A", "0.4000", "1.00", "yes"))
    assert [e.kind for e in first if isinstance(e, RecoveryAction)] == [RecoveryKind.RESNAPSHOT]
    assert not [
        e
        for e in session.on_message(_delta(1, 2, "A", "0.4000", "1.00", "yes"))
        if isinstance(e, RecoveryAction)
    ]
    session.on_message(_snapshot(1, 3, "A"))
    events = session.on_message(_delta(1, 4, "A", "0.4000", "-11.00", "yes"))
    assert session.books["A"].stale
    assert [e.reason for e in events if isinstance(e, RecoveryAction)] == ["a level went below zero"]


@pytest.mark.parametrize("code", sorted(ERROR_MESSAGES))
def test_every_error_code(code: int) -> None:
    """Every code decodes to an ErrorEvent naming it; only 10, 25 (and retired 17) are terminal."""
    (ev,) = decode({"type": "error", "id": 5, "msg": {"code": code, "msg": ERROR_MESSAGES[code]}})
    assert isinstance(ev, ErrorEvent)
    assert ev.code == code and ev.req_id == 5 and f"error {code}" in ev.message
    assert ev.terminal == (code in TERMINAL_CODES)


def test_terminal_error_resubscribes_that_subscription() -> None:
    """Error 25 (buffer overflow: data lost) on a book sid marks its books stale and asks to resubscribe."""
    session = KalshiSession()
    session.on_message({"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 1}})
    session.on_message(_snapshot(1, 1, "A"))
    events = session.on_message(
        {"type": "error", "sid": 1, "seq": 2, "msg": {"code": 25, "msg": "Subscription buffer overflow"}}
    )
    action = next(e for e in events if isinstance(e, RecoveryAction))
    assert action.kind is RecoveryKind.RESUBSCRIBE and action.sid == 1 and action.markets == ["A"]
    assert session.books["A"].stale


def test_acks_tie_sids_to_markets() -> None:
    """A subscribed ack answering a sent subscribe ties its sid to the markets asked for; list replies
    in both the current and the Jan-2026 shape decode."""
    session = KalshiSession()
    cmd = KalshiCommands().subscribe(["orderbook_delta", "trade"], ["A", "B"])
    session.on_command_sent(cmd)
    events = session.on_message(
        {"type": "subscribed", "id": cmd["id"], "msg": {"channel": "trade", "sid": 4}}
    )
    assert isinstance(events[0], Subscribed) and events[0].sid == 4
    assert session.sid_markets[4] == {"A", "B"} and session.sid_channel[4] == "trade"
    (now,) = decode({"id": 3, "type": "ok", "msg": [{"channel": "ticker", "sid": 2}]})
    (old,) = decode(
        {"id": 3, "type": "list_subscriptions", "subscriptions": [{"channel": "ticker", "sid": 2}]}
    )
    assert isinstance(now, Ack) and now.subscriptions == old.subscriptions == [("ticker", 2)]


def test_market_data_and_private_values() -> None:
    """Ticker, trade, fill, position, order and lifecycle values, current fields."""
    (t,) = decode(
        {
            "type": "ticker",
            "sid": 1,
            "msg": {
                "market_ticker": "M",
                "market_id": "x",
                "price_dollars": "0.4800",
                "yes_bid_dollars": "0.0000",
                "yes_ask_dollars": "0.5300",
                "volume_fp": "33896.00",
                "open_interest_fp": "20422.00",
                "yes_bid_size_fp": "0.00",
                "yes_ask_size_fp": "12.50",
                "ts_ms": 1669149841000,
            },
        }
    )
    assert isinstance(t, Ticker)
    assert (
        t.bid is None
        and t.ask == Decimal("0.5300")
        and t.last == Decimal("0.4800")
        and t.ts_ms == 1669149841000
    )
    # A market that has not traded yet reports a last price of 0: no last price, not "0¢".
    (untraded,) = decode(
        {"type": "ticker", "sid": 1, "msg": {"market_ticker": "M", "price_dollars": "0.0000", "ts_ms": 1}}
    )
    assert isinstance(untraded, Ticker) and untraded.last is None
    (tr,) = decode(
        {
            "type": "trade",
            "sid": 2,
            "seq": 7,
            "msg": {
                "trade_id": "u",
                "market_ticker": "M",
                "yes_price_dollars": "0.3600",
                "no_price_dollars": "0.6400",
                "count_fp": "136.00",
                "taker_side": "no",
                "taker_outcome_side": "no",
                "taker_book_side": "ask",
                "ts": 1669149841,
            },
        }
    )
    assert (
        isinstance(tr, Trade)
        and tr.taker_side is TakerSide.SELL
        and tr.seq == 7
        and tr.ts_ms == 1669149841000
    )
    (f,) = decode(
        {
            "type": "fill",
            "sid": 3,
            "msg": {
                "trade_id": "T1",
                "order_id": "O1",
                "market_ticker": "M",
                "is_taker": True,
                "side": "no",
                "yes_price_dollars": "0.7500",
                "count_fp": "2.50",
                "fee_cost": "0.010000",
                "action": "sell",
                "post_position_fp": "10.00",
                "purchased_side": "yes",
                "outcome_side": "yes",
                "book_side": "bid",
                "ts_ms": 1,
            },
        }
    )
    assert isinstance(f, Fill) and f.side is TakerSide.BUY and f.fee == Decimal("0.010000")
    assert f.size == Decimal("2.50") and f.position_after == Decimal("10.00")
    (o,) = decode(
        {
            "type": "user_order",
            "sid": 4,
            "msg": {
                "order_id": "O1",
                "ticker": "M",
                "status": "resting",
                "outcome_side": "no",
                "book_side": "ask",
                "yes_price_dollars": "0.3500",
                "fill_count_fp": "0.00",
                "remaining_count_fp": "10.00",
            },
        }
    )
    assert isinstance(o, OrderUpdate) and o.market == "M" and o.side is TakerSide.SELL
    (lc,) = decode(
        {
            "type": "market_lifecycle_v2",
            "sid": 5,
            "seq": 1,
            "msg": {"market_ticker": "M", "event_type": "determined", "result": "yes", "determination_ts": 1},
        }
    )
    assert isinstance(lc, Lifecycle) and lc.status == "determined" and lc.detail["result"] == "yes"
    (pause,) = decode(
        {
            "type": "market_lifecycle_v2",
            "sid": 5,
            "seq": 2,
            "msg": {"market_ticker": "M", "event_type": "deactivated", "is_deactivated": True},
        }
    )
    assert isinstance(pause, Lifecycle) and pause.status == "paused"
    (n,) = decode({"type": "rfq_created", "sid": 6, "seq": 1, "msg": {"id": "r", "market_ticker": "M"}})
    assert isinstance(n, Notice) and n.kind == "rfq_created" and n.market == "M"


@pytest.mark.parametrize(
    "raw",
    [
        {
            "type": "orderbook_delta",
            "sid": 1,
            "seq": 1,
            "msg": {"market_ticker": "M", "price_dollars": "abc", "delta_fp": "1.00", "side": "yes"},
        },
        {
            "type": "orderbook_delta",
            "sid": 1,
            "seq": 1,
            "msg": {"market_ticker": "M", "price_dollars": "0.12345", "delta_fp": "1.00", "side": "yes"},
        },
        {
            "type": "orderbook_delta",
            "sid": 1,
            "seq": 1,
            "msg": {"market_ticker": "M", "price_dollars": "0.1200", "delta_fp": "1.00", "side": "maybe"},
        },
        {"type": "orderbook_snapshot", "sid": 1, "seq": 1, "msg": {"market_ticker": "M", "yes": [["a", 1]]}},
        {"type": "ticker", "sid": 1, "msg": "not an object"},
        {"type": "fill", "sid": 1, "msg": {"market_ticker": "M"}},
        {"sid": 1},
        [1, 2, 3],
    ],
)
def test_bad_frames_become_malformed_events(raw: Any) -> None:
    """Wrong types, too many decimals, unknown sides and missing fields are reported, never raised."""
    events = KalshiSession().on_message(raw)
    assert any(isinstance(e, Malformed) for e in events)


def test_unknown_type_is_an_unknown_event() -> None:
    (ev,) = decode({"type": "brand_new_thing", "sid": 1, "msg": {"market_ticker": "M"}})
    assert isinstance(ev, Unknown) and ev.type == "brand_new_thing" and ev.market == "M"


def test_non_json_frame() -> None:
    (ev,) = KalshiSession().on_frame("<html>502 Bad Gateway</html>")
    assert isinstance(ev, Malformed) and "not JSON" in ev.reason


def test_book_change_event_in_yes_terms() -> None:
    (ch,) = decode(_delta(1, 1, "M", "0.3000", "-2.00", "no"))
    assert isinstance(ch, BookChange) and ch.additive and ch.asks == [(7000, -200)] and ch.bids == []
    (ch2,) = decode(_delta(1, 1, "M", "0.7000", "-2.00", "no"), use_yes_price=True)
    assert isinstance(ch2, BookChange) and ch2.asks == [(7000, -200)]
