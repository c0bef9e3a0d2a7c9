"""Kraken v2 request frames (protocol/kraken.md §2.1, §2.4)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.venues.kraken.commands import BOOK_DEPTHS, OHLC_INTERVALS, Channel, KrakenCommands

DATA = Path(__file__).parent / "data"
TOKEN = "G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY"


def _requests(name: str) -> list[dict[str, Any]]:
    """Client requests in a samples file: subscribe/unsubscribe/ping with params or without success."""
    out = []
    with (DATA / name).open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            raw = json.loads(line, parse_float=Decimal).get("raw")
            if (
                isinstance(raw, dict)
                and raw.get("method") in ("subscribe", "unsubscribe", "ping")
                and ("params" in raw or "success" not in raw)
            ):
                out.append(raw)
    return out


REQUESTS = _requests("kraken-samples.jsonl")


def _sample(method: str, channel: str | None = None) -> dict[str, Any]:
    for raw in REQUESTS:
        if raw["method"] == method and (channel is None or raw["params"]["channel"] == channel):
            return raw
    raise AssertionError(f"no {method} {channel} sample")


def _without_req_id(frame: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in frame.items() if k != "req_id"}


# --- req_id ------------------------------------------------------------------------------------------------


def test_req_id_increases_from_one() -> None:
    """Every request takes the next req_id, starting at 1, across methods."""
    cmds = KrakenCommands()
    frames = [
        cmds.subscribe("ticker", ["BTC/USD"]),
        cmds.ping(),
        cmds.unsubscribe("ticker", ["BTC/USD"]),
        cmds.subscribe("instrument"),
    ]
    assert [f["req_id"] for f in frames] == [1, 2, 3, 4]
    assert KrakenCommands().ping()["req_id"] == 1


# --- book --------------------------------------------------------------------------------------------------


def test_book_default_depth_is_10() -> None:
    """A book subscribe without depth sends depth 10 explicitly."""
    frame = KrakenCommands().subscribe("book", ["BTC/USD"])
    assert frame == {
        "method": "subscribe",
        "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 10},
        "req_id": 1,
    }


@pytest.mark.parametrize("depth", [10, 25, 100, 500, 1000])
def test_book_every_allowed_depth(depth: int) -> None:
    """Each depth Kraken allows is sent as given."""
    assert KrakenCommands().subscribe("book", ["ETH/USD"], depth=depth)["params"]["depth"] == depth


def test_book_depths_constant_matches_spec() -> None:
    """The allowed set is exactly 10/25/100/500/1000 (kraken.md §2.4)."""
    assert tuple(BOOK_DEPTHS) == (10, 25, 100, 500, 1000)


@pytest.mark.parametrize("depth", [27, 0, 5, 50, -10, 1001])
def test_book_bad_depth_raises_without_consuming_req_id(depth: int) -> None:
    """A depth Kraken would refuse raises ValueError, and the next request still gets req_id 1."""
    cmds = KrakenCommands()
    with pytest.raises(ValueError, match=str(depth)):
        cmds.subscribe("book", ["BTC/USD"], depth=depth)
    with pytest.raises(ValueError):
        cmds.unsubscribe("book", ["BTC/USD"], depth=depth)
    assert cmds.subscribe("book", ["BTC/USD"])["req_id"] == 1


def test_depth_only_on_book() -> None:
    """depth on another channel raises ValueError."""
    with pytest.raises(ValueError):
        KrakenCommands().subscribe("ticker", ["BTC/USD"], depth=10)


def test_unsubscribe_book_carries_depth() -> None:
    """Unsubscribing a book repeats its depth (the default 10, or the one given)."""
    cmds = KrakenCommands()
    assert cmds.unsubscribe("book", ["BTC/USD"])["params"] == {
        "channel": "book",
        "symbol": ["BTC/USD"],
        "depth": 10,
    }
    assert cmds.unsubscribe("book", ["BTC/USD"], depth=100)["params"]["depth"] == 100


# --- ohlc --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("interval", [1, 5, 15, 30, 60, 240, 1440, 10080, 21600])
def test_ohlc_valid_intervals(interval: int) -> None:
    """Every documented OHLC interval is accepted and sent."""
    params = KrakenCommands().subscribe("ohlc", ["BTC/USD"], interval=interval)["params"]
    assert params == {"channel": "ohlc", "symbol": ["BTC/USD"], "interval": interval}


def test_ohlc_intervals_constant_matches_spec() -> None:
    """The allowed intervals are exactly the documented minutes."""
    assert tuple(OHLC_INTERVALS) == (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)


@pytest.mark.parametrize("interval", [None, 0, 2, 3, 120, 43200])
def test_ohlc_requires_valid_interval(interval: int | None) -> None:
    """A missing or undocumented interval raises ValueError and consumes no req_id."""
    cmds = KrakenCommands()
    with pytest.raises(ValueError):
        cmds.subscribe("ohlc", ["BTC/USD"], interval=interval)
    assert cmds.ping()["req_id"] == 1


def test_interval_only_on_ohlc() -> None:
    """interval on another channel raises ValueError."""
    with pytest.raises(ValueError):
        KrakenCommands().subscribe("trade", ["BTC/USD"], interval=5)


def test_unsubscribe_ohlc_carries_interval() -> None:
    """Unsubscribing OHLC repeats the interval."""
    params = KrakenCommands().unsubscribe("ohlc", ["BTC/USD"], interval=60)["params"]
    assert params["interval"] == 60


# --- ticker -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("trigger", ["bbo", "trades"])
def test_ticker_event_trigger(trigger: str) -> None:
    """event_trigger bbo/trades is sent in params on the ticker channel."""
    params = KrakenCommands().subscribe("ticker", ["BTC/USD"], event_trigger=trigger)["params"]
    assert params == {"channel": "ticker", "symbol": ["BTC/USD"], "event_trigger": trigger}


def test_ticker_without_trigger_has_no_key() -> None:
    """Without event_trigger nothing is sent (Kraken's default applies)."""
    assert "event_trigger" not in KrakenCommands().subscribe("ticker", ["BTC/USD"])["params"]


def test_event_trigger_invalid_or_off_ticker_raises() -> None:
    """An unknown trigger, or a trigger on a non-ticker channel, raises ValueError."""
    with pytest.raises(ValueError):
        KrakenCommands().subscribe("ticker", ["BTC/USD"], event_trigger="book")
    with pytest.raises(ValueError):
        KrakenCommands().subscribe("book", ["BTC/USD"], event_trigger="bbo")


def test_unsubscribe_ticker_repeats_trigger() -> None:
    """Unsubscribing a bbo ticker repeats event_trigger."""
    params = KrakenCommands().unsubscribe("ticker", ["BTC/USD"], event_trigger="bbo")["params"]
    assert params["event_trigger"] == "bbo"


# --- private channels ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["executions", "balances"])
def test_private_channel_requires_token(channel: str) -> None:
    """executions/balances without a token (None or empty) raise ValueError."""
    with pytest.raises(ValueError):
        KrakenCommands().subscribe(channel)
    with pytest.raises(ValueError):
        KrakenCommands().subscribe(channel, token="")
    with pytest.raises(ValueError):
        KrakenCommands().unsubscribe(channel)


@pytest.mark.parametrize("channel", ["executions", "balances"])
def test_private_channel_token_in_params(channel: str) -> None:
    """The token goes inside params.token on subscribe and unsubscribe, never at the top level."""
    cmds = KrakenCommands()
    sub = cmds.subscribe(channel, token=TOKEN)
    unsub = cmds.unsubscribe(channel, token=TOKEN)
    assert sub == {"method": "subscribe", "params": {"channel": channel, "token": TOKEN}, "req_id": 1}
    assert unsub == {"method": "unsubscribe", "params": {"channel": channel, "token": TOKEN}, "req_id": 2}


def test_private_channel_takes_no_symbols() -> None:
    """executions does not take symbols."""
    with pytest.raises(ValueError):
        KrakenCommands().subscribe("executions", ["BTC/USD"], token=TOKEN)


# --- instrument / symbols / ping ---------------------------------------------------------------------------


def test_instrument_takes_no_symbols() -> None:
    """instrument has no symbol param; passing symbols raises ValueError."""
    assert KrakenCommands().subscribe("instrument")["params"] == {"channel": "instrument"}
    with pytest.raises(ValueError):
        KrakenCommands().subscribe("instrument", ["BTC/USD"])


@pytest.mark.parametrize("channel", ["ticker", "trade", "book", "ohlc"])
def test_symbol_channels_need_symbols(channel: str) -> None:
    """Market-data channels need at least one non-empty symbol."""
    kwargs: dict[str, Any] = {"interval": 1} if channel == "ohlc" else {}
    for symbols in (None, [], [""]):
        with pytest.raises(ValueError):
            KrakenCommands().subscribe(channel, symbols, **kwargs)


def test_symbols_deduplicated_in_order() -> None:
    """Duplicate and empty symbols are dropped, first-seen order kept, always sent as a list."""
    params = KrakenCommands().subscribe("trade", ["ETH/USD", "BTC/USD", "", "ETH/USD"])["params"]
    assert params["symbol"] == ["ETH/USD", "BTC/USD"]
    assert KrakenCommands().subscribe("trade", ("BTC/USD",))["params"]["symbol"] == ["BTC/USD"]


def test_unknown_channel_raises() -> None:
    """A channel outside the enum (e.g. level3, v1 names) raises ValueError."""
    for name in ("level3", "spread", "Book", ""):
        with pytest.raises(ValueError):
            KrakenCommands().subscribe(name, ["BTC/USD"])


def test_channel_enum_and_string_agree() -> None:
    """Channel members and plain strings build the same frame."""
    assert KrakenCommands().subscribe(Channel.BOOK, ["X/Y"], depth=25) == KrakenCommands().subscribe(
        "book", ["X/Y"], depth=25
    )


def test_snapshot_and_extra() -> None:
    """snapshot is sent when given; extra keys are merged into params."""
    params = KrakenCommands().subscribe(
        "executions", token=TOKEN, snapshot=False, extra={"snap_orders": True, "snap_trades": True}
    )["params"]
    assert params == {
        "channel": "executions",
        "token": TOKEN,
        "snapshot": False,
        "snap_orders": True,
        "snap_trades": True,
    }


def test_ping_has_no_params() -> None:
    """ping is method + req_id only: Kraken rejects params on ping."""
    frame = KrakenCommands().ping()
    assert frame == {"method": "ping", "req_id": 1}
    assert "params" not in frame


def test_encode_round_trips() -> None:
    """encode gives JSON text that json.loads turns back into the same frame."""
    cmds = KrakenCommands()
    for frame in (
        cmds.subscribe("book", ["BTC/USD", "ETH/USD"], depth=25, snapshot=True),
        cmds.subscribe("balances", token=TOKEN),
        cmds.unsubscribe("ohlc", ["BTC/USD"], interval=5),
        cmds.ping(),
    ):
        text = KrakenCommands.encode(frame)
        assert isinstance(text, str)
        assert json.loads(text) == frame


# --- official / captured examples ------------------------------------------------------------------------


def test_samples_loaded() -> None:
    """The samples file has request examples to compare against."""
    assert len(REQUESTS) >= 8


def test_matches_sample_book_subscribe_and_unsubscribe() -> None:
    """Doc book subscribe/unsubscribe (no depth) match, apart from our explicit default depth 10."""
    cmds = KrakenCommands()
    for method, build in (("subscribe", cmds.subscribe), ("unsubscribe", cmds.unsubscribe)):
        sample = _sample(method, "book")
        frame = build("book", sample["params"]["symbol"])
        assert _without_req_id(frame) == {
            **sample,
            "params": {**sample["params"], "depth": 10},
        }


def test_matches_sample_ticker_trade_ohlc() -> None:
    """Doc ticker, trade (snapshot true) and ohlc (interval 5) subscribes and the ohlc unsubscribe."""
    cmds = KrakenCommands()
    assert _without_req_id(cmds.subscribe("ticker", ["ALGO/USD"])) == _sample("subscribe", "ticker")
    assert _without_req_id(cmds.subscribe("trade", ["MATIC/USD"], snapshot=True)) == _sample(
        "subscribe", "trade"
    )
    pair = ["ALGO/USD", "MATIC/USD"]
    assert _without_req_id(cmds.subscribe("ohlc", pair, interval=5)) == _sample("subscribe", "ohlc")
    assert _without_req_id(cmds.unsubscribe("ohlc", pair, interval=5)) == _sample("unsubscribe", "ohlc")


def test_matches_sample_instrument_and_ping() -> None:
    """Doc instrument subscribe (req_id 79) and ping (req_id 101), req_ids included."""
    instrument = _sample("subscribe", "instrument")
    ping = _sample("ping")
    cmds = KrakenCommands()
    for _ in range(instrument["req_id"] - 1):
        cmds.ping()
    assert cmds.subscribe("instrument") == instrument
    for _ in range(ping["req_id"] - instrument["req_id"] - 1):
        cmds.ping()
    assert cmds.ping() == ping


def test_matches_sample_private() -> None:
    """Doc executions (snap_orders, snap_trades) and balances subscribes with the token in params."""
    cmds = KrakenCommands()
    executions = _sample("subscribe", "executions")
    balances = _sample("subscribe", "balances")
    frame = cmds.subscribe(
        "executions", token=executions["params"]["token"], extra={"snap_orders": True, "snap_trades": True}
    )
    assert _without_req_id(frame) == executions
    assert _without_req_id(cmds.subscribe("balances", token=balances["params"]["token"])) == balances


def test_matches_live_capture_book_request() -> None:
    """The live DepthCharge capture's book request (depth 10, snapshot true) is reproduced exactly."""
    (sample,) = _requests("kraken-book-sequence-1.jsonl")
    frame = KrakenCommands().subscribe("book", ["BTC/USD"], depth=10, snapshot=True)
    assert _without_req_id(frame) == sample
    assert KrakenCommands.encode(frame).startswith('{"method":"subscribe","params":{"channel":"book"')


def test_single_symbol_string_is_one_pair() -> None:
    """A plain string names one pair; it is not split into letters."""
    cmd = KrakenCommands().subscribe("ticker", "BTC/USD")
    assert cmd["params"]["symbol"] == ["BTC/USD"]


def test_depth_must_be_an_int() -> None:
    """depth=10.0 is refused rather than sent as a float."""
    with pytest.raises(ValueError):
        KrakenCommands().subscribe("book", ["BTC/USD"], depth=10.0)  # type: ignore[arg-type]
