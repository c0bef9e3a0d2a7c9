"""Kraken v2 requests (protocol/kraken.md §2.1, §2.4): ``{"method", "params", "req_id"}``.

Parameters Kraken would refuse (a book depth outside 10/25/100/500/1000, an unknown OHLC interval, a
private channel without a token) are refused here, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from app.venues import wire


class Channel(StrEnum):
    TICKER = "ticker"
    TRADE = "trade"
    BOOK = "book"
    OHLC = "ohlc"
    INSTRUMENT = "instrument"
    EXECUTIONS = "executions"
    BALANCES = "balances"
    LEVEL3 = "level3"  # on its own host, with the private channels' token (docs/protocol-kraken-level3.md)


BOOK_DEPTHS = (10, 25, 100, 500, 1000)
OHLC_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
LEVEL3_DEPTHS = (10, 100, 1000)
PRIVATE = frozenset({Channel.EXECUTIONS, Channel.BALANCES, Channel.LEVEL3})
WITH_SYMBOLS = frozenset({Channel.TICKER, Channel.TRADE, Channel.BOOK, Channel.OHLC, Channel.LEVEL3})
EVENT_TRIGGERS = ("bbo", "trades")


class KrakenCommands:
    """Builds request frames for one connection; ``req_id`` increases from 1."""

    def __init__(self) -> None:
        self._next = 1

    def _req_id(self) -> int:
        rid = self._next
        self._next += 1
        return rid

    def _params(
        self,
        channel: Channel | str,
        symbols: Sequence[str] | None,
        *,
        depth: int | None,
        interval: int | None,
        event_trigger: str | None,
        token: str | None,
        snapshot: bool | None,
        extra: dict[str, Any] | None,
    ) -> dict[str, Any]:
        chan = Channel(channel)
        params: dict[str, Any] = {"channel": chan.value}
        if isinstance(symbols, str):
            symbols = [symbols]  # one pair, not its letters
        if chan in WITH_SYMBOLS:
            syms = [s for s in (symbols or []) if s]
            if not syms:
                raise ValueError(f"{chan.value} needs at least one symbol")
            params["symbol"] = list(dict.fromkeys(syms))
        elif symbols:
            raise ValueError(f"{chan.value} takes no symbols")
        if chan is Channel.BOOK:
            d = 10 if depth is None else depth
            if type(d) is not int or d not in BOOK_DEPTHS:
                raise ValueError(
                    f"book depth {d} is not supported; use one of {', '.join(map(str, BOOK_DEPTHS))}"
                )
            params["depth"] = d
        elif chan is Channel.LEVEL3:
            d = 10 if depth is None else depth
            if type(d) is not int or d not in LEVEL3_DEPTHS:
                raise ValueError(
                    f"level3 depth {d} is not supported; use one of {', '.join(map(str, LEVEL3_DEPTHS))}"
                )
            params["depth"] = d
        elif depth is not None:
            raise ValueError("depth applies to the book and level3 channels only")
        if chan is Channel.OHLC:
            if interval not in OHLC_INTERVALS:
                raise ValueError(
                    f"ohlc interval must be one of {', '.join(map(str, OHLC_INTERVALS))} minutes"
                )
            params["interval"] = interval
        elif interval is not None:
            raise ValueError("interval applies to the ohlc channel only")
        if event_trigger is not None:
            if chan is not Channel.TICKER or event_trigger not in EVENT_TRIGGERS:
                raise ValueError("event_trigger is 'bbo' or 'trades', on the ticker channel only")
            params["event_trigger"] = event_trigger
        if chan in PRIVATE:
            if not token:
                raise ValueError(f"{chan.value} is private: it needs a WebSocket token")
            params["token"] = token
        if snapshot is not None:
            params["snapshot"] = snapshot
        if extra:
            params.update(extra)
        return params

    def subscribe(
        self,
        channel: Channel | str,
        symbols: Sequence[str] | None = None,
        *,
        depth: int | None = None,
        interval: int | None = None,
        event_trigger: str | None = None,
        token: str | None = None,
        snapshot: bool | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        params = self._params(
            channel,
            symbols,
            depth=depth,
            interval=interval,
            event_trigger=event_trigger,
            token=token,
            snapshot=snapshot,
            extra=extra,
        )
        return {"method": "subscribe", "params": params, "req_id": self._req_id()}

    def unsubscribe(
        self,
        channel: Channel | str,
        symbols: Sequence[str] | None = None,
        *,
        depth: int | None = None,
        interval: int | None = None,
        event_trigger: str | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        # A live subscription is keyed by its parameters: book by depth, ohlc by interval.
        params = self._params(
            channel,
            symbols,
            depth=depth,
            interval=interval,
            event_trigger=event_trigger,
            token=token,
            snapshot=None,
            extra=None,
        )
        return {"method": "unsubscribe", "params": params, "req_id": self._req_id()}

    def ping(self) -> dict[str, Any]:
        return {"method": "ping", "req_id": self._req_id()}  # no params: Kraken rejects them on ping

    @staticmethod
    def encode(command: dict[str, Any]) -> str:
        return wire.encode(command)
