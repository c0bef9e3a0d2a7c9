"""Kalshi client command frames (protocol/kalshi.md §4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.venues.kalshi.commands import Channel, KalshiCommands, UpdateAction

SAMPLES = Path(__file__).parent / "data" / "kalshi-samples.jsonl"


def _sample_commands() -> list[dict[str, Any]]:
    out = []
    with SAMPLES.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                entry = json.loads(line)
                if entry.get("channel") == "command":
                    out.append(entry["raw"])
    return out


COMMANDS = _sample_commands()


def _sample(pred: Any) -> dict[str, Any]:
    matches = [c for c in COMMANDS if pred(c)]
    assert matches, "sample not found in kalshi-samples.jsonl"
    return matches[0]


def _with_id(frame: dict[str, Any], cid: int) -> dict[str, Any]:
    """The frame with the sample's id, for comparing shapes."""
    return {**frame, "id": cid}


# --- ids ------------------------------------------------------------------------------------------


def test_ids_start_at_one_and_increase() -> None:
    """Every command from one instance takes the next id, starting at 1, whatever the command."""
    cmds = KalshiCommands()
    frames = [
        cmds.subscribe(["ticker"]),
        cmds.unsubscribe([1]),
        cmds.update_subscription(1, "add_markets", ["A"]),
        cmds.get_snapshot(1, ["A"]),
        cmds.list_subscriptions(),
    ]
    assert [f["id"] for f in frames] == [1, 2, 3, 4, 5]


def test_second_instance_starts_again_at_one() -> None:
    """Ids are per connection: a new KalshiCommands starts at 1 again."""
    first = KalshiCommands()
    first.subscribe(["ticker"])
    first.subscribe(["trade"])
    second = KalshiCommands()
    assert second.subscribe(["ticker"])["id"] == 1
    assert first.list_subscriptions()["id"] == 3


def test_refused_command_does_not_consume_an_id() -> None:
    """A command refused with ValueError leaves the id counter where it was."""
    cmds = KalshiCommands()
    with pytest.raises(ValueError):
        cmds.subscribe(["orderbook_delta"])
    with pytest.raises(ValueError):
        cmds.unsubscribe([])
    assert cmds.list_subscriptions()["id"] == 1


# --- subscribe ------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["ticker", "trade", "fill"])
def test_subscribe_single_market(channel: str) -> None:
    """A str market becomes market_ticker (singular)."""
    frame = KalshiCommands().subscribe([channel], "KXBTC-26JAN-T100")
    assert frame == {
        "id": 1,
        "cmd": "subscribe",
        "params": {"channels": [channel], "market_ticker": "KXBTC-26JAN-T100"},
    }


@pytest.mark.parametrize("channel", ["ticker", "trade", "fill"])
def test_subscribe_market_list_deduplicated_in_order(channel: str) -> None:
    """A list becomes market_tickers, duplicates dropped, first-seen order kept."""
    frame = KalshiCommands().subscribe([channel], ["B", "A", "B", "C", "A"])
    assert frame["params"] == {"channels": [channel], "market_tickers": ["B", "A", "C"]}


def test_subscribe_one_element_list_stays_a_list() -> None:
    """A one-element list is still sent as market_tickers, not market_ticker."""
    frame = KalshiCommands().subscribe(["ticker"], ["ONLY"])
    assert frame["params"] == {"channels": ["ticker"], "market_tickers": ["ONLY"]}


@pytest.mark.parametrize("channel", ["ticker", "trade", "fill"])
def test_subscribe_all_markets_has_no_market_keys(channel: str) -> None:
    """markets=None subscribes to all markets: neither market_ticker nor market_tickers is sent."""
    frame = KalshiCommands().subscribe([channel])
    assert frame == {"id": 1, "cmd": "subscribe", "params": {"channels": [channel]}}


def test_subscribe_accepts_channel_enum() -> None:
    """Channel members and plain strings build the same frame."""
    a = KalshiCommands().subscribe([Channel.TICKER, Channel.TRADE], ["X"])
    b = KalshiCommands().subscribe(["ticker", "trade"], ["X"])
    assert a == b
    assert a["params"]["channels"] == ["ticker", "trade"]


def test_orderbook_without_markets_raises() -> None:
    """orderbook_delta has no all-markets mode: no markets raises ValueError."""
    with pytest.raises(ValueError, match="orderbook_delta"):
        KalshiCommands().subscribe(["orderbook_delta"])
    with pytest.raises(ValueError, match="orderbook_delta"):
        KalshiCommands().subscribe(["ticker", "orderbook_delta"])


