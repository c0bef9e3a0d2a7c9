"""What both venue links share on top of the supervised connection: the watched markets (changed at run
time without reconnecting), dropping frames still in flight for a market just unwatched, recovery that
never gives up (a stale book is repaired and a missing subscription re-made, with capped backoff, until
each is right again), the user's fills caught up over REST after every (re)connect, retried until they
arrive, and the background tasks a link starts.

``KalshiLink`` and ``KrakenLink`` add only what differs: the handshake, the channels, and the commands
that repair a book or re-make a subscription. The engine talks to either through this class alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Coroutine
from typing import Any, Protocol

import aiohttp

from app.core.book import OrderBook
from app.core.events import (
    BookChange,
    BookSnapshot,
    ChecksumResult,
    ErrorEvent,
    Event,
    Fill,
    RecoveryAction,
)
from app.core.feeds import Feed
from app.core.store import MarketStore
from app.stream.backoff import Backoff
from app.stream.connection import Connection
from app.stream.repair import Repairs
from app.stream.state import ConnState

# Fills this close before the newest one seen are fetched again on a catch-up: a fill stamped in the
# same second as the disconnect may not have arrived yet. The store drops the repeats by fill id.
FILL_OVERLAP_MS = 5_000
_BOOK_CHANGES = (BookChange, BookSnapshot)
_BOOK_EVENTS = (BookChange, BookSnapshot, ChecksumResult)
_LOOKED_AT = frozenset({Fill, RecoveryAction, ChecksumResult})  # a one-event frame of these is inspected
# A book stale this long (no snapshot yet, one lost, a repair refused) is repaired even if no frame asked;
# a subscription unacknowledged this long is made again. Both longer than a snapshot or an ack takes.
STALE_GRACE_S = 3.0
UNVERIFIED_AFTER = 5  # repairs in a row that left a book stale: the view says so, and retrying goes on
_REST_ERRORS = (aiohttp.ClientError, TimeoutError, ValueError, KeyError)
Registry = dict[str, dict[str, object]]


def registry_report(desired: dict[str, set[str]], acked: dict[str, set[str]]) -> Registry:
    """Per channel: what the client wants, what the server acknowledged, and whether they agree."""
    out: Registry = {}
    for channel in sorted(set(desired) | set(acked)):
        want, have = desired.get(channel, set()), acked.get(channel, set())
        out[channel] = {"desired": sorted(want), "acknowledged": sorted(have), "in_sync": want == have}
    return out


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
        self.markets: list[str] = list(dict.fromkeys(markets))  # what the watchlist wants
        self._watched: frozenset[str] = frozenset(self.markets)
        # Markets the venue said it does not list, with its words: left out of every subscription so one
        # bad ticker cannot hold up the rest (a Kalshi subscribe naming it is refused as a whole).
        # Kept across reconnects; a market removed from the watchlist and added again is tried again.
        self.refused: dict[str, str] = {}
        self.streamed: list[str] = list(self.markets)  # ``markets`` less the refused: what is subscribed
        self.fills_fetched = 0
        self.fill_catchups = 0
        self._last_fill_ms: int | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._catch_up: asyncio.Task[None] | None = None
        self.book_repairs = self.new_book_repairs()
        self.subscription_repairs = Repairs()
        self._stale_since: dict[str, float] = {}  # watched market -> when its book was first seen stale
        self._unsynced_since: dict[str, float] = {}  # channel -> when it was first seen out of sync
        self._repairing: asyncio.Task[None] | None = None

    @property
    def books(self) -> dict[str, OrderBook]:
        return self.store.books[self.venue]

    # ------------------------------------------------------------------ frames

    def on_frame(self, frame: str | bytes) -> list[Event]:
        events = self.session.on_frame(frame)
        if len(events) == 1:  # the hot path: one book change for a watched market
            ev = events[0]
            if isinstance(ev, _BOOK_CHANGES):
                if ev.market not in self._watched:
                    return self._drop_unwatched(events)
                if type(ev) is BookSnapshot:
                    self._snapshotted(ev.market)
                return events
            if type(ev) not in _LOOKED_AT:
                return events
        return self._inspect(events)

    def _snapshotted(self, market: str) -> None:
        """A snapshot was applied: if it left the book live, any repair of it is done."""
        book = self.books.get(market)
        if book is not None and not book.stale:
            self.book_repairs.healthy([market], time.monotonic())

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
            elif isinstance(ev, BookSnapshot):
                self._snapshotted(ev.market)
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

    async def set_markets(
        self, markets: list[str], depths: dict[str, int] | None = None
    ) -> tuple[list[str], list[str]]:
        """Change the watched markets without reconnecting; returns (added, removed). ``depths``: the book
        depth per market where the venue offers a choice (Kraken's link); a full-book venue ignores it."""
        wanted = list(dict.fromkeys(markets))
        added = [m for m in wanted if m not in self._watched]
        keep = frozenset(wanted)
        removed = [m for m in self.markets if m not in keep]
        self.markets, self._watched = wanted, keep
        for market in removed:
            self.refused.pop(market, None)
        self.streamed = [m for m in wanted if m not in self.refused]
        self.watch_changed(added, removed)
        if self._ws is not None and (added or removed):
            await self.change_subscriptions(added, removed)
        for market in removed:
            book = self.books.pop(market, None)
            if book is not None:
                book.mark_stale("no longer watched")
            self.book_repairs.forget(market)  # a day of watchlist switching must not pile up repair state
            self._stale_since.pop(market, None)
        return added, removed

    def watch_changed(self, added: list[str], removed: list[str]) -> None:
        """The watched set changed (whether or not a connection is open)."""

    # ------------------------------------------------------------------ markets the venue refuses

    def on_control(self, ev: Event) -> None:
        if isinstance(ev, ErrorEvent) and ev.markets and self.is_unlisted(ev):
            self._refuse(ev.markets, ev.message)

    def is_unlisted(self, ev: ErrorEvent) -> bool:
        """Whether this refusal says the markets it names do not exist on the venue (not: try again)."""
        return False

    def _refuse(self, markets: list[str], why: str) -> None:
        fresh = [m for m in markets if m in self._watched and m not in self.refused]
        if not fresh:
            return
        for market in fresh:
            self.refused[market] = why
            self.book_repairs.forget(market)
            self._stale_since.pop(market, None)
            self.books.pop(market, None)
        self.streamed = [m for m in self.markets if m not in self.refused]
        self.note(f"{', '.join(fresh[:5])} refused by the venue ({why}): streaming the rest")
        self.spawn(self.subscribe_lacking())

    async def subscribe_lacking(self) -> None:
        """After a refusal: subscribe the streamed markets that a refused command left out."""

    def unsynced(self, now: float | None = None) -> list[str]:
        """Channels whose acknowledged markets have differed from the wanted ones for longer than an ack
        takes (the status bar turns amber and says which)."""
        now = time.monotonic() if now is None else now
        return [ch for ch, since in self._unsynced_since.items() if now - since >= STALE_GRACE_S]

    async def change_subscriptions(self, added: list[str], removed: list[str]) -> None:
        """Subscribe ``added`` and unsubscribe ``removed`` on the open connection."""
        raise NotImplementedError

    # ------------------------------------------------------------------ recovery

    async def recover(self, action: RecoveryAction) -> None:
        """A frame asked for a repair: a book's at once (then with backoff), any other channel's by the
        venue's own rule."""
        if action.channel in (None, self.book_channel) and action.markets:
            watched = [m for m in action.markets if m in self._watched]
            now = time.monotonic()
            due = self.book_repairs.broken(watched, now)
            if due:
                self.book_repairs.asked(due, now)
                await self.repair_books(due)
        else:
            await self.recover_channel(action)

    def periodic(self, now: float) -> str | None:
        problem = self.venue_timers(now)
        if self.state is ConnState.LIVE and (self._repairing is None or self._repairing.done()):
            books, subscriptions = self._due_repairs(now)
            if books or subscriptions:
                self._repairing = self.spawn(self._repair(books, subscriptions))
        return problem

    def _due_repairs(self, now: float) -> tuple[list[str], dict[str, list[str]]]:
        """Watched books stale for longer than a snapshot takes, and subscriptions the server has not
        acknowledged for as long: what is due for another request now."""
        books, stale_since = self.books, self._stale_since
        stale, fine = [], []
        for market in self.streamed:
            book = books.get(market)
            if book is None or book.stale:
                if now - stale_since.setdefault(market, now) >= STALE_GRACE_S:
                    stale.append(market)
            else:
                stale_since.pop(market, None)
                fine.append(market)
        self.book_repairs.healthy(fine, now)
        due_books = self.book_repairs.broken(stale, now)
        missing: dict[str, list[str]] = {}
        in_sync: list[str] = []
        for channel, entry in self.registry().items():
            if channel == self.book_channel:
                continue  # a book without its subscription is stale: the book repair re-makes it
            want, have = entry["desired"], entry["acknowledged"]
            assert isinstance(want, list) and isinstance(have, list)
            lacking = [m for m in want if m not in have]
            if not lacking:
                self._unsynced_since.pop(channel, None)
                in_sync.append(channel)
            elif now - self._unsynced_since.setdefault(channel, now) >= STALE_GRACE_S:
                missing[channel] = lacking
        self.subscription_repairs.healthy(in_sync, now)
        due_channels = self.subscription_repairs.broken(list(missing), now)
        return due_books, {ch: missing[ch] for ch in due_channels}

    async def _repair(self, books: list[str], subscriptions: dict[str, list[str]]) -> None:
        now = time.monotonic()
        if books:
            self.book_repairs.asked(books, now)
            await self.repair_books(books)
        for channel, markets in subscriptions.items():
            self.subscription_repairs.asked([channel], now)
            self.note(f"{channel} not acknowledged for {', '.join(markets[:5])}: subscribing again")
            await self.resubscribe(channel, markets)

    def new_book_repairs(self) -> Repairs:
        """The venue's repair schedule for books (flap protection where a repair can fail to hold)."""
        return Repairs()

    async def repair_books(self, markets: list[str]) -> None:
        """Ask for fresh snapshots of these watched books (re-making their subscription if it is gone)."""
        raise NotImplementedError

    async def recover_channel(self, action: RecoveryAction) -> None:
        """Repair a channel other than the book (a sequence gap on a private channel, a terminal error)."""

    async def resubscribe(self, channel: str, markets: list[str]) -> None:
        """Subscribe ``channel`` again for ``markets`` (``["*"]``: the channel as a whole)."""
        raise NotImplementedError

    def venue_timers(self, now: float) -> str | None:
        """The venue's own timers (pings, probes); why the link must drop, or None."""
        return None

    def recovery_note(self, market: str, now: float | None = None) -> str | None:
        """What a stale watched book is waiting for, for the view: None when nothing is being repaired."""
        now = time.monotonic() if now is None else now
        retry = self.book_repairs.retry_in(market, now)
        if retry is None:
            return None
        attempts = self.book_repairs.attempts(market)
        seconds = math.ceil(retry)
        if attempts >= UNVERIFIED_AFTER and market in self.unverified:
            return f"checksum unverified, retrying in {seconds} s"
        return f"re-syncing (attempt {attempts}), next in {seconds} s" if attempts > 1 else "re-syncing"

    def repairing(self, now: float | None = None) -> dict[str, str]:
        """Watched books being repaired, each with its ``recovery_note`` (shown by the watchlist, Health)."""
        now = time.monotonic() if now is None else now
        notes: dict[str, str] = {}
        for market in self.book_repairs.pending():
            if market in self._watched and (note := self.recovery_note(market, now)) is not None:
                notes[market] = note
        return notes

    @property
    def unverified(self) -> set[str]:
        """Watched books still not verified after ``UNVERIFIED_AFTER`` repairs in a row (derived from the
        books themselves, so it can never outlive the problem)."""
        return set()

    # ------------------------------------------------------------------ fills over REST

    def start_fill_catch_up(self) -> None:
        """After every connect; a catch-up still retrying from the last connection gives way to this one."""
        if self._catch_up is not None:
            self._catch_up.cancel()
        self._catch_up = self.spawn(self._catch_up_account())

    async def _catch_up_account(self) -> None:
        """Fills since the last one seen (or all the venue returns), then the venue's other account state,
        each retried with backoff until it arrives. Duplicates of fills already received over the
        WebSocket are dropped by the store."""
        backoff = Backoff(base=2.0, cap=60.0, burst=10**9)
        for step, feed in ((self._merge_fills, Feed.FILLS), (self.load_account, Feed.POSITIONS)):
            while True:
                try:
                    await step()
                    break
                except _REST_ERRORS as exc:
                    self.store.health_of(self.venue, feed).errors += 1
                    delay = backoff.next_delay()
                    self.note(f"{feed} catch-up failed: {exc}; retrying in {delay:.0f} s")
                    await asyncio.sleep(delay)

    async def _merge_fills(self) -> None:
        since_ms = None if self._last_fill_ms is None else self._last_fill_ms - FILL_OVERLAP_MS
        fills = await self.fetch_fills(since_ms)
        self.fill_catchups += 1
        self.fills_fetched += len(fills)
        self.store.add_fills(fills)

    async def fetch_fills(self, since_ms: int | None) -> list[Fill]:
        raise NotImplementedError

    async def load_account(self) -> None:
        """More account state to load once fills are in (Kalshi: the positions held)."""

    # ------------------------------------------------------------------ tasks and status

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Work beside the read loop (resyncs, pings, probes, REST); cancelled when the link stops."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def stop(self) -> None:
        # Our tasks first: the connection's HTTP session closes with it, and a REST call still running
        # would then fail outside any await ("Task exception was never retrieved").
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await super().stop()

    def status(self) -> dict[str, Any]:
        """The link's own figures for ``StreamEngine.status`` beside the connection's."""
        now = time.monotonic()
        repairing = {
            market: {"attempts": self.book_repairs.attempts(market), "note": note}
            for market, note in self.repairing(now).items()
        }
        return {
            "fills_fetched": self.fills_fetched,
            "repairs_sent": self.book_repairs.sent + self.subscription_repairs.sent,
            "repairing": repairing,
            "checksum_unverified": sorted(self.unverified),
        }
