"""The Kalshi connection: signed handshake, one subscribe per channel group, narrow recovery, fills
caught up over REST after every (re)connect, and runtime watchlist edits with ``update_subscription``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp

from app.core.events import BookChange, BookSnapshot, Event, Fill, Position, RecoveryAction, RecoveryKind
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.stream.connection import REST_TIMEOUT, Connection
from app.stream.state import ConnState
from app.venues.kalshi.auth import PrivateKey, auth_headers
from app.venues.kalshi.commands import KalshiCommands
from app.venues.kalshi.endpoints import REST_PREFIX, WS_PATH
from app.venues.kalshi.session import KalshiSession

MARKET_CHANNELS = ("orderbook_delta", "ticker", "trade")
PRIVATE_CHANNELS = ("fill", "market_positions")
QUIET_PROBE_S = 15.0  # an idle book sid is probed so a lost final delta shows up as a gap
FILL_OVERLAP_MS = 5_000


@dataclass(frozen=True, slots=True)
class KalshiCredentials:
    key_id: str
    private_key: PrivateKey


class KalshiLink(Connection):
    venue = Venue.KALSHI
    ping_interval = 10.0  # our own pings; the server's every-10 s pings are answered by websockets

    def __init__(
        self,
        url: str,
        rest_url: str,
        store: MarketStore,
        credentials: KalshiCredentials,
        markets: list[str],
        *,
        private: bool = True,
        lifecycle: bool = True,
        use_yes_price: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(url, store, **kwargs)
        self.rest_url = rest_url.rstrip("/")
        self.credentials = credentials
        self.markets: list[str] = list(dict.fromkeys(markets))
        self._watched: frozenset[str] = frozenset(self.markets)
        self.private = private
        self.lifecycle = lifecycle
        self.use_yes_price = use_yes_price
        self.session = KalshiSession(use_yes_price, store.books[Venue.KALSHI])
        self.commands = KalshiCommands(use_yes_price)
        self.fills_fetched = 0
        self.fill_catchups = 0
        self._last_fill_ms: int | None = None
        self._book_quiet_since = time.monotonic()
        self.quiet_probe_s = QUIET_PROBE_S
        self.probes = 0
        self._probe: asyncio.Task[None] | None = None
        self._catchup: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ connection hooks

    async def prepare(self) -> dict[str, str]:
        self._set(ConnState.AUTHENTICATING, "signing the handshake")
        creds = self.credentials
        return auth_headers(creds.key_id, creds.private_key, "GET", WS_PATH)  # fresh timestamp every time

    async def opened(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        # Sids and seq are per connection: a new session, the same books (marked stale until re-snapshotted).
        self.session = KalshiSession(self.use_yes_price, self.store.books[Venue.KALSHI])
        self.commands = KalshiCommands(self.use_yes_price)
        if self.markets:
            await self.send(self.commands.subscribe(list(MARKET_CHANNELS), self.markets), expect_ack=True)
        if self.private:
            await self.send(self.commands.subscribe(list(PRIVATE_CHANNELS), None), expect_ack=True)
            self._catchup = asyncio.create_task(self._catch_up_fills())
        if self.lifecycle:
            await self.send(self.commands.subscribe(["market_lifecycle_v2"], None), expect_ack=True)
        self._book_quiet_since = time.monotonic()

    def on_frame(self, frame: str | bytes) -> list[Event]:
        events = self.session.on_frame(frame)
        if len(events) == 1:  # the common case: one book/ticker event
            ev = events[0]
            if isinstance(ev, BookChange | BookSnapshot) and ev.market not in self._watched:
                return self._unwatched(events)
            if type(ev) is not Fill:
                return events
        elif any(isinstance(e, BookChange | BookSnapshot) and e.market not in self._watched for e in events):
            events = self._unwatched(events)
        for ev in events:
            if isinstance(ev, Fill) and ev.ts_ms is not None:
                self._last_fill_ms = max(self._last_fill_ms or 0, ev.ts_ms)
        return events

    def _unwatched(self, events: list[Event]) -> list[Event]:
        """Frames still in flight for a market just removed from the watchlist: drop the book the
        session re-created for them, and any repair it asked for (it must not come back as live)."""
        books = self.store.books[Venue.KALSHI]
        kept: list[Event] = []
        for ev in events:
            if isinstance(ev, BookChange | BookSnapshot) and ev.market not in self._watched:
                books.pop(ev.market, None)
                continue
            if isinstance(ev, RecoveryAction) and ev.channel in (None, "orderbook_delta"):
                ev.markets = [m for m in ev.markets if m in self._watched]
                if not ev.markets:
                    continue
            kept.append(ev)
        return kept

    def encode(self, command: dict[str, Any]) -> str:
        return self.commands.encode(command)

    def sent_command(self, command: dict[str, Any]) -> None:
        self.session.on_command_sent(command)

    def is_live(self) -> bool:
        return not self._pending_acks and self.frames > 0

    async def recover(self, action: RecoveryAction) -> None:
        if action.kind is RecoveryKind.RESNAPSHOT and action.sid is not None and action.markets:
            await self.send(self.commands.get_snapshot(action.sid, action.markets))
        elif action.kind is RecoveryKind.RESUBSCRIBE:
            channel = action.channel or "orderbook_delta"
            markets = action.markets or (self.markets if channel in MARKET_CHANNELS else None)
            await self.send(self.commands.subscribe([channel], markets or None), expect_ack=True)

    def periodic(self, now: float) -> str | None:
        # A sid that went quiet may have lost its last delta: an idempotent re-subscribe answers `ok`,
        # which uses up a seq, so the session sees any gap and re-snapshots.
        last = self.last_frame or self._book_quiet_since
        quiet = self.quiet_probe_s
        if self.markets and now - last > quiet and now - self._book_quiet_since > quiet:
            self._book_quiet_since = now
            if self._probe is None or self._probe.done():
                self._probe = asyncio.create_task(self.probe())
        return None

    async def probe(self) -> None:
        """Re-subscribe the sequenced channels as they are: a no-op whose ``ok`` uses up a seq on each sid,
        revealing a lost last frame; unanswered (a stalled server), it drops the link at the ack timeout."""
        self.probes += 1
        if self.markets:
            await self.send(
                self.commands.subscribe(["orderbook_delta", "trade"], self.markets), expect_ack=True
            )
        if self.lifecycle:
            await self.send(self.commands.subscribe(["market_lifecycle_v2"], None), expect_ack=True)

    def registry(self) -> dict[str, dict[str, object]]:
        desired: dict[str, set[str]] = (
            {ch: set(self.markets) for ch in MARKET_CHANNELS} if self.markets else {}
        )
        if self.private:
            desired.update({ch: {"*"} for ch in PRIVATE_CHANNELS})
        if self.lifecycle:
            desired["market_lifecycle_v2"] = {"*"}
        acked: dict[str, set[str]] = {}
        sids = self.session.sid_channel.items() if self._ws is not None else ()  # none without a connection
        for sid, channel in sids:
            markets = self.session.sid_markets.get(sid)
            acked[channel] = set(markets) if channel in MARKET_CHANNELS and markets is not None else {"*"}
        out: dict[str, dict[str, object]] = {}
        for channel in sorted(set(desired) | set(acked)):
            want, have = desired.get(channel, set()), acked.get(channel, set())
            out[channel] = {"desired": sorted(want), "acknowledged": sorted(have), "in_sync": want == have}
        return out

    # ------------------------------------------------------------------ watchlist edits

    async def set_markets(self, markets: list[str]) -> tuple[list[str], list[str]]:
        """Change the watched markets without reconnecting; returns (added, removed)."""
        wanted = list(dict.fromkeys(markets))
        added = [m for m in wanted if m not in self.markets]
        removed = [m for m in self.markets if m not in wanted]
        self.markets = wanted
        self._watched = frozenset(wanted)
        if self._ws is None:
            return added, removed
        sids = {ch: sid for sid, ch in self.session.sid_channel.items() if ch in MARKET_CHANNELS}
        if not sids and added:  # nothing subscribed yet on this connection
            await self.send(self.commands.subscribe(list(MARKET_CHANNELS), added), expect_ack=True)
            return added, removed
        for sid in sids.values():
            if added:
                await self.send(self.commands.update_subscription(sid, "add_markets", added))
            if removed:
                await self.send(self.commands.update_subscription(sid, "delete_markets", removed))
        for market in removed:
            book = self.store.books[Venue.KALSHI].pop(market, None)
            if book is not None:
                book.mark_stale("no longer watched")
        return added, removed

    # ------------------------------------------------------------------ fills over REST

    async def _catch_up_fills(self) -> None:
        """Fetch fills since the last one seen (or all the venue returns) and merge them; duplicates
        of fills already received over the WebSocket are dropped by the store."""
        since_ms = None if self._last_fill_ms is None else self._last_fill_ms - FILL_OVERLAP_MS
        with contextlib.suppress(asyncio.CancelledError):
            try:
                fills = await self.fetch_fills(since_ms)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                self.store.health_of(self.venue, "fills").errors += 1
                self._note(f"fill catch-up failed: {exc}")
                return
            self.fill_catchups += 1
            self.fills_fetched += len(fills)
            self.store.add_fills(fills)
            # The WebSocket only sends positions as they change: held ones come from REST on each connect.
            try:
                positions = await self.fetch_positions()
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
                self.store.health_of(self.venue, "positions").errors += 1
                self._note(f"positions fetch failed: {exc}")
                return
            self.store.apply(self.venue, positions)

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

    def _note(self, text: str) -> None:
        self.transitions.append(type(self.transitions[-1])(self.state, text))


def _dollars(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
