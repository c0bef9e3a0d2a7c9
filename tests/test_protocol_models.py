"""tests/protocol_models.py against real and documented frames (tests/data, copies of the shared fixtures).

Every line of every fixture file is accounted for, in exactly one of these groups:

* client->server commands/requests: not server frames; the validators must refuse them;
* current-format server frames: must validate (and the kind must agree with the line's annotation);
* legacy integer-cent frames that match seed doc 000: must validate with ``legacy=True``;
* explicit exclusions (tables below, each with its reason): the current models must REJECT them, which
  shows the exclusion is needed and that the models are strict.

The lines are read with msgspec.Raw so each frame's text is byte-for-byte what the fixture holds (Kraken
number text such as ``0.10000000`` is kept). ``tests.conftest.fixture_lines`` is deliberately not used:
it parses through the application's own wire code, and these models must stay independent of app/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.protocol_models import (
    KALSHI_KINDS,
    KALSHI_LEGACY_KINDS,
    KRAKEN_KINDS,
    ShapeError,
    check_kraken_book_precision,
    validate_kalshi,
    validate_kraken,
)

DATA = Path(__file__).parent / "data"

KALSHI_FILES = ("kalshi-samples.jsonl", "kalshi.jsonl")
KRAKEN_FILES = (
    "kraken-samples.jsonl",
    "kraken.jsonl",
    "kraken-book-sequence-1.jsonl",
    "kraken-book-sequence-2.jsonl",
    "kraken-book-sequence-3.jsonl",
    "kraken-book-sequence-4.jsonl",
)


class _Line(msgspec.Struct):
    """One fixture line; only ``raw`` is needed (other keys are annotations)."""

    raw: msgspec.Raw
    channel: str | None = None


def _lines(name: str) -> list[tuple[int, _Line]]:
    with open(DATA / name, "rb") as fh:
        return [(no, msgspec.json.decode(text, type=_Line)) for no, text in enumerate(fh, 1) if text.strip()]


def _frame_text(line: _Line) -> bytes:
    return bytes(line.raw)


def _is_client_to_server(text: bytes) -> bool:
    try:
        obj = json.loads(text)
    except ValueError:
        return False
    if not isinstance(obj, dict):
        return False
    # Kalshi commands are {"id","cmd","params"}; Kraken requests carry params, or are a bare ping.
    return "cmd" in obj or "params" in obj or (obj.get("method") == "ping" and "success" not in obj)


# ---------------------------------------------------------------------------------------------------
# Exclusions. Key: (file, 1-based line number). Value: why the line is not a current in-scope frame.
# ---------------------------------------------------------------------------------------------------

_OGU = "order_group_updates channel: out of scope of these models"
_MVE = "multivariate_market_lifecycle channel (multivariate): out of scope"
_COMMS = "communications channel (RFQ/quote): out of scope"
_INDEX = "cfbenchmarks/pyth index feed: out of scope"
_TRANSITIONAL = (
    "2026-03 transitional AsyncAPI example (legacy cents beside *_dollars/*_fp, sub_title, string "
    "floor_strike, no seq on lifecycle, top-level ok.market_tickers ...): pre-current, the legacy integer "
    "fields were removed on 2026-03-12 (kalshi.md §3)"
)

KALSHI_EXCLUDED: dict[tuple[str, int], str] = {
    ("kalshi-samples.jsonl", 35): _OGU,
    ("kalshi-samples.jsonl", 43): _MVE,
    **{("kalshi-samples.jsonl", n): _COMMS for n in range(44, 50)},
    **{("kalshi-samples.jsonl", n): _INDEX for n in range(50, 54)},
    ("kalshi.jsonl", 36): _OGU,
    **{("kalshi.jsonl", n): _COMMS for n in (38, 39, 40)},
    ("kalshi.jsonl", 41): _INDEX,
    ("kalshi.jsonl", 43): "retired error code 6 'Already subscribed' (§5.1; subscribe is idempotent now)",
    ("kalshi.jsonl", 44): "retired error code 16 'Market not found' (§5.1)",
    **{("kalshi.jsonl", n): _TRANSITIONAL for n in range(45, 75) if n != 52},
    ("kalshi.jsonl", 52): "multivariate_lookup: the multivariate channel was removed 2026-08-06 (§6)",
    ("kalshi.jsonl", 75): "ticker_v2: removed 2026-02-12 (§6)",
    # Hand-written "legacy" unit-test frames that do not match seed doc 000 either:
    ("kalshi.jsonl", 81): "hand-written legacy trade without no_price (seed doc 000 has yes_price+no_price)",
    ("kalshi.jsonl", 84): "hand-written legacy trade with invented trade_id/seq, no no_price/ts",
    ("kalshi.jsonl", 85): "hand-written legacy fill with `ticker` and seq, no market_ticker/no_price/ts",
    ("kalshi.jsonl", 86): "hand-written market_position in cents: no such message in seed doc 000, and the "
    "current market_position uses *_fp/*_dollars (§6.5)",
}

# Hand-written legacy integer-cent frames (kalshi-edge-lab, pykalshi) that match seed doc 000 exactly.
KALSHI_LEGACY_LINES: dict[tuple[str, int], str] = {
    ("kalshi.jsonl", 79): "orderbook_snapshot",
    ("kalshi.jsonl", 80): "orderbook_delta",
    ("kalshi.jsonl", 82): "orderbook_snapshot",
    ("kalshi.jsonl", 83): "orderbook_delta",
}

# Top-level keys that a capture tool added to a real frame; they are stripped before validating.
# kalshi-samples.jsonl:78 source says "'_rx_ms' is a collector-added" receive timestamp.
KALSHI_COLLECTOR_KEYS: dict[tuple[str, int], tuple[str, ...]] = {("kalshi-samples.jsonl", 78): ("_rx_ms",)}

KRAKEN_EXCLUDED: dict[tuple[str, int], str] = {
    # The checksum guide prints this snapshot as decoded by a "json string decoder" (kraken.md §4.3
    # vector A): prices/qtys are strings. The wire sends JSON numbers (§2.3), and these models reject a
    # string price on purpose (Kraken's Rust SDK tolerates strings; a simulator must not send them).
    ("kraken-samples.jsonl", 1): "checksum-guide snapshot with string prices (display form, not wire)",
    ("kraken.jsonl", 1): "checksum-guide snapshot with string prices (display form, not wire)",
    # Not marked observed in the doc: an extra top-level "status":"error" that §2.2 does not list; dated
    # 2023-04-19, before the v2 API was public, so it is not taken as evidence of the current shape.
    ("kraken-samples.jsonl", 51): "error reply with undocumented top-level `status` field (2023-04)",
    ("kraken-samples.jsonl", 55): "add_order error reply: order entry is out of scope",
    ("kraken-samples.jsonl", 56): "edit_order error reply: order entry is out of scope",
    ("kraken-samples.jsonl", 92): "REST GetWebSocketsToken response, not a WebSocket frame",
    ("kraken.jsonl", 10): "cancel_all reply: order entry is out of scope",
    # ccxt/cryptofeed docstring (not a capture): its ticker has a `trades` field that kraken.md §3.1 does
    # not list, so it fails forbid_unknown_fields. Not marked observed in the doc -> kept excluded.
    ("kraken.jsonl", 12): "library docstring ticker with undocumented `trades` field",
}

# The bare text frame `CloudFlare WebSocket proxy restarting` (kraken.md G21): must raise ShapeError.
KRAKEN_NON_JSON: frozenset[tuple[str, int]] = frozenset({("kraken-samples.jsonl", 57)})

# kalshi-samples.jsonl `channel` annotation -> the kinds a frame of that channel may have.
KALSHI_CHANNEL_KINDS: dict[str, frozenset[str]] = {
    "control": frozenset({"subscribed", "unsubscribed", "ok", "ok.list_subscriptions", "error"}),
    "orderbook_delta": frozenset({"orderbook_snapshot", "orderbook_delta"}),
    "ticker": frozenset({"ticker"}),
    "trade": frozenset({"trade"}),
    "fill": frozenset({"fill"}),
    "market_positions": frozenset({"market_position"}),
    "user_orders": frozenset({"user_order"}),
    "market_lifecycle_v2": frozenset(
        {"market_lifecycle_v2", "market_lifecycle_v2.metadata_updated", "event_lifecycle", "event_fee_update"}
    ),
}


def _all(files: tuple[str, ...]) -> list[tuple[str, int, _Line]]:
    return [(name, no, line) for name in files for no, line in _lines(name)]


KALSHI_LINES = _all(KALSHI_FILES)
KRAKEN_LINES = _all(KRAKEN_FILES)


def _ids(rows: list[tuple[str, int, _Line]]) -> list[str]:
    return [f"{name}:{no}" for name, no, _ in rows]


# ---------------------------------------------------------------------------------------------------
# Every fixture line
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "no", "line"), KALSHI_LINES, ids=_ids(KALSHI_LINES))
def test_kalshi_fixture_line(name: str, no: int, line: _Line) -> None:
    key = (name, no)
    text = _frame_text(line)
    if _is_client_to_server(text):
        assert key not in KALSHI_EXCLUDED and key not in KALSHI_LEGACY_LINES
        with pytest.raises(ShapeError, match="client->server"):
            validate_kalshi(text)
        return
    if key in KALSHI_LEGACY_LINES:
        assert validate_kalshi(text, legacy=True) == KALSHI_LEGACY_LINES[key]
        with pytest.raises(ShapeError):
            validate_kalshi(text)  # a legacy frame is never a valid current frame
        return
    if key in KALSHI_EXCLUDED:
        with pytest.raises(ShapeError):
            validate_kalshi(text)
        if "hand-written" in KALSHI_EXCLUDED[key]:
            with pytest.raises(ShapeError):
                validate_kalshi(text, legacy=True)
        return
    if key in KALSHI_COLLECTOR_KEYS:
        obj = json.loads(text)
        for extra in KALSHI_COLLECTOR_KEYS[key]:
            del obj[extra]
        text = json.dumps(obj).encode()
    kind = validate_kalshi(text)
    assert kind in KALSHI_KINDS
    if line.channel is not None:
        assert kind in KALSHI_CHANNEL_KINDS[line.channel], (line.channel, kind)


@pytest.mark.parametrize(("name", "no", "line"), KRAKEN_LINES, ids=_ids(KRAKEN_LINES))
def test_kraken_fixture_line(name: str, no: int, line: _Line) -> None:
    key = (name, no)
    text = _frame_text(line)
    if key in KRAKEN_NON_JSON:
        frame = msgspec.json.decode(text, type=str)  # the raw value is the bare text frame
        with pytest.raises(ShapeError, match="not JSON"):
            validate_kraken(frame)
        return
    if _is_client_to_server(text):
        assert key not in KRAKEN_EXCLUDED
        with pytest.raises(ShapeError, match="client->server"):
            validate_kraken(text)
        return
    if key in KRAKEN_EXCLUDED:
        with pytest.raises(ShapeError):
            validate_kraken(text)
        return
    kind = validate_kraken(text)
    assert kind in KRAKEN_KINDS
    if line.channel in ("ticker", "trade", "book", "ohlc", "instrument", "executions", "balances", "status"):
        # kraken-samples annotates each line with its channel: data frames must be of that channel.
        assert kind.startswith(f"{line.channel}.") or kind.endswith((".ack", ".error")), (line.channel, kind)


def test_exclusion_tables_point_at_real_lines() -> None:
    kalshi_keys = {(name, no) for name, no, _ in KALSHI_LINES}
    kraken_keys = {(name, no) for name, no, _ in KRAKEN_LINES}
    for table in (KALSHI_EXCLUDED, KALSHI_LEGACY_LINES, KALSHI_COLLECTOR_KEYS):
        assert set(table) <= kalshi_keys
    assert set(KRAKEN_EXCLUDED) | KRAKEN_NON_JSON <= kraken_keys
    assert not set(KALSHI_EXCLUDED) & set(KALSHI_LEGACY_LINES)


def test_fixtures_cover_the_kinds() -> None:
    seen_kalshi = set()
    for name, no, line in KALSHI_LINES:
        key = (name, no)
        text = _frame_text(line)
        if key in KALSHI_EXCLUDED or key in KALSHI_LEGACY_LINES or key in KALSHI_COLLECTOR_KEYS:
            continue
        if not _is_client_to_server(text):
            seen_kalshi.add(validate_kalshi(text))
    assert seen_kalshi == KALSHI_KINDS

    seen_kraken = set()
    for name, no, line in KRAKEN_LINES:
        key = (name, no)
        text = _frame_text(line)
        if key in KRAKEN_EXCLUDED or key in KRAKEN_NON_JSON or _is_client_to_server(text):
            continue
        seen_kraken.add(validate_kraken(text))
    # No fixture holds an unsubscribe error, a failed pong or a "method":"error" reply.
    assert seen_kraken == KRAKEN_KINDS - {"unsubscribe.error", "pong.error", "error"}


# ---------------------------------------------------------------------------------------------------
# Kraken raw-text precision of book levels
# ---------------------------------------------------------------------------------------------------

# Verbatim live captures (frame text untouched): every book level carries the pair's full precision.
VERBATIM_BOOKS: dict[str, tuple[int, int]] = {
    "kraken-book-sequence-1.jsonl": (1, 8),  # BTC/USD
    "kraken-book-sequence-2.jsonl": (4, 8),  # MINA/GBP
    "kraken-book-sequence-4.jsonl": (2, 8),  # ETH/USD
}
# Single verbatim live BTC/USD frames (price_precision 1, qty_precision 8 per the instrument example).
VERBATIM_BTC_LINES = (("kraken.jsonl", (20, 21, 22, 23)), ("kraken-samples.jsonl", (34, 35)))


def _book_frames(name: str) -> list[bytes]:
    frames = [_frame_text(line) for _, line in _lines(name)]
    return [text for text in frames if json.loads(text).get("channel") == "book"]


@pytest.mark.parametrize("name", sorted(VERBATIM_BOOKS))
def test_verbatim_book_text_has_pair_precision(name: str) -> None:
    price_precision, qty_precision = VERBATIM_BOOKS[name]
    frames = _book_frames(name)
    assert frames
    for text in frames:
        kind = check_kraken_book_precision(text, price_precision=price_precision, qty_precision=qty_precision)
        assert kind in ("book.snapshot", "book.update")


def test_verbatim_btc_frames_have_pair_precision() -> None:
    for name, numbers in VERBATIM_BTC_LINES:
        lines = dict(_lines(name))
        for no in numbers:
            check_kraken_book_precision(_frame_text(lines[no]), price_precision=1, qty_precision=8)


def test_reserialised_book_text_fails_precision() -> None:
    # kraken-book-sequence-3 was re-serialised by Python (`4.0`, `0.0241`): shape-valid, text not.
    frames = _book_frames("kraken-book-sequence-3.jsonl")
    assert all(validate_kraken(text).startswith("book.") for text in frames)
    with pytest.raises(ShapeError, match="decimals"):
        check_kraken_book_precision(frames[0], price_precision=1, qty_precision=8)
    # The MATIC/USD doc example lost trailing zeros too (`0.566`), kraken.md §4.3 vector B.
    doc_snapshot = _frame_text(dict(_lines("kraken-samples.jsonl"))[5])
    with pytest.raises(ShapeError, match="decimals"):
        check_kraken_book_precision(doc_snapshot, price_precision=4, qty_precision=8)


def test_precision_helper_rejects_non_book_and_exponent() -> None:
    with pytest.raises(ShapeError, match="expected a book frame"):
        check_kraken_book_precision(b'{"channel":"heartbeat"}', price_precision=1, qty_precision=8)
    frame = (
        b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":62800.7,'
        b'"qty":5.1e-05}],"asks":[],"checksum":1,"timestamp":"2026-08-16T23:37:04.334135Z"}]}'
    )
    assert validate_kraken(frame) == "book.update"
    with pytest.raises(ShapeError, match="qty"):
        check_kraken_book_precision(frame, price_precision=1, qty_precision=8)


# ---------------------------------------------------------------------------------------------------
# Seed doc 000 examples (legacy namespace), copied from the document with placeholders made concrete
# ---------------------------------------------------------------------------------------------------

SEED_EXAMPLES: dict[str, str] = {
    "subscribed": '{"id": 1, "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": 1}}',
    "unsubscribed": '{"sid": 2, "type": "unsubscribed"}',
    "ok": '{"id": 123, "sid": 456, "seq": 222, "type": "ok", "market_tickers": ["FED-23DEC-T3.00"]}',
    "error": '{"type":"error","id":2,"msg":{"code":6,"msg":"Already subscribed"}}',
    "orderbook_snapshot": '{"type": "orderbook_snapshot", "sid": 2, "seq": 2, "msg": {"market_ticker": '
    '"FED-23DEC-T3.00", "yes": [[8, 300], [22, 333]], "no": [[54, 20], [56, 146]]}}',
    "orderbook_delta": '{"type": "orderbook_delta", "sid": 2, "seq": 3, "msg": {"market_ticker": '
    '"FED-23DEC-T3.00", "price": 96, "delta": -54, "side": "yes"}}',
    "ticker": '{"type": "ticker", "sid": 11, "msg": {"market_ticker": "FED-23DEC-T3.00", "price": 48, '
    '"yes_bid": 45, "yes_ask": 53, "volume": 33896, "open_interest": 20422, "dollar_volume": 16948, '
    '"dollar_open_interest": 10211, "ts": 1669149841}}',
    "trade": '{"type": "trade", "sid": 11, "msg": {"market_ticker": "HIGHNY-22DEC23-B53.5", "yes_price": 36, '
    '"no_price": 64, "count": 136, "taker_side": "no", "ts": 1669149841}}',
    "fill": '{"type": "fill", "sid": 13, "msg": {"trade_id": "d91bc706-ee49-470d-82d8-11418bda6fed", '
    '"order_id": "ee587a1c-8b87-4dcf-b721-9f6f790619fa", "market_ticker": "HIGHNY-22DEC23-B53.5", '
    '"is_taker": true, "side": "yes", "yes_price": 75, "no_price": 25, "count": 278, "action": "buy", '
    '"ts": 1671899397}}',
    "market_lifecycle": '{"type": "market_lifecycle", "sid": 13, "msg": {'
    '"market_ticker": "INXD-23SEP14-B4487", "open_ts": 1694635200, "close_ts": 1694721600, '
    '"determination_ts": 1694732586, "settled_ts": 0, '
    '"result": "no", "is_deactivated": false}}',
}


@pytest.mark.parametrize("kind", sorted(SEED_EXAMPLES))
def test_seed_doc_examples_validate_as_legacy(kind: str) -> None:
    assert validate_kalshi(SEED_EXAMPLES[kind], legacy=True) == kind


def test_seed_examples_cover_the_legacy_kinds() -> None:
    assert set(SEED_EXAMPLES) == KALSHI_LEGACY_KINDS


@pytest.mark.parametrize("kind", sorted(set(SEED_EXAMPLES) - {"subscribed", "error"}))
def test_seed_doc_examples_are_not_current(kind: str) -> None:
    with pytest.raises(ShapeError):
        validate_kalshi(SEED_EXAMPLES[kind])


@pytest.mark.parametrize(
    "text",
    [
        # price outside 1..99 cents
        '{"type": "orderbook_delta", "sid": 2, "seq": 3, "msg": {"market_ticker": "X", "price": 100, '
        '"delta": -54, "side": "yes"}}',
        # yes + no != 100
        '{"type": "trade", "sid": 11, "msg": {"market_ticker": "X", "yes_price": 36, "no_price": 60, '
        '"count": 1, "taker_side": "no", "ts": 1}}',
        # dollar strings are not legacy
        '{"type": "orderbook_delta", "sid": 2, "seq": 3, "msg": {"market_ticker": "X", "price": "0.96", '
        '"delta": -54, "side": "yes"}}',
        # seq is only on the orderbook channel in the seed doc
        '{"type": "ticker", "sid": 11, "seq": 4, "msg": {"market_ticker": "X", "price": 48, "yes_bid": 45, '
        '"yes_ask": 53, "volume": 1, "open_interest": 1, "dollar_volume": 1, "dollar_open_interest": 1, '
        '"ts": 1}}',
        # v2 lifecycle is not in the seed doc
        '{"type": "market_lifecycle_v2", "sid": 1, "seq": 1, "msg": {"market_ticker": "X", '
        '"event_type": "settled", "settled_ts": 1}}',
    ],
)
def test_legacy_negative(text: str) -> None:
    with pytest.raises(ShapeError):
        validate_kalshi(text, legacy=True)


# ---------------------------------------------------------------------------------------------------
# Kalshi negatives (current format)
# ---------------------------------------------------------------------------------------------------

GOOD_DELTA: dict[str, Any] = {
    "type": "orderbook_delta",
    "sid": 1,
    "seq": 2,
    "msg": {
        "market_ticker": "KXGOLDH-26AUG2711-T4615.99",
        "market_id": "ef793c45-beed-4096-8a3a-1c70af894be7",
        "price_dollars": "0.0100",
        "delta_fp": "10.00",
        "side": "yes",
        "ts": "2026-08-27T13:56:23.996443Z",
        "ts_ms": 1787838983996,
    },
}
GOOD_TRADE: dict[str, Any] = {
    "type": "trade",
    "sid": 3,
    "seq": 1,
    "msg": {
        "count_fp": "2.00",
        "market_ticker": "KXMAXSHARDINGTEST-26AUG2818-T57399.99",
        "no_price_dollars": "0.2000",
        "taker_book_side": "ask",
        "taker_outcome_side": "no",
        "taker_side": "no",
        "trade_id": "879217f6-553e-7222-2304-fb05558d63d0",
        "ts": 1786956599,
        "ts_ms": 1786956599391,
        "yes_price_dollars": "0.8000",
    },
}
GOOD_TICKER: dict[str, Any] = {
    "type": "ticker",
    "sid": 4,
    "msg": {
        "market_id": "ef793c45-beed-4096-8a3a-1c70af894be7",
        "market_ticker": "KXGOLDH-26AUG2711-T4615.99",
        "price_dollars": "0.0000",
        "yes_bid_dollars": "0.0100",
        "yes_ask_dollars": "0.9800",
        "volume_fp": "0.00",
        "open_interest_fp": "0.00",
        "yes_bid_size_fp": "1410.00",
        "yes_ask_size_fp": "2500.00",
        "last_trade_size_fp": "0.00",
        "ts": 1787838990,
        "ts_ms": 1787838990880,
    },
}


def _with(frame: dict[str, Any], path: tuple[str | int, ...], value: object) -> str:
    obj = json.loads(json.dumps(frame))
    target: Any = obj
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return json.dumps(obj)


def _without(frame: dict[str, Any], path: tuple[str | int, ...]) -> str:
    obj = json.loads(json.dumps(frame))
    target: Any = obj
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return json.dumps(obj)


def test_good_kalshi_bases_validate() -> None:
    assert validate_kalshi(json.dumps(GOOD_DELTA)) == "orderbook_delta"
    assert validate_kalshi(json.dumps(GOOD_TRADE)) == "trade"
    assert validate_kalshi(json.dumps(GOOD_TICKER)) == "ticker"
    assert validate_kalshi(json.dumps(GOOD_TICKER).encode()) == "ticker"  # bytes accepted too
    assert validate_kalshi(_with(GOOD_TICKER, ("sending_ts_ms",), 1787838990881)) == "ticker"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        # float price instead of a *_dollars string
        (_with(GOOD_DELTA, ("msg", "price_dollars"), 0.01), "Expected `str`, got `float`"),
        (_with(GOOD_TRADE, ("msg", "yes_price_dollars"), 0.8), "Expected `str`, got `float`"),
        # price text with 5 decimals / no decimals; size with 1 or 3 decimals
        (_with(GOOD_DELTA, ("msg", "price_dollars"), "0.01000"), "regex"),
        (_with(GOOD_DELTA, ("msg", "price_dollars"), "1"), "regex"),
        (_with(GOOD_DELTA, ("msg", "delta_fp"), "10.0"), "regex"),
        (_with(GOOD_TICKER, ("msg", "volume_fp"), "0.000"), "regex"),
        # unsigned sizes must not be negative
        (_with(GOOD_TRADE, ("msg", "count_fp"), "-2.00"), "regex"),
        # missing required fields
        (_without(GOOD_TRADE, ("msg", "taker_outcome_side")), "missing required field `taker_outcome_side`"),
        (_without(GOOD_DELTA, ("msg", "market_id")), "missing required field `market_id`"),
        (_without(GOOD_TICKER, ("msg", "yes_ask_size_fp")), "missing required field"),
        # unknown fields: invented, and a stale one (the Jan-2026 ticker had no_bid_dollars)
        (_with(GOOD_TICKER, ("msg", "no_bid_dollars"), "0.0200"), "unknown field `no_bid_dollars`"),
        (_with(GOOD_DELTA, ("msg", "price"), 1), "unknown field `price`"),
        (_with(GOOD_DELTA, ("extra",), 1), "unknown field `extra`"),
        # envelope: seq forbidden on ticker, required on orderbook_delta/trade; id not on deltas
        (_with(GOOD_TICKER, ("seq",), 5), "unknown field `seq`"),
        (_without(GOOD_DELTA, ("seq",)), "missing required field `seq`"),
        (_without(GOOD_TRADE, ("seq",)), "missing required field `seq`"),
        (_with(GOOD_DELTA, ("id",), 7), "unknown field `id`"),
        (_with(GOOD_DELTA, ("sid",), 0), ">= 1"),
        # cross-field rules
        (_with(GOOD_TRADE, ("msg", "no_price_dollars"), "0.3000"), "1 - yes_price_dollars"),
        (_with(GOOD_TRADE, ("msg", "taker_book_side"), "bid"), "taker_book_side"),
        (_with(GOOD_DELTA, ("msg", "delta_fp"), "0.00"), "zero"),
        (_with(GOOD_DELTA, ("msg", "price_dollars"), "1.0000"), "outside"),
        (_with(GOOD_DELTA, ("msg", "side"), "buy"), "Invalid enum value"),
        # explicit null where the field is optional but not nullable
        (_with(GOOD_DELTA, ("msg", "ts_ms"), None), "got `null`"),
    ],
)
def test_kalshi_negative(text: str, needle: str) -> None:
    with pytest.raises(ShapeError) as info:
        validate_kalshi(text)
    assert needle in str(info.value)


@pytest.mark.parametrize("code", [6, 16, 17])
def test_kalshi_retired_error_codes(code: int) -> None:
    frame = json.dumps({"type": "error", "id": 3, "msg": {"code": code, "msg": "x"}})
    with pytest.raises(ShapeError, match="retired"):
        validate_kalshi(frame)


@pytest.mark.parametrize(
    "text",
    [
        '{"type":"error","id":3,"msg":{"code":0,"msg":"x"}}',
        '{"type":"error","id":3,"msg":{"code":29,"msg":"x"}}',
        '{"type":"error","seq":2,"msg":{"code":13,"msg":"Unsupported action"}}',  # seq without sid
        '{"type":"error","id":3,"msg":{"code":8}}',
        '{"type":"ok","id":3,"msg":{"index_ids":["BRTI"]}}',
        '{"type":"ok","id":2,"msg":{"market_tickers":["A"]}}',  # update ack without sid/seq
        '{"type":"unsubscribed","sid":2}',  # current unsubscribed carries seq
        '{"type":"subscribed","id":1,"msg":{"channel":"ticker_v2","sid":1}}',
        '{"type":"subscribed","id":1,"sid":1,"msg":{"channel":"ticker","sid":1}}',
        '{"type":"list_subscriptions","id":3,"subscriptions":[]}',
    ],
)
def test_kalshi_control_negative(text: str) -> None:
    with pytest.raises(ShapeError):
        validate_kalshi(text)


def test_kalshi_snapshot_rules() -> None:
    base: dict[str, Any] = {
        "type": "orderbook_snapshot",
        "sid": 1,
        "seq": 1,
        "msg": {"market_ticker": "T", "market_id": ""},
    }
    assert validate_kalshi(json.dumps(base)) == "orderbook_snapshot"
    assert validate_kalshi(_with(base, ("id",), 2)) == "orderbook_snapshot"  # get_snapshot reply
    for levels in ([], [["0.5000", "0.00"]], [["0.5000", "1.00"], ["0.5000", "2.00"]], [[0.5, "1.00"]]):
        with pytest.raises(ShapeError):
            validate_kalshi(_with(base, ("msg", "yes_dollars_fp"), levels))


def test_kalshi_lifecycle_rules() -> None:
    base: dict[str, Any] = {
        "type": "market_lifecycle_v2",
        "sid": 13,
        "seq": 4,
        "msg": {"market_ticker": "M", "event_type": "settled"},
    }
    assert validate_kalshi(_with(base, ("msg", "settled_ts"), 1)) == "market_lifecycle_v2"
    with pytest.raises(ShapeError, match="not carried by event_type"):
        validate_kalshi(_with(base, ("msg", "open_ts"), 1))
    with pytest.raises(ShapeError):
        validate_kalshi(_with(base, ("msg", "event_type"), "fractional_trading_updated"))  # removed event
    meta = _with(base, ("msg", "event_type"), "metadata_updated")
    assert validate_kalshi(meta) == "market_lifecycle_v2.metadata_updated"
    with pytest.raises(ShapeError):
        validate_kalshi(_with(json.loads(meta), ("msg", "settled_ts"), 1))


@pytest.mark.parametrize(
    "text",
    [
        b"CloudFlare WebSocket proxy restarting",
        b"",
        b'{"type": "ticker",',
        b"[1, 2]",
        b'"ticker"',
        b'{"sid": 1}',
        b'{"type": "bogus", "sid": 1}',
        b'{"id": 1, "cmd": "subscribe", "params": {"channels": ["ticker"]}}',
        "\ud800",  # a lone surrogate cannot even be encoded as UTF-8
    ],
)
def test_kalshi_non_frames(text: str | bytes) -> None:
    with pytest.raises(ShapeError):
        validate_kalshi(text)
    with pytest.raises(ShapeError):
        validate_kalshi(text, legacy=True)


# ---------------------------------------------------------------------------------------------------
# Kraken negatives
# ---------------------------------------------------------------------------------------------------

GOOD_BOOK_UPDATE: dict[str, Any] = {
    "channel": "book",
    "type": "update",
    "data": [
        {
            "symbol": "BTC/USD",
            "bids": [{"price": 63381.0, "qty": 0.0}],
            "asks": [],
            "checksum": 3726153463,
            "timestamp": "2026-08-02T03:35:51.660084Z",
        }
    ],
}


def test_good_kraken_base_validates() -> None:
    assert validate_kraken(json.dumps(GOOD_BOOK_UPDATE)) == "book.update"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        # book level with a string price / qty
        (
            _with(GOOD_BOOK_UPDATE, ("data", 0, "bids"), [{"price": "63381.0", "qty": 0.0}]),
            "Expected `float`, got `str`",
        ),
        (
            _with(GOOD_BOOK_UPDATE, ("data", 0, "bids"), [{"price": 63381.0, "qty": "0.0"}]),
            "Expected `float`, got `str`",
        ),
        # level as an array (v1 shape), negative qty, extra level field
        (_with(GOOD_BOOK_UPDATE, ("data", 0, "bids"), [[63381.0, 0.0]]), "Expected `object`"),
        (_with(GOOD_BOOK_UPDATE, ("data", 0, "bids"), [{"price": 1.0, "qty": -1.0}]), "must not be negative"),
        (
            _with(GOOD_BOOK_UPDATE, ("data", 0, "bids"), [{"price": 1.0, "qty": 1.0, "ts": 1}]),
            "unknown field `ts`",
        ),
        # checksum must be uint32
        (_with(GOOD_BOOK_UPDATE, ("data", 0, "checksum"), 2**32), "<= 4294967295"),
        (_with(GOOD_BOOK_UPDATE, ("data", 0, "checksum"), -1), ">= 0"),
        # missing checksum / symbol
        (_without(GOOD_BOOK_UPDATE, ("data", 0, "checksum")), "missing required field `checksum`"),
        # data holds exactly one element on book
        (_with(GOOD_BOOK_UPDATE, ("data",), []), "length >= 1"),
        # unknown top-level field
        (_with(GOOD_BOOK_UPDATE, ("sequence",), 3), "unknown field `sequence`"),
    ],
)
def test_kraken_book_negative(text: str, needle: str) -> None:
    with pytest.raises(ShapeError) as info:
        validate_kraken(text)
    assert needle in str(info.value)


def test_kraken_snapshot_order_and_crossing() -> None:
    snap: dict[str, Any] = {
        "channel": "book",
        "type": "snapshot",
        "data": [
            {
                "symbol": "BTC/USD",
                "bids": [{"price": 2.0, "qty": 1.0}, {"price": 1.0, "qty": 1.0}],
                "asks": [{"price": 3.0, "qty": 1.0}, {"price": 4.0, "qty": 1.0}],
                "checksum": 1,
            }
        ],
    }
    assert validate_kraken(json.dumps(snap)) == "book.snapshot"
    wrong_order = _with(snap, ("data", 0, "bids"), [{"price": 1.0, "qty": 1.0}, {"price": 2.0, "qty": 1.0}])
    crossed = _with(snap, ("data", 0, "asks"), [{"price": 2.0, "qty": 1.0}])
    zero = _with(snap, ("data", 0, "asks"), [{"price": 3.0, "qty": 0.0}])
    for text, needle in ((wrong_order, "best-first"), (crossed, "crossed"), (zero, "zero-qty")):
        with pytest.raises(ShapeError, match=needle):
            validate_kraken(text)


@pytest.mark.parametrize(
    "text",
    [
        b"CloudFlare WebSocket proxy restarting",
        b"",
        b"[]",
        b'{"foo": 1}',
        b'{"channel":"heartbeat","type":"update"}',
        b'{"channel":"level3","type":"snapshot","data":[]}',
        b'{"channel":"status","type":"update","data":[{"system":"online","api_version":"v2","version":"2"}],"x":1}',
        b'{"channel":"ohlc","type":"update","data":[]}',  # top-level timestamp missing
        b'{"channel":"executions","type":"update","data":[]}',  # sequence missing
        b'{"channel":"instrument","type":"snapshot","data":[]}',  # data must be an object
        b'{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"]}}',
        b'{"method":"ping","req_id":1}',
        # ack without symbol on a symbol channel / book ack with an invalid depth / symbol as a list
        b'{"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true},"success":true,'
        b'"time_in":"2023-10-06T17:35:55.219022Z","time_out":"2023-10-06T17:35:55.219067Z"}',
        b'{"method":"subscribe","result":{"channel":"book","depth":27,"snapshot":true,"symbol":"A/B"},'
        b'"success":true,"time_in":"2023-10-06T17:35:55.219022Z","time_out":"2023-10-06T17:35:55.219067Z"}',
        b'{"method":"subscribe","result":{"channel":"ticker","symbol":["A/B"]},"success":true,'
        b'"time_in":"2023-10-06T17:35:55.219022Z","time_out":"2023-10-06T17:35:55.219067Z"}',
        # instrument ack with a symbol; ack missing success; error reply with a result
        b'{"method":"subscribe","result":{"channel":"instrument","symbol":"A/B"},"success":true,'
        b'"time_in":"2023-10-06T17:35:55.219022Z","time_out":"2023-10-06T17:35:55.219067Z"}',
        b'{"method":"subscribe","result":{"channel":"trade","symbol":"A/B"},'
        b'"time_in":"2023-10-06T17:35:55.219022Z","time_out":"2023-10-06T17:35:55.219067Z"}',
        b'{"method":"subscribe","result":{"channel":"trade","symbol":"A/B"},"success":false,"error":"x",'
        b'"time_in":"2023-10-06T17:35:55.219022Z","time_out":"2023-10-06T17:35:55.219067Z"}',
        # error as a list (REST style)
        b'{"method":"subscribe","success":false,"error":["x"],'
        b'"time_in":"2023-10-06T17:35:55.219022Z","time_out":"2023-10-06T17:35:55.219067Z"}',
    ],
)
def test_kraken_negative(text: bytes) -> None:
    with pytest.raises(ShapeError):
        validate_kraken(text)


def test_kraken_error_kinds() -> None:
    times = '"time_in":"2025-12-20T07:39:43.909056Z","time_out":"2025-12-20T07:39:43.909073Z"'
    unsub = (
        '{"error":"Subscription Not Found","method":"unsubscribe","req_id":4,"success":false,' + times + "}"
    )
    malformed = '{"error":"Malformed request","method":"error","success":false,' + times + "}"
    assert validate_kraken(unsub) == "unsubscribe.error"
    assert validate_kraken(malformed) == "error"


def test_shape_error_is_value_error() -> None:
    assert issubclass(ShapeError, ValueError)