@pytest.mark.parametrize(
    "channel",
    ["market_lifecycle_v2", "multivariate_market_lifecycle", "communications", "order_group_updates"],
)
def test_filterless_channel_with_market_raises(channel: str) -> None:
    """Channels that take no market filter refuse one (single or list)."""
    with pytest.raises(ValueError, match=channel):
        KalshiCommands().subscribe([channel], "MKT")
    with pytest.raises(ValueError, match=channel):
        KalshiCommands().subscribe([channel], ["MKT"])


def test_lifecycle_without_market_is_fine() -> None:
    """market_lifecycle_v2 with no markets matches the official example's shape."""
    frame = KalshiCommands().subscribe(["market_lifecycle_v2"])
    assert frame["params"] == {"channels": ["market_lifecycle_v2"]}


def test_no_channels_raises() -> None:
    """An empty channel list raises ValueError."""
    with pytest.raises(ValueError):
        KalshiCommands().subscribe([])
    with pytest.raises(ValueError):
        KalshiCommands().subscribe([], ["MKT"])


@pytest.mark.parametrize("name", ["orderbook", "tickers", "ticker_v2", "cfbenchmarks_value", ""])
def test_unknown_channel_raises(name: str) -> None:
    """A channel name outside the Channel enum raises ValueError."""
    with pytest.raises(ValueError):
        KalshiCommands().subscribe(["ticker", name])


def test_empty_market_list_raises() -> None:
    """An empty market list (or one of only empty strings) raises instead of meaning 'all markets'."""
    with pytest.raises(ValueError):
        KalshiCommands().subscribe(["ticker"], [])
    with pytest.raises(ValueError):
        KalshiCommands().subscribe(["ticker"], ["", ""])


def test_empty_strings_dropped_from_market_list() -> None:
    """Empty tickers inside a list are dropped."""
    frame = KalshiCommands().subscribe(["trade"], ["", "A", ""])
    assert frame["params"]["market_tickers"] == ["A"]


@pytest.mark.parametrize("flag", [False, True])
def test_use_yes_price_sent_explicitly_with_orderbook(flag: bool) -> None:
    """use_yes_price is always sent (False too) when orderbook_delta is in the subscribe."""
    cmds = KalshiCommands(use_yes_price=flag)
    single = cmds.subscribe(["orderbook_delta"], "M")
    many = cmds.subscribe(["ticker", "orderbook_delta"], ["M", "N"])
    for frame in (single, many):
        assert "use_yes_price" in frame["params"]
        assert frame["params"]["use_yes_price"] is flag


def test_use_yes_price_default_is_false() -> None:
    """The default instance sends use_yes_price: false explicitly."""
    frame = KalshiCommands().subscribe(["orderbook_delta"], "M")
    assert frame["params"] == {"channels": ["orderbook_delta"], "market_ticker": "M", "use_yes_price": False}


@pytest.mark.parametrize("flag", [False, True])
def test_use_yes_price_absent_without_orderbook(flag: bool) -> None:
    """use_yes_price is not sent on subscribes without orderbook_delta."""
    cmds = KalshiCommands(use_yes_price=flag)
    for frame in (
        cmds.subscribe(["ticker"], "M"),
        cmds.subscribe(["trade", "fill"], ["M"]),
        cmds.subscribe(["market_lifecycle_v2"]),
    ):
        assert "use_yes_price" not in frame["params"]


def test_optional_flags_only_when_given() -> None:
    """send_initial_snapshot and skip_ticker_ack appear only when set, with the given value."""
    cmds = KalshiCommands()
    assert set(cmds.subscribe(["ticker"], ["M"])["params"]) == {"channels", "market_tickers"}
    params = cmds.subscribe(["ticker"], ["M"], send_initial_snapshot=True, skip_ticker_ack=False)["params"]
    assert params["send_initial_snapshot"] is True
    assert params["skip_ticker_ack"] is False


# --- unsubscribe / update_subscription / list -----------------------------------------------------


def test_unsubscribe_shape() -> None:
    """unsubscribe sends params.sids as a list of ints."""
    frame = KalshiCommands().unsubscribe([1, 2])
    assert frame == {"id": 1, "cmd": "unsubscribe", "params": {"sids": [1, 2]}}


def test_unsubscribe_accepts_any_iterable() -> None:
    """A generator or tuple of sids works; the list keeps the order given."""
    frame = KalshiCommands().unsubscribe(s for s in (3, 1))
    assert frame["params"] == {"sids": [3, 1]}


