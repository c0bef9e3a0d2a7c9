"""What both venue links share on top of the supervised connection: the watched markets (changed at run
time without reconnecting), dropping frames still in flight for a market just unwatched, the user's fills
caught up over REST after every (re)connect, and the background tasks a link starts.

``KalshiLink`` and ``KrakenLink`` add only what differs: the handshake, the channels and how a
subscription is changed on an open connection. The engine talks to either through this class alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, Protocol

import aiohttp

from app.core.book import OrderBook
from app.core.events import BookChange, BookSnapshot, ChecksumResult, Event, Fill, RecoveryAction
from app.core.feeds import Feed
from app.core.store import MarketStore
from app.stream.connection import Connection

# Fills this close before the newest one seen are fetched again on a catch-up: a fill stamped in the
# same second as the disconnect may not have arrived yet. The store drops the repeats by fill id.
FILL_OVERLAP_MS = 5_000
_BOOK_CHANGES = (BookChange, BookSnapshot)
_BOOK_EVENTS = (BookChange, BookSnapshot, ChecksumResult)
_LOOKED_AT = frozenset({Fill, RecoveryAction, ChecksumResult})  # a one-event frame of these is inspected


class VenueSession(Protocol):
    """A venue's protocol state for one connection (``venues/*/session.py``): frames in, events out."""

    def on_frame(self, frame: str | bytes) -> list[Event]: ...

    def on_command_sent(self, command: dict[str, Any]) -> None: ...


class VenueCommands(Protocol):
    def encode(self, command: dict[str, Any]) -> str: ...


class VenueLink(Connection):
    book_channel: str  # the venue's name for the order-book channel (recovery actions carry it)
    session: VenueSession
    commands: VenueCommands

    def __init__(
        self, url: str, rest_url: str, store: MarketStore, markets: list[str], **kwargs: Any
    ) -> None:
        super().__init__(url, store, **kwargs)
        self.rest_url = rest_url.rstrip("/")
        self.markets: list[str] = list(dict.fromkeys(markets))
        self._watched: frozenset[str] = frozenset(self.markets)
        self.fills_fetched = 0
        self.fill_catchups = 0
        self._last_fill_ms: int | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def books(self) -> dict[str, OrderBook]:
        return self.store.books[self.venue]

    # ------------------------------------------------------------------ frames

    def on_frame(self, frame: str | bytes) -> list[Event]:
        events = self.session.on_frame(frame)
        if len(events) == 1:  # the hot path: one book change for a watched market
            ev = events[0]
            if isinstance(ev, _BOOK_CHANGES):
                return events if ev.market in self._watched else self._drop_unwatched(events)
            if type(ev) not in _LOOKED_AT:
                return events
        return self._inspect(events)

    def _inspect(self, events: list[Event]) -> list[Event]:
        watched = self._watched
        unwatched = False
        for ev in events:
            if isinstance(ev, _BOOK_EVENTS):
                unwatched = unwatched or ev.market not in watched
            elif isinstance(ev, RecoveryAction):
                unwatched = unwatched or any(m not in watched for m in ev.markets)
            elif isinstance(ev, Fill) and ev.ts_ms is not None:
                self._last_fill_ms = max(self._last_fill_ms or 0, ev.ts_ms)
            if isinstance(ev, ChecksumResult):
                self.checksum_checked(ev)
        return self._drop_unwatched(events) if unwatched else events

    def checksum_checked(self, ev: ChecksumResult) -> None:
        """A book's checksum was compared (Kraken)."""

    def _drop_unwatched(self, events: list[Event]) -> list[Event]:
        """Book frames still in flight for a market just removed from the watchlist: drop the book the
        session re-created for them, and any repair it asked for (it must not come back as live)."""
        books, watched = self.books, self._watched
        kept: list[Event] = []
        for ev in events:
            if isinstance(ev, _BOOK_EVENTS) and ev.market not in watched:
                books.pop(ev.market, None)
                continue
            if isinstance(ev, RecoveryAction) and ev.channel in (None, self.book_channel) and ev.markets:
                for market in ev.markets:
                    if market not in watched:
                        books.pop(market, None)
                ev.markets = [m for m in ev.markets if m in watched]
                if not ev.markets:
                    continue
            kept.append(ev)
        return kept

    def encode(self, command: dict[str, Any]) -> str:
        return self.commands.encode(command)

    def sent_command(self, command: dict[str, Any]) -> None:
        self.session.on_command_sent(command)

    # ------------------------------------------------------------------ the watchlist

    def watches(self, market: str) -> bool:
        return market in self._watched

    async def set_markets(self, markets: list[str]) -> tuple[list[str], list[str]]:
        """Change the watched markets without reconnecting; returns (added, removed)."""
        wanted = list(dict.fromkeys(markets))
        added = [m for m in wanted if m not in self._watched]
        keep = frozenset(wanted)
        removed = [m for m in self.markets if m not in keep]
        self.markets, self._watched = wanted, keep
        self.watch_changed(added, removed)
        if self._ws is not None and (added or removed):
            await self.change_subscriptions(added, removed)
        for market in removed:
            book = self.books.pop(market, None)
            if book is not None:
                book.mark_stale("no longer watched")
        return added, removed

    def watch_changed(self, added: list[str], removed: list[str]) -> None:
        """The watched set changed (whether or not a connection is open)."""

    async def change_subscriptions(self, added: list[str], removed: list[str]) -> None:
        """Subscribe ``added`` and unsubscribe ``removed`` on the open connection."""
        raise NotImplementedError

    # ------------------------------------------------------------------ fills over REST

    def start_fill_catch_up(self) -> None:
        self.spawn(self._catch_up_fills())

    async def _catch_up_fills(self) -> None:
        """Fetch fills since the last one seen (or all the venue returns) and merge them; duplicates
        of fills already received over the WebSocket are dropped by the store."""
        since_ms = None if self._last_fill_ms is None else self._last_fill_ms - FILL_OVERLAP_MS
        try:
            fills = await self.fetch_fills(since_ms)
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
            self.store.health_of(self.venue, Feed.FILLS).errors += 1
            self.note(f"fill catch-up failed: {exc}")
            return
        self.fill_catchups += 1
        self.fills_fetched += len(fills)
        self.store.add_fills(fills)
        await self.after_fill_catch_up()

    async def fetch_fills(self, since_ms: int | None) -> list[Fill]:
        raise NotImplementedError

    async def after_fill_catch_up(self) -> None:
        """More account state to load once fills are in (Kalshi: the positions held)."""

    # ------------------------------------------------------------------ tasks and status

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Work beside the read loop (resyncs, pings, probes, REST); cancelled when the link stops."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def stop(self) -> None:
        await super().stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def status(self) -> dict[str, Any]:
        """The link's own figures for ``StreamEngine.status`` beside the connection's."""
        return {"fills_fetched": self.fills_fetched}
