"""The Kraken level3 link: the orders behind each price, on its own host (docs/protocol-kraken-level3.md).

A ``KrakenLink`` in every way that matters (a fresh WebSocket token per connect, app-level pings, the
venue's refusal words, the acknowledgement registry), with one channel: ``level3``, depth 10, for the
markets some view wants order by order. Its books are the store's ``level3_books``; the recovery is the
level-2 book's, narrowly: a checksum mismatch or an event for an unknown order re-subscribes that symbol
only, through the same capped backoff, and never gives up. A drop here leaves the level-2 books alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from app.core.instruments import Instrument, Venue
from app.core.level3 import Level3Book
from app.core.store import MarketStore
from app.stream.connection import AuthError
from app.stream.engine import LEVEL3_LINK_NAME
from app.stream.kraken_link import IDLE_LIMIT_S, KrakenCredentials, KrakenLink
from app.stream.link import registry_report
from app.venues.kraken.auth import NonceSource
from app.venues.kraken.commands import KrakenCommands
from app.venues.kraken.level3 import CHANNEL
from app.venues.kraken.session import KrakenSession

NONCE_RETRIES = 3
LEVEL3_DEPTH = 10  # the checksum covers 10 levels, and the Orders view shows 10 a side


class KrakenLevel3Link(KrakenLink):
    book_channel = CHANNEL

    def __init__(
        self,
        url: str,
        rest_url: str,
        store: MarketStore,
        markets: list[str],
        *,
        credentials: KrakenCredentials,
        instruments: dict[str, Instrument] | None = None,
        nonces: NonceSource | None = None,
        name: str = LEVEL3_LINK_NAME,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("depth", None)  # the level-2 depth means nothing here
        super().__init__(url, rest_url, store, markets, credentials=credentials, name=name, **kwargs)
        if nonces is not None:  # Kraken wants rising nonces per key: the links sharing one share these
            self.nonces = nonces
        # The main link's instrument table (its precisions), shared: this socket has no instrument channel.
        self.instruments: dict[str, Instrument] = {} if instruments is None else instruments
        self.session = self._new_session()

    def _new_session(self) -> KrakenSession:
        return KrakenSession(instruments=self.instruments, level3_books=self.books)

    @property
    def books(self) -> dict[str, Level3Book]:  # type: ignore[override]  # the same stale/mark_stale use
        return self.store.level3_books[Venue.KRAKEN]

    @property
    def idle_limit(self) -> float | None:  # type: ignore[override]
        # Kraken sends heartbeats only to a socket with subscriptions; with none, our pings keep it open.
        return IDLE_LIMIT_S if self.streamed else None

    async def fetch_token(self) -> str:
        # Another link with this key may have a token request in flight with the next nonce; if it
        # arrived first, ours is refused as stale: ask again at once with a fresh one.
        for attempt in range(NONCE_RETRIES):
            try:
                return await super().fetch_token()
            except AuthError as exc:
                if "nonce" not in str(exc).lower() or attempt == NONCE_RETRIES - 1:
                    raise
                await asyncio.sleep(0.05)
        raise AssertionError("unreachable")

    def books_lost(self, reason: str) -> None:
        self.store.mark_level3_stale(Venue.KRAKEN, reason)

    async def opened(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._acked = {}
        self.session = self._new_session()
        self.commands = KrakenCommands()
        if self.streamed:
            await self._subscribe(self.streamed)

    async def _subscribe(self, symbols: list[str], snapshot: bool | None = None) -> None:
        assert self.token is not None  # prepare() fetched it: this link always has credentials
        await self.send(
            self.commands.subscribe(
                CHANNEL, symbols, depth=LEVEL3_DEPTH, token=self.token, snapshot=snapshot
            ),
            expect_ack=True,
        )

    async def _unsubscribe(self, symbols: list[str]) -> None:
        assert self.token is not None
        await self.send(self.commands.unsubscribe(CHANNEL, symbols, depth=LEVEL3_DEPTH, token=self.token))

    def registry(self) -> dict[str, dict[str, object]]:
        desired = {CHANNEL: set(self.streamed)}
        return registry_report(desired, self._acked if self._ws is not None else {})

    def is_live(self) -> bool:
        # The status frame counts as one: with symbols, live once something beyond it arrived.
        return not self._pending_acks and (self.frames > 1 or not self.streamed)

    async def repair_books(self, markets: list[str]) -> None:
        # As for the book: Kraken never re-snapshots by itself, and a repeat subscribe is refused.
        await self._unsubscribe(markets)
        await self._subscribe(markets, snapshot=True)

    async def recover_channel(self, action: Any) -> None:
        """Nothing but level3 runs here, and its repairs are the book repairs."""

    async def resubscribe(self, channel: str, markets: list[str]) -> None:
        if channel == CHANNEL and markets:
            await self._subscribe(markets)

    async def change_subscriptions(self, added: list[str], removed: list[str]) -> None:
        if added:
            await self._subscribe(added)
        if removed:
            await self._unsubscribe(removed)

    def repairing(self, now: float | None = None) -> dict[str, str]:
        """Not the watchlist's business: its row is about the level-2 book (Health shows these)."""
        return {}

    def status(self) -> dict[str, Any]:
        out = super().status()
        out["repairing"] = {
            market: {"attempts": self.book_repairs.attempts(market), "note": note}
            for market in self.book_repairs.pending()
            if market in self._watched and (note := self.recovery_note(market)) is not None
        }
        return out
