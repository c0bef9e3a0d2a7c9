"""The Kraken link: instrument first (precisions), then book/ticker/trade/ohlc per symbol, each book at its
own depth (what the views ask for, grouped into one subscribe per depth; a symbol whose depth changes is
unsubscribed at the old one and subscribed at the new); a fresh token for every authenticated connect;
app-level pings; checksum resyncs of one symbol, rate-limited; after five failed resyncs in a row a symbol
is shown as "checksum unverified" instead of looping; fills beyond the executions snapshot over REST
TradesHistory."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp

from app.core.events import ErrorEvent, Event, Fill, RecoveryAction, Subscribed, TakerSide, Unsubscribed
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.stream.connection import REST_TIMEOUT, AuthError
from app.stream.link import UNVERIFIED_AFTER, VenueLink, registry_report
from app.stream.state import ConnState
from app.venues.kraken.auth import NonceSource, private_request, token_request
from app.venues.kraken.commands import BOOK_DEPTHS, KrakenCommands
from app.venues.kraken.endpoints import ASSET_PAIRS_PATH, TRADES_HISTORY_PATH
from app.venues.kraken.session import KrakenSession

APP_PING_S = 20.0  # Kraken closes after ~1 minute of silence from the client
IDLE_LIMIT_S = 10.0  # heartbeats come every second once subscribed
OHLC_MINUTES = 1  # the price chart's candles
MARKET_CHANNELS = ("book", "ticker", "trade", "ohlc")
# Per market channel besides the book: its subscribe (and unsubscribe) parameters.
CHANNEL_PARAMS: dict[str, dict[str, Any]] = {
    "ticker": {"event_trigger": "bbo"},
    "trade": {},
    "ohlc": {"interval": OHLC_MINUTES},
}
PRIVATE_CHANNELS = ("executions", "balances")
EXECUTIONS_SNAPSHOT = {"snap_trades": True, "snap_orders": True}


@dataclass(frozen=True, slots=True)
class KrakenCredentials:
    api_key: str
    secret: str  # base64, as Kraken issues it


class KrakenLink(VenueLink):
    venue = Venue.KRAKEN
    book_channel = "book"
    ping_interval = 20.0
    idle_limit = IDLE_LIMIT_S
    session: KrakenSession
    commands: KrakenCommands

    def __init__(
        self,
        url: str,
        rest_url: str,
        store: MarketStore,
        markets: list[str],
        *,
        depth: int = 10,
        credentials: KrakenCredentials | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(url, rest_url, store, markets, **kwargs)
        self.depth = depth  # the book depth of a symbol no view asks more of
        self.depths: dict[str, int] = {}  # symbol -> the depth wanted where it is not ``depth``
        self._book_depth: dict[str, int] = {}  # symbol -> its book's subscribed depth on this connection
        self.credentials = credentials
        self.nonces = NonceSource()
        self.session = KrakenSession(depth, store.books[Venue.KRAKEN])
        self.commands = KrakenCommands()
        self.token: str | None = None
        self.tokens_fetched = 0
        self._last_ping = time.monotonic()
        self._acked: dict[str, set[str]] = {}  # channel -> symbols the server acknowledged
        self._pair_names: dict[str, str] = {}  # REST pair key -> v2 symbol

    async def prepare(self) -> dict[str, str]:
        if self.credentials is not None:
            self._set(ConnState.AUTHENTICATING, "fetching a WebSocket token")
            self.token = await self.fetch_token()  # a fresh token for every authenticated connection
        return {}

    async def fetch_token(self) -> str:
        creds = self.credentials
        assert creds is not None
        request = token_request(creds.api_key, creds.secret, self.nonces.next(), self.rest_url)
        async with self.rest().post(
            request.url,
            data=request.body,
            headers=request.headers,
            ssl=self.ssl_context or True,
            timeout=REST_TIMEOUT,
        ) as response:
            body = await response.json(content_type=None)
        errors = body.get("error") or []
        if errors:
            raise AuthError(f"token request refused: {', '.join(map(str, errors))}")
        self.tokens_fetched += 1
        return str(body["result"]["token"])

    async def opened(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._acked = {}  # subscriptions are per connection
        self._book_depth = {}
        self.session = KrakenSession(self.depth, self.store.books[Venue.KRAKEN], self.session.instruments)
        self.commands = KrakenCommands()
        await self.send(self.commands.subscribe("instrument"), expect_ack=True)
        if self.streamed:
            await self._subscribe_market(self.streamed)
        if self.token is not None:
            for channel in PRIVATE_CHANNELS:
                await self.resubscribe(channel, ["*"])
            # The executions snapshot holds the last 50 fills only: a long outage is filled in over REST.
            self.start_fill_catch_up()
        self._last_ping = time.monotonic()

    def depth_of(self, symbol: str) -> int:
        """The book depth ``symbol`` is wanted at."""
        return self.depths.get(symbol, self.depth)

    def want_depths(self, depths: dict[str, int]) -> None:
        """Book depths per symbol (the rest stay at ``depth``); a depth Kraken does not offer is refused
        in words before anything changes."""
        bad = sorted({d for d in depths.values() if d not in BOOK_DEPTHS})
        if bad:
            raise ValueError(
                f"book depth {', '.join(map(str, bad))} is not offered; use one of "
                f"{', '.join(map(str, BOOK_DEPTHS))}"
            )
        self.depths = {symbol: d for symbol, d in depths.items() if d != self.depth}

    async def set_markets(
        self, markets: list[str], depths: dict[str, int] | None = None
    ) -> tuple[list[str], list[str]]:
        if depths is not None:
            self.want_depths(depths)
        added, removed = await super().set_markets(markets)
        if self._ws is not None:
            at = self._book_depth
            moved = [s for s in self.streamed if s in at and at[s] != self.depth_of(s)]
            if moved:  # a repeat subscribe is refused: leave the old depth first
                await self._unsubscribe_books(moved)
                await self._subscribe_books(moved, snapshot=True)
        return added, removed

    async def _subscribe_books(self, symbols: list[str], snapshot: bool | None = None) -> None:
        """One book subscribe per depth (Kraken takes one depth per request)."""
        for depth, group in _by_depth(symbols, self.depth_of).items():
            self._book_depth.update(dict.fromkeys(group, depth))
            await self.send(
                self.commands.subscribe("book", group, depth=depth, snapshot=snapshot), expect_ack=True
            )

    async def _unsubscribe_books(self, symbols: list[str]) -> None:
        """Unsubscribe each book at the depth it was subscribed at (a subscription is keyed by it)."""
        subscribed = self._book_depth
        for depth, group in _by_depth(symbols, lambda s: subscribed.get(s, self.depth_of(s))).items():
            await self.send(self.commands.unsubscribe("book", group, depth=depth))
        for symbol in symbols:
            subscribed.pop(symbol, None)

    async def _subscribe_market(self, symbols: list[str]) -> None:
        await self._subscribe_books(symbols)
        for channel, params in CHANNEL_PARAMS.items():
            await self.send(self.commands.subscribe(channel, symbols, **params), expect_ack=True)

    async def fetch_fills(self, since_ms: int | None) -> list[Fill]:
        """TradesHistory since ``since_ms`` (all pages), as fills keyed like the executions channel's."""
        creds = self.credentials
        assert creds is not None
        fills: list[Fill] = []
        http = self.rest()
        if not self._pair_names:
            async with http.get(
                self.rest_url + ASSET_PAIRS_PATH, ssl=self.ssl_context or True, timeout=REST_TIMEOUT
            ) as response:
                pairs = (await response.json(content_type=None))["result"]
            self._pair_names = {key: v2_symbol(info["wsname"]) for key, info in pairs.items()}
        offset = 0
        for _ in range(200):  # pages of 50
            fields: dict[str, str | int] = {"ofs": offset}
            if since_ms is not None:
                fields["start"] = f"{since_ms / 1000:.3f}"
            request = private_request(
                TRADES_HISTORY_PATH,
                creds.api_key,
                creds.secret,
                self.nonces.next(),
                fields=fields,
                base_url=self.rest_url,
            )
            async with http.post(
                request.url,
                data=request.body,
                headers=request.headers,
                ssl=self.ssl_context or True,
                timeout=REST_TIMEOUT,
            ) as response:
                body = await response.json(content_type=None)
            if body.get("error"):
                raise ValueError(f"TradesHistory refused: {', '.join(map(str, body['error']))}")
            trades = body["result"]["trades"]
            for txid, t in trades.items():
                fills.append(
                    Fill(
                        Venue.KRAKEN,
                        self._pair_names.get(t["pair"], t["pair"]),
                        str(txid),
                        str(t["ordertxid"]),
                        Decimal(t["price"]),
                        Decimal(t["vol"]),
                        TakerSide(t["type"]),
                        is_taker=not t.get("maker"),
                        fee=Decimal(t["fee"]),
                        ts_ms=int(float(t["time"]) * 1000),
                    )
                )
            offset += len(trades)
            if not trades or offset >= int(body["result"]["count"]):
                break
        return fills

    def is_unlisted(self, ev: ErrorEvent) -> bool:
        return "Currency pair not supported" in ev.message  # Kraken's words (protocol/kraken.md)

    def on_control(self, ev: Event) -> None:
        super().on_control(ev)
        if isinstance(ev, Subscribed):
            self._acked.setdefault(ev.channel, set()).add(ev.market or "*")
        elif isinstance(ev, Unsubscribed) and ev.channel is not None:
            self._acked.get(ev.channel, set()).discard(ev.market or "*")

    def registry(self) -> dict[str, dict[str, object]]:
        desired: dict[str, set[str]] = {ch: set(self.streamed) for ch in MARKET_CHANNELS}
        desired["instrument"] = {"*"}
        if self.token is not None:
            desired["executions"] = desired["balances"] = {"*"}
        # Acknowledgements belong to a connection: with none open, nothing is acknowledged.
        return registry_report(desired, self._acked if self._ws is not None else {})

    def is_live(self) -> bool:
        return not self._pending_acks and self.frames > 1

    async def repair_books(self, markets: list[str]) -> None:
        # Kraken never re-snapshots by itself, and a repeat subscribe is refused: unsubscribe first.
        await self._unsubscribe_books(markets)
        await self._subscribe_books(markets, snapshot=True)

    async def recover_channel(self, action: RecoveryAction) -> None:
        if action.channel in PRIVATE_CHANNELS and self.token is not None:  # a sequence gap
            await self.send(self.commands.unsubscribe(action.channel, token=self.token))
            await self.resubscribe(action.channel, ["*"])

    async def resubscribe(self, channel: str, markets: list[str]) -> None:
        if channel in CHANNEL_PARAMS:
            await self.send(
                self.commands.subscribe(channel, markets, **CHANNEL_PARAMS[channel]), expect_ack=True
            )
        elif channel in PRIVATE_CHANNELS and self.token is not None:
            extra = EXECUTIONS_SNAPSHOT if channel == "executions" else None
            await self.send(self.commands.subscribe(channel, token=self.token, extra=extra), expect_ack=True)
        elif channel == "instrument":
            await self.send(self.commands.subscribe("instrument"), expect_ack=True)

    def venue_timers(self, now: float) -> str | None:
        if now - self._last_ping >= APP_PING_S:
            self._last_ping = now
            self.spawn(self.send(self.commands.ping()))
        return None

    @property
    def unverified(self) -> set[str]:
        books = self.books
        return {
            m
            for m in self.book_repairs.pending()
            if self.book_repairs.attempts(m) >= UNVERIFIED_AFTER
            and (m not in books or books[m].stale)
            and m in self._watched
        }

    def watch_changed(self, added: list[str], removed: list[str]) -> None:
        # Frames still in flight for removed symbols are dropped by the session until re-added.
        self.session.ignored.difference_update(added)
        self.session.ignored.update(removed)

    async def change_subscriptions(self, added: list[str], removed: list[str]) -> None:
        if added:
            await self._subscribe_market(added)
        if removed:
            await self._unsubscribe_books(removed)
            for channel, params in CHANNEL_PARAMS.items():
                await self.send(self.commands.unsubscribe(channel, removed, **params))


def _by_depth(symbols: list[str], depth_of: Callable[[str], int]) -> dict[int, list[str]]:
    groups: dict[int, list[str]] = {}
    for symbol in symbols:
        groups.setdefault(depth_of(symbol), []).append(symbol)
    return groups


def v2_symbol(wsname: str) -> str:
    """REST ``wsname`` is the v1 name: v2 writes bitcoin and dogecoin as BTC and DOGE (kraken.md §1.1)."""
    names = {"XBT": "BTC", "XDG": "DOGE"}
    base, _, quote = wsname.partition("/")
    return f"{names.get(base, base)}/{names.get(quote, quote)}"