def test_unsubscribe_needs_a_sid() -> None:
    """An empty sid list raises ValueError."""
    with pytest.raises(ValueError):
        KalshiCommands().unsubscribe([])


@pytest.mark.parametrize("action", ["add_markets", "delete_markets"])
def test_update_subscription_sid_form(action: str) -> None:
    """Default form sends "sid": <int>, market_tickers and the action."""
    frame = KalshiCommands().update_subscription(456, action, ["A", "B", "A"])
    assert frame == {
        "id": 1,
        "cmd": "update_subscription",
        "params": {"sid": 456, "market_tickers": ["A", "B"], "action": action},
    }


@pytest.mark.parametrize("action", [UpdateAction.ADD_MARKETS, UpdateAction.DELETE_MARKETS])
def test_update_subscription_sids_form(action: UpdateAction) -> None:
    """sids_form sends "sids": [sid] (exactly one element) and no "sid" key."""
    params = KalshiCommands().update_subscription(456, action, ["A"], sids_form=True)["params"]
    assert params["sids"] == [456]
    assert len(params["sids"]) == 1
    assert "sid" not in params
    assert params["action"] == action.value


def test_update_subscription_send_initial_snapshot_only_on_add() -> None:
    """send_initial_snapshot is sent for add_markets and refused (not silently dropped) elsewhere."""
    cmds = KalshiCommands()
    add = cmds.update_subscription(1, "add_markets", ["A"], send_initial_snapshot=True)
    assert add["params"]["send_initial_snapshot"] is True
    with pytest.raises(ValueError):
        cmds.update_subscription(1, "delete_markets", ["A"], send_initial_snapshot=True)


def test_update_subscription_rejects_bad_action_and_no_markets() -> None:
    """An unknown action or an empty market list raises ValueError."""
    with pytest.raises(ValueError):
        KalshiCommands().update_subscription(1, "replace_markets", ["A"])
    with pytest.raises(ValueError):
        KalshiCommands().update_subscription(1, "add_markets", [])


def test_get_snapshot_shape() -> None:
    """get_snapshot is update_subscription with action get_snapshot and market_tickers only."""
    frame = KalshiCommands().get_snapshot(7, ["M1", "M2"])
    assert frame == {
        "id": 1,
        "cmd": "update_subscription",
        "params": {"sid": 7, "market_tickers": ["M1", "M2"], "action": "get_snapshot"},
    }
    single = KalshiCommands().get_snapshot(7, ["M1"])["params"]
    assert "market_ticker" not in single
    assert single["market_tickers"] == ["M1"]


def test_list_subscriptions_has_no_params() -> None:
    """list_subscriptions is just id and cmd."""
    assert KalshiCommands().list_subscriptions() == {"id": 1, "cmd": "list_subscriptions"}


# --- encoding -------------------------------------------------------------------------------------


def test_encode_round_trips() -> None:
    """encode gives JSON text that json.loads turns back into the same frame (bools stay bools)."""
    cmds = KalshiCommands(use_yes_price=False)
    frames = [
        cmds.subscribe(["orderbook_delta", "ticker"], ["A", "B"], skip_ticker_ack=True),
        cmds.subscribe(["fill"]),
        cmds.unsubscribe([1, 2]),
        cmds.update_subscription(3, "add_markets", ["C"], sids_form=True),
        cmds.get_snapshot(3, ["C"]),
        cmds.list_subscriptions(),
    ]
    for frame in frames:
        text = KalshiCommands.encode(frame)
        assert isinstance(text, str)
        assert json.loads(text) == frame
    assert '"use_yes_price":false' in KalshiCommands.encode(frames[0]).replace(" ", "")


# --- official examples ----------------------------------------------------------------------------


def test_samples_loaded() -> None:
    """The samples file has command examples to compare against."""
    assert len(COMMANDS) >= 10


def test_matches_sample_orderbook_single_market() -> None:
    """Doc example id 1 (orderbook_delta, market_ticker) plus our explicit use_yes_price."""
    sample = _sample(lambda c: c["id"] == 1 and c["cmd"] == "subscribe")
    frame = KalshiCommands().subscribe(["orderbook_delta"], "CPI-22DEC-TN0.1")
    expected = {**sample, "params": {**sample["params"], "use_yes_price": False}}
    assert frame == expected


