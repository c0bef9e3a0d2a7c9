"""The Kalshi link: signed handshake, one subscribe per channel group, narrow recovery (``get_snapshot`` of
one sid's markets), a quiet-sid probe, positions loaded over REST after the fill catch-up, and watchlist
edits with ``update_subscription``."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp

from app.core.events import ErrorEvent, Fill, Position, RecoveryAction, RecoveryKind
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.core.strikes import SETTLEMENT_INDEX
from app.stream.connection import REST_TIMEOUT
from app.stream.link import VenueLink, registry_report
from app.stream.repair import Repairs
from app.stream.state import ConnState
from app.venues.kalshi.auth import PrivateKey, auth_headers
from app.venues.kalshi.commands import INDEX_CHANNEL, KalshiCommands
from app.venues.kalshi.endpoints import REST_PREFIX, WS_PATH
from app.venues.kalshi.session import KalshiSession

MARKET_CHANNELS = ("orderbook_delta", "ticker", "trade")
PRIVATE_CHANNELS = ("fill", "market_positions")
INVALID_PARAMETER = 11  # Kalshi's error for a ticker it does not list (protocol/kalshi.md §5.1)
QUIET_PROBE_S = 15.0  # an idle book sid is probed so a lost final delta shows up as a gap


@dataclass(frozen=True, slots=True)
class KalshiCredentials:
    key_id: str
    private_key: PrivateKey


class KalshiLink(VenueLink):
    venue = Venue.KALSHI
    book_channel = "orderbook_delta"
    session: KalshiSession
    commands: KalshiCommands
    ping_interval = 10.0  # our own pings; the server's every-10 s pings are answered by aiohttp

    def __init__(
        self,
        url: str,
        rest_url: str,
        store: MarketStore,
        markets: list[str],
        *,
        credentials: KalshiCredentials,
        private: bool = True,
        lifecycle: bool = True,
        use_yes_price: bool = True,
        indices: tuple[str, ...] = tuple(SETTLEMENT_INDEX.values()),
        **kwargs: Any,
    ) -> None:
        super().__init__(url, rest_url, store, markets, **kwargs)
        self.credentials = credentials
        self.private = private
        self.lifecycle = lifecycle
        self.use_yes_price = use_yes_price
        self.indices = indices  # the settlement indices streamed with the private channels
        self.session = KalshiSession(use_yes_price, store.books[Venue.KALSHI])
        self.commands = KalshiCommands(use_yes_price)
        self._book_quiet_since = time.monotonic()
        self.quiet_probe_s = QUIET_PROBE_S
        self.probes = 0
        self._probe: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ connection hooks

    async def prepare(self) -> dict[str, str]:
        self._set(ConnState.AUTHENTICATING, "signing the handshake")
        creds = self.credentials
        return auth_headers(creds.key_id, creds.private_key, "GET", WS_PATH)  # fresh timestamp every time

    async def opened(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        # Sids and seq are per connection: a new session, the same books (marked stale until re-snapshotted).
        self.session = KalshiSession(self.use_yes_price, self.store.books[Venue.KALSHI])
        self.commands = KalshiCommands(self.use_yes_price)
        if self.streamed:
            await self.send(self.commands.subscribe(list(MARKET_CHANNELS), self.streamed), expect_ack=True)
        if self.private:
            await self.send(self.commands.subscribe(list(PRIVATE_CHANNELS), None), expect_ack=True)
            self.start_fill_catch_up()
            if self.indices:
                # No ack awaited: an account without this channel still streams everything else; a
                # refusal is counted in Health, and the strike board says the reference is missing.
                await self.send(self.commands.subscribe_indices(self.indices))
        if self.lifecycle:
            await self.send(self.commands.subscribe(["market_lifecycle_v2"], None), expect_ack=True)
        self._book_quiet_since = time.monotonic()

    def is_live(self) -> bool:
        return not self._pending_acks and self.frames > 0

    def new_book_repairs(self) -> Repairs:
        # A Kalshi snapshot is the book itself (no checksum can disagree with it): a repair always holds,
        # and a new gap soon after is a new loss, repaired at once.
        return Repairs(min_gap_s=0.2, flap_s=0.0)

    async def repair_books(self, markets: list[str]) -> None:
        # A market on the connection's book sid gets a snapshot in place; one the sid lacks (its add was
        # refused or lost) is added to it, or subscribed afresh when there is no book sid yet.
        session = self.session
        book_sids = [sid for sid, ch in session.sid_channel.items() if ch == self.book_channel]
        by_sid: dict[int, list[str]] = {}
        orphans: list[str] = []
        for market in markets:
            sid = next((s for s in book_sids if market in session.sid_markets.get(s, ())), None)
            if sid is None:
                orphans.append(market)
            else:
                by_sid.setdefault(sid, []).append(market)
        for sid, wanted in by_sid.items():
            await self.send(self.commands.get_snapshot(sid, wanted))
        if orphans:
            await self.resubscribe(self.book_channel, orphans)

    async def recover_channel(self, action: RecoveryAction) -> None:
        if action.kind is RecoveryKind.RESUBSCRIBE and action.channel is not None:
            await self.resubscribe(action.channel, action.markets or self.streamed)

    async def resubscribe(self, channel: str, markets: list[str]) -> None:
        if channel == INDEX_CHANNEL:
            if self.indices:
                await self.send(self.commands.subscribe_indices(self.indices))
            return
        if channel not in MARKET_CHANNELS:
            await self.send(self.commands.subscribe([channel], None), expect_ack=True)
            return
        sid = next((s for s, ch in self.session.sid_channel.items() if ch == channel), None)
        if sid is None:
            await self.send(self.commands.subscribe([channel], markets), expect_ack=True)
        else:
            await self.send(self.commands.update_subscription(sid, "add_markets", markets))

    def venue_timers(self, now: float) -> str | None:
        # A sid that went quiet may have lost its last delta: an idempotent re-subscribe answers `ok`,
        # which uses up a seq, so the session sees any gap and re-snapshots.
        last = self.last_frame or self._book_quiet_since
        quiet = self.quiet_probe_s
        if self.streamed and now - last > quiet and now - self._book_quiet_since > quiet:
            self._book_quiet_since = now
            if self._probe is None or self._probe.done():
                self._probe = self.spawn(self.probe())
        return None

    async def probe(self) -> None:
        """Re-subscribe the sequenced channels as they are: a no-op whose ``ok`` uses up a seq on each sid,
        revealing a lost last frame; unanswered (a stalled server), it drops the link at the ack timeout."""
        self.probes += 1
        if self.streamed:
            await self.send(
                self.commands.subscribe(["orderbook_delta", "trade"], self.streamed), expect_ack=True
            )
        if self.lifecycle:
            await self.send(self.commands.subscribe(["market_lifecycle_v2"], None), expect_ack=True)

    def registry(self) -> dict[str, dict[str, object]]:
        desired: dict[str, set[str]] = (
            {ch: set(self.streamed) for ch in MARKET_CHANNELS} if self.streamed else {}
        )
        if self.private:
            desired.update({ch: {"*"} for ch in PRIVATE_CHANNELS})
            if self.indices:
                desired[INDEX_CHANNEL] = {"*"}  # by index id, which the acknowledgement does not list
        if self.lifecycle:
            desired["market_lifecycle_v2"] = {"*"}
        acked: dict[str, set[str]] = {}
        sids = self.session.sid_channel.items() if self._ws is not None else ()  # none without a connection
        for sid, channel in sids:
            markets = self.session.sid_markets.get(sid)
            acked[channel] = set(markets) if channel in MARKET_CHANNELS and markets is not None else {"*"}
        return registry_report(desired, acked)

    # ------------------------------------------------------------------ watchlist edits

    def is_unlisted(self, ev: ErrorEvent) -> bool:
        return ev.code == INVALID_PARAMETER  # with market_tickers: those markets are not listed

    async def subscribe_lacking(self) -> None:
        # A subscribe naming an unknown ticker is refused whole, an add_markets too: re-send without it.
        wanted = self.streamed
        if not wanted:
            return
        session, missing = self.session, []
        for channel in MARKET_CHANNELS:
            sid = next((s for s, ch in session.sid_channel.items() if ch == channel), None)
            if sid is None:
                missing.append(channel)
                continue
            have = session.sid_markets.get(sid) or ()
            lacking = [m for m in wanted if m not in have]
            if lacking:
                await self.send(self.commands.update_subscription(sid, "add_markets", lacking))
        if missing:
            await self.send(self.commands.subscribe(missing, wanted), expect_ack=True)

    async def change_subscriptions(self, added: list[str], removed: list[str]) -> None:
        sids = [sid for sid, ch in self.session.sid_channel.items() if ch in MARKET_CHANNELS]
        if not sids:  # nothing subscribed yet on this connection
            if added:
                await self.send(self.commands.subscribe(list(MARKET_CHANNELS), added), expect_ack=True)
            return
        for sid in sids:
            if added:
                await self.send(self.commands.update_subscription(sid, "add_markets", added))
            if removed:
                await self.send(self.commands.update_subscription(sid, "delete_markets", removed))

    # ------------------------------------------------------------------ account over REST

    async def load_account(self) -> None:
        # The WebSocket only sends positions as they change: held ones come from REST on each connect.
        self.store.apply(self.venue, await self.fetch_positions())

    async def fetch_positions(self) -> list[Position]:
        return [
            Position(
                Venue.KALSHI,
                str(obj["ticker"]),
                Decimal(str(obj["position_fp"])),
                cost=_dollars(obj.get("market_exposure_dollars")),
                realized_pnl=_dollars(obj.get("realized_pnl_dollars")),
                fees_paid=_dollars(obj.get("fees_paid_dollars")),
            )
            for obj in await self._signed_pages("/portfolio/positions", {}, "market_positions")
        ]

    async def fetch_fills(self, since_ms: int | None) -> list[Fill]:
        params = {} if since_ms is None else {"min_ts": str(max(0, since_ms // 1000))}
        decode = self.session.decoder.decode_obj
        return [
            e
            for obj in await self._signed_pages("/portfolio/fills", params, "fills")
            for e in decode({"type": "fill", "msg": obj})
            if isinstance(e, Fill)
        ]

    async def _signed_pages(self, endpoint: str, params: dict[str, str], key: str) -> list[dict[str, Any]]:
        """Every page of a signed portfolio GET (cursor-paged, 1000 a page), as the listed objects."""
        path = REST_PREFIX + endpoint  # what is signed: the path without the query
        query = {"limit": "1000", **params}
        out: list[dict[str, Any]] = []
        http = self.rest()
        for _ in range(100):  # pages
            headers = auth_headers(self.credentials.key_id, self.credentials.private_key, "GET", path)
            async with http.get(
                self.rest_url + endpoint,
                params=query,
                headers=headers,
                ssl=self.ssl_context or True,
                timeout=REST_TIMEOUT,
            ) as response:
                if response.status != 200:
                    raise ValueError(f"GET {endpoint} answered HTTP {response.status}")
                body = await response.json()
            out.extend(body.get(key) or [])
            cursor = body.get("cursor")
            if not cursor:
                break
            query["cursor"] = cursor
        return out


def _dollars(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
