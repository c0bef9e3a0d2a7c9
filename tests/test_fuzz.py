"""Random, truncated and mutated frames never raise out of a codec session."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.venues.kalshi.session import KalshiSession
from app.venues.kraken.session import KrakenSession
from tests.conftest import fixture_lines

FILES = {
    "kalshi": ["kalshi.jsonl", "kalshi-samples.jsonl"],
    "kraken": [
        "kraken.jsonl",
        "kraken-samples.jsonl",
        "kraken-book-sequence-1.jsonl",
        "kraken-book-sequence-4.jsonl",
    ],
}
FRAMES: dict[str, list[str]] = {
    venue: [
        json.dumps(line["raw"]) if not isinstance(line["raw"], str) else line["raw"]
        for name in names
        for line in fixture_lines(name)
    ]
    for venue, names in FILES.items()
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def sessions() -> list[KalshiSession | KrakenSession]:
    return [KalshiSession(), KrakenSession()]


@settings(deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_random_bytes_and_text(frame: bytes | str) -> None:
    for session in sessions():
        session.on_frame(frame)


@settings(deadline=None)
@given(st.sampled_from(FRAMES["kalshi"] + FRAMES["kraken"]), st.integers(min_value=0, max_value=2000))
def test_truncated_real_frames(frame: str, cut: int) -> None:
    for session in sessions():
        session.on_frame(frame[: cut % (len(frame) + 1)])


def _mutate(obj: Any, path: list[int], value: Any) -> Any:
    """Replace one node (chosen by ``path`` indices) of a JSON tree with ``value``."""
    if not path or not isinstance(obj, dict | list) or not obj:
        return value
    if isinstance(obj, dict):
        keys = list(obj)
        key = keys[path[0] % len(keys)]
        return {**obj, key: _mutate(obj[key], path[1:], value)}
    i = path[0] % len(obj)
    return [*obj[:i], _mutate(obj[i], path[1:], value), *obj[i + 1 :]]


@settings(deadline=None)
@given(
    st.sampled_from(FRAMES["kalshi"] + FRAMES["kraken"]),
    st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=5),
    json_values,
)
def test_mutated_real_frames(frame: str, path: list[int], value: Any) -> None:
    """Swap any field of a real frame for any JSON value: a session reports it, never raises."""
    try:
        obj = json.loads(frame)
    except ValueError:
        return
    mutated = json.dumps(_mutate(obj, path, value))
    for session in sessions():
        session.on_frame(mutated)


def test_garbage_number_text_in_a_kraken_book() -> None:
    """Number text the decoder passes on but that is no number is reported; the book is untouched."""
    session = KrakenSession()
    good = {
        "channel": "book",
        "type": "snapshot",
        "data": [{"symbol": "X/Y", "bids": [{"price": "1.0", "qty": "2.0"}], "asks": [], "checksum": 0}],
    }
    session.on_message(good)
    for bad in ("abc", "1e5x", "1_0", "١"):
        frame = {
            "channel": "book",
            "type": "update",
            "data": [{"symbol": "X/Y", "bids": [{"price": bad, "qty": "1"}], "asks": [], "checksum": 0}],
        }
        (ev,) = session.on_message(frame)
        assert type(ev).__name__ == "Malformed"
    assert session.books["X/Y"].top_bids() == [(10, 20)]


def test_recorded_commands_with_wrong_shapes() -> None:
    """Client commands found in a recording may be damaged too; they are noted or ignored, never fatal."""
    for params in (
        None,
        {"channels": None},
        {"channels": 3},
        {"channels": ["orderbook_delta"], "market_tickers": 7},
    ):
        KalshiSession().on_message({"id": 1, "cmd": "subscribe", "params": params})
    for params in (
        None,
        {"channel": "book", "depth": 10, "symbol": 5},
        {"channel": "book", "depth": 10, "symbol": None},
    ):
        KrakenSession().on_message({"method": "subscribe", "params": params})


def test_frames_nested_as_deep_as_the_parser_allows_become_malformed_not_recursion_errors() -> None:
    """CI's fuzz run found this: a frame the parser accepted at ~990 levels, whose excerpt
    (``repr``) then exceeded the interpreter's limit from the codec's deeper stack.

    The parser's limit is the interpreter's stack, so each frame is tried from the deepest
    nesting down, through the session itself, until the parser accepts it."""
    wraps = {
        "kraken": [
            '{"channel":"' + channel + '","type":"update","data":%s}'
            for channel in ("ohlc", "book", "ticker", "trade", "executions", "balances", "level3", "status")
        ]
        + ['{"method":"subscribe","success":true,"result":%s}', "%s"],
        "kalshi": [
            '{"type":"' + kind + '","sid":1,"seq":1,"msg":%s}'
            for kind in ("orderbook_snapshot", "orderbook_delta", "ticker", "trade", "fill", "error")
        ]
        + ['{"type":"ticker","sid":1,"msg":{"market_ticker":%s}}', "%s"],
    }
    for session in sessions():
        venue = "kalshi" if isinstance(session, KalshiSession) else "kraken"
        for wrap in wraps[venue]:
            for depth in range(1100, 800, -1):
                events = session.on_frame(wrap % ("[" * depth + "]" * depth))
                assert isinstance(events, list)
                if not any("nested too deep" in getattr(ev, "reason", "") for ev in events):
                    break
            else:
                raise AssertionError(f"no nesting under 1,100 levels parsed in {wrap}")
            for ev in events:
                if type(ev).__name__ == "Malformed":
                    assert len(ev.text) < 250  # a short excerpt, never the frame
