"""Kalshi client commands (protocol/kalshi.md §4): ``{"id", "cmd", "params"}``.

One ``KalshiCommands`` per connection: command ids start at 1 and increase, as the spec asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

from app.venues import wire


class Channel(StrEnum):
    ORDERBOOK_DELTA = "orderbook_delta"
    TICKER = "ticker"
    TRADE = "trade"
    FILL = "fill"
    MARKET_POSITIONS = "market_positions"
    MARKET_LIFECYCLE_V2 = "market_lifecycle_v2"
    MULTIVARIATE_MARKET_LIFECYCLE = "multivariate_market_lifecycle"
    COMMUNICATIONS = "communications"
    ORDER_GROUP_UPDATES = "order_group_updates"
    USER_ORDERS = "user_orders"


# Channels that need a market filter, and channels that take none (all markets always).
MARKETS_REQUIRED = frozenset({Channel.ORDERBOOK_DELTA})
NO_MARKET_FILTER = frozenset(
    {
        Channel.MARKET_LIFECYCLE_V2,
        Channel.MULTIVARIATE_MARKET_LIFECYCLE,
        Channel.COMMUNICATIONS,
        Channel.ORDER_GROUP_UPDATES,
    }
)


INDEX_CHANNEL = "cfbenchmarks_value"  # takes index_ids, not markets: its own command


class UpdateAction(StrEnum):
    ADD_MARKETS = "add_markets"
    DELETE_MARKETS = "delete_markets"
    GET_SNAPSHOT = "get_snapshot"


class KalshiCommands:
    """Builds command frames (as dicts; ``encode`` turns one into text)."""

    def __init__(self, use_yes_price: bool = False) -> None:
        self._next_id = 1
        # Sent explicitly on every orderbook subscribe so the NO-side price scale never changes under us
        # when Kalshi flips the default.
        self.use_yes_price = use_yes_price

    def _id(self) -> int:
        cid = self._next_id
        self._next_id += 1
        return cid

    def subscribe(
        self,
        channels: Sequence[Channel | str],
        markets: Sequence[str] | str | None = None,
        *,
        send_initial_snapshot: bool | None = None,
        skip_ticker_ack: bool | None = None,
    ) -> dict[str, Any]:
        """Subscribe to one market (a str), a list of markets, or all markets (None).

        Raises ValueError for combinations Kalshi would refuse (no channels; an all-markets orderbook;
        a market filter on a channel that takes none).
        """
        chans = [Channel(c) for c in channels]
        if not chans:
            raise ValueError("subscribe needs at least one channel")
        params: dict[str, Any] = {"channels": [c.value for c in chans]}
        if markets is None:
            needing = [c.value for c in chans if c in MARKETS_REQUIRED]
            if needing:
                raise ValueError(f"{', '.join(needing)} needs market_ticker(s); it has no all-markets mode")
        else:
            ignoring = [c.value for c in chans if c in NO_MARKET_FILTER]
            if ignoring:
                raise ValueError(f"{', '.join(ignoring)} takes no market filter")
            if isinstance(markets, str):
                if not markets:
                    raise ValueError("the market ticker is empty")
                params["market_ticker"] = markets
            else:
                params["market_tickers"] = _tickers(markets)
        if Channel.ORDERBOOK_DELTA in chans:
            params["use_yes_price"] = self.use_yes_price
        if send_initial_snapshot is not None:
            params["send_initial_snapshot"] = send_initial_snapshot
        if skip_ticker_ack is not None:
            params["skip_ticker_ack"] = skip_ticker_ack
        return {"id": self._id(), "cmd": "subscribe", "params": params}

    def subscribe_indices(self, index_ids: Sequence[str]) -> dict[str, Any]:
        """CF Benchmarks values (``cfbenchmarks_value``, about once a second; authenticated), by index id."""
        ids = [i for i in dict.fromkeys(index_ids) if i]
        if not ids:
            raise ValueError("cfbenchmarks_value needs index_ids")
        return {
            "id": self._id(),
            "cmd": "subscribe",
            "params": {"channels": [INDEX_CHANNEL], "index_ids": ids},
        }

    def unsubscribe(self, sids: Iterable[int]) -> dict[str, Any]:
        sid_list = [int(s) for s in sids]
        if not sid_list:
            raise ValueError("unsubscribe needs at least one sid")
        return {"id": self._id(), "cmd": "unsubscribe", "params": {"sids": sid_list}}

    def update_subscription(
        self,
        sid: int,
        action: UpdateAction | str,
        markets: Sequence[str],
        *,
        sids_form: bool = False,
        send_initial_snapshot: bool | None = None,
    ) -> dict[str, Any]:
        """Add or delete markets on one subscription, or ask it for fresh snapshots.

        ``sids_form`` sends ``"sids": [sid]`` instead of ``"sid": sid`` (both are valid; exactly one sid).
        """
        act = UpdateAction(action)
        tickers = _tickers(markets)
        params: dict[str, Any] = {"sids": [sid]} if sids_form else {"sid": sid}
        params["market_tickers"] = tickers
        params["action"] = act.value
        if send_initial_snapshot is not None:
            if act is not UpdateAction.ADD_MARKETS:
                raise ValueError("send_initial_snapshot applies to add_markets only")
            params["send_initial_snapshot"] = send_initial_snapshot
        return {"id": self._id(), "cmd": "update_subscription", "params": params}

    def get_snapshot(self, sid: int, markets: Sequence[str]) -> dict[str, Any]:
        # Only market_tickers is accepted for get_snapshot (error 13/11 otherwise).
        return self.update_subscription(sid, UpdateAction.GET_SNAPSHOT, markets)

    def list_subscriptions(self) -> dict[str, Any]:
        return {"id": self._id(), "cmd": "list_subscriptions"}

    @staticmethod
    def encode(command: dict[str, Any]) -> str:
        return wire.encode(command)


def _tickers(markets: Sequence[str]) -> list[str]:
    tickers = [m for m in markets if m]
    if not tickers:
        raise ValueError("at least one market ticker is needed")
    return list(dict.fromkeys(tickers))
