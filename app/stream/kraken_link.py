"""The Kraken link: instrument first (precisions), then book/ticker/trade/ohlc per symbol; a fresh token for
every authenticated connect; app-level pings; checksum resyncs of one symbol, rate-limited; after five
failed resyncs in a row a symbol is shown as "checksum unverified" instead of looping; fills beyond the
executions snapshot over REST TradesHistory."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp

from app.core.events import ChecksumResult, Event, Fill, RecoveryAction, Subscribed, TakerSide, Unsubscribed
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.stream.connection import REST_TIMEOUT, AuthError
from app.stream.link import VenueLink
from app.stream.state import ConnState
from app.venues.kraken.auth import NonceSource, private_request, token_request
from app.venues.kraken.commands import KrakenCommands
from app.venues.kraken.endpoints import ASSET_PAIRS_PATH, TRADES_HISTORY_PATH
from app.venues.kraken.session import KrakenSession

APP_PING_S = 20.0  # Kraken closes after ~1 minute of silence from the client
IDLE_LIMIT_S = 10.0  # heartbeats come every second once subscribed
RESYNC_MIN_GAP_S = 1.0
UNVERIFIED_AFTER = 5
OHLC_MINUTES = 1  # the price chart's candles
MARKET_CHANNELS = ("book", "ticker", "trade", "ohlc")


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
        self.depth = depth
        self.credentials = credentials
        self.nonces = NonceSource()
        self.session = KrakenSession(depth, store.books[Venue.KRAKEN])
        self.commands = KrakenCommands()
        self.token: str | None = None
        self.tokens_fetched = 0
        self.unverified: set[str] = set()
        self._failures: Counter[str] = Counter()
        self._last_resync: dict[str, float] = {}
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
        self.session = KrakenSession(self.depth, self.store.books[Venue.KRAKEN], self.session.instruments)
        self.commands = KrakenCommands()
        await self.send(self.commands.subscribe("instrument"), expect_ack=True)
        if self.markets:
            await self._subscribe_market(self.markets)
        if self.token is not None:
            await self.send(
                self.commands.subscribe(
                    "executions", token=self.token, extra={"snap_trades": True, "snap_orders": True}
                ),
                expect_ack=True,
            )
            await self.send(self.commands.subscribe("balances", token=self.token), expect_ack=True)
            # The executions snapshot holds the last 50 fills only: a long outage is filled in over REST.
            self.start_fill_catch_up()
        self._last_ping = time.monotonic()

    async def _subscribe_market(self, symbols: list[str]) -> None:
        await self.send(self.commands.subscribe("book", symbols, depth=self.depth), expect_ack=True)
        await self.send(self.commands.subscribe("ticker", symbols, event_trigger="bbo"), expect_ack=True)
        await self.send(self.commands.subscribe("trade", symbols), expect_ack=True)
        await self.send(self.commands.subscribe("ohlc", symbols, interval=OHLC_MINUTES), expect_ack=True)

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

    def checksum_checked(self, ev: ChecksumResult) -> None:
        if ev.ok:
            self._failures.pop(ev.market, None)
            self.unverified.discard(ev.market)
            return
        self._failures[ev.market] += 1
        if self._failures[ev.market] >= UNVERIFIED_AFTER:
            self.unverified.add(ev.market)

    def on_control(self, ev: Event) -> None:
        if isinstance(ev, Subscribed):
            self._acked.setdefault(ev.channel, set()).add(ev.market or "*")
        elif isinstance(ev, Unsubscribed) and ev.channel is not None:
            self._acked.get(ev.channel, set()).discard(ev.market or "*")

    def registry(self) -> dict[str, dict[str, object]]:
        desired: dict[str, set[str]] = {ch: set(self.markets) for ch in MARKET_CHANNELS}
        desired["instrument"] = {"*"}
        if self.token is not None:
            desired["executions"] = desired["balances"] = {"*"}
        # Acknowledgements belong to a connection: with none open, nothing is acknowledged.
        return _report(desired, self._acked if self._ws is not None else {})

    def is_live(self) -> bool:
        return not self._pending_acks and self.frames > 1

    async def recover(self, action: RecoveryAction) -> None:
        if action.channel != "book":
            if action.channel in ("executions", "balances") and self.token is not None:
                await self.send(self.commands.unsubscribe(action.channel, token=self.token))
                await self.send(self.commands.subscribe(action.channel, token=self.token), expect_ack=True)
            return
        for symbol in action.markets:
            if symbol not in self._watched:
                continue  # removed from the watchlist meanwhile: never re-subscribe it
            if symbol in self.unverified:
                continue  # shown as "checksum unverified"; no resubscribe storm
            wait = self._last_resync.get(symbol, 0.0) + RESYNC_MIN_GAP_S - time.monotonic()
            self.spawn(self._resync(symbol, max(0.0, wait)))

    async def _resync(self, symbol: str, wait: float) -> None:
        if wait:
            await asyncio.sleep(wait)
        self._last_resync[symbol] = time.monotonic()
        # Kraken never re-snapshots by itself, and a repeat subscribe is refused: unsubscribe first.
        await self.send(self.commands.unsubscribe("book", [symbol], depth=self.depth))
        await self.send(
            self.commands.subscribe("book", [symbol], depth=self.depth, snapshot=True), expect_ack=True
        )

    def periodic(self, now: float) -> str | None:
        if now - self._last_ping >= APP_PING_S:
            self._last_ping = now
            self.spawn(self.send(self.commands.ping()))
        return None

    def watch_changed(self, added: list[str], removed: list[str]) -> None:
        # Frames still in flight for removed symbols are dropped by the session until re-added.
        self.session.ignored.difference_update(added)
        self.session.ignored.update(removed)

    async def change_subscriptions(self, added: list[str], removed: list[str]) -> None:
        if added:
            await self._subscribe_market(added)
        if removed:
            await self.send(self.commands.unsubscribe("book", removed, depth=self.depth))
            await self.send(self.commands.unsubscribe("ticker", removed, event_trigger="bbo"))
            await self.send(self.commands.unsubscribe("trade", removed))
            await self.send(self.commands.unsubscribe("ohlc", removed, interval=OHLC_MINUTES))

    def status(self) -> dict[str, Any]:
        return {**super().status(), "checksum_unverified": sorted(self.unverified)}


def v2_symbol(wsname: str) -> str:
    """REST ``wsname`` is the v1 name: v2 writes bitcoin and dogecoin as BTC and DOGE (kraken.md §1.1)."""
    names = {"XBT": "BTC", "XDG": "DOGE"}
    base, _, quote = wsname.partition("/")
    return f"{names.get(base, base)}/{names.get(quote, quote)}"


def _report(desired: dict[str, set[str]], acked: dict[str, set[str]]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for channel in sorted(set(desired) | set(acked)):
        want, have = desired.get(channel, set()), acked.get(channel, set())
        out[channel] = {"desired": sorted(want), "acknowledged": sorted(have), "in_sync": want == have}
    return out