def test_matches_sample_orderbook_and_ticker_list() -> None:
    """Doc example id 2 (two channels, market_tickers) plus explicit use_yes_price."""
    sample = _sample(lambda c: c["id"] == 2 and c["cmd"] == "subscribe")
    cmds = KalshiCommands()
    cmds.list_subscriptions()
    frame = cmds.subscribe(["orderbook_delta", "ticker"], ["FED-23DEC-T3.00", "CORIVER-2024-T1030"])
    expected = {**sample, "params": {**sample["params"], "use_yes_price": False}}
    assert frame == expected


@pytest.mark.parametrize(
    ("sample_id", "channels", "markets", "kwargs"),
    [
        (3, ["fill"], None, {}),
        (8, ["user_orders"], ["FED-23DEC-T3.00", "CORIVER-2024-T1030"], {}),
        (5, ["market_lifecycle_v2"], None, {}),
        (15, ["multivariate_market_lifecycle"], None, {}),
        (6, ["communications"], None, {}),
        (7, ["ticker"], ["FED-23DEC-T3.00"], {"send_initial_snapshot": True}),
    ],
)
def test_matches_sample_subscribes(
    sample_id: int, channels: list[str], markets: list[str] | None, kwargs: dict[str, Any]
) -> None:
    """Subscribe doc examples without orderbook_delta are reproduced exactly (apart from the id)."""
    sample = _sample(lambda c: c["cmd"] == "subscribe" and c["id"] == sample_id)
    frame = KalshiCommands().subscribe(channels, markets, **kwargs)
    assert _with_id(frame, sample_id) == sample


def test_matches_sample_unsubscribe() -> None:
    """Doc example unsubscribe {"sids": [1, 2]}."""
    sample = _sample(lambda c: c["cmd"] == "unsubscribe")
    assert _with_id(KalshiCommands().unsubscribe([1, 2]), sample["id"]) == sample


def test_matches_sample_list_subscriptions() -> None:
    """Doc example list_subscriptions (no params)."""
    sample = _sample(lambda c: c["cmd"] == "list_subscriptions")
    assert _with_id(KalshiCommands().list_subscriptions(), sample["id"]) == sample


@pytest.mark.parametrize(
    ("sample_id", "action", "markets", "sids_form"),
    [
        (124, "add_markets", ["NEW-MARKET-1", "NEW-MARKET-2"], True),
        (125, "delete_markets", ["MARKET-TO-REMOVE-1", "MARKET-TO-REMOVE-2"], True),
        (127, "get_snapshot", ["MARKET-1", "MARKET-2"], True),
        (126, "add_markets", ["NEW-MARKET-3", "NEW-MARKET-4"], False),
    ],
)
def test_matches_sample_update_subscription(
    sample_id: int, action: str, markets: list[str], sids_form: bool
) -> None:
    """update_subscription doc examples, both the sids form and the sid form."""
    sample = _sample(lambda c: c["cmd"] == "update_subscription" and c["id"] == sample_id)
    frame = KalshiCommands().update_subscription(456, action, markets, sids_form=sids_form)
    assert _with_id(frame, sample_id) == sample


def test_get_snapshot_matches_live_capture_apart_from_sid_form() -> None:
    """The live get_snapshot capture (sids form) has the same action and market list as get_snapshot."""
    sample = _sample(lambda c: c["cmd"] == "update_subscription" and c["id"] == 2)
    markets = sample["params"]["market_tickers"]
    cmds = KalshiCommands()
    cmds.list_subscriptions()
    frame = cmds.get_snapshot(1, markets)
    assert frame["id"] == sample["id"]
    assert frame["params"]["action"] == sample["params"]["action"] == "get_snapshot"
    assert frame["params"]["market_tickers"] == markets
    assert frame["params"]["sid"] == sample["params"]["sids"][0]


def test_sample_mixing_lifecycle_with_market_is_refused_on_purpose() -> None:
    """Doc example id 4 puts market_lifecycle_v2 beside a market filter; we refuse that mix (§4.1 rules)."""
    sample = _sample(lambda c: c["cmd"] == "subscribe" and c["id"] == 4)
    assert "market_lifecycle_v2" in sample["params"]["channels"]
    with pytest.raises(ValueError, match="market_lifecycle_v2"):
        KalshiCommands().subscribe(sample["params"]["channels"], sample["params"]["market_ticker"])


def test_empty_single_market_is_refused() -> None:
    """An empty single ticker raises like a list of empty tickers does."""
    with pytest.raises(ValueError):
        KalshiCommands().subscribe(["ticker"], "")
