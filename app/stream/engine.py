"""The stream engine: the store plus one supervised link per venue and credential set."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from app.core.instruments import Venue
from app.core.store import MarketStore
from app.stream.link import VenueLink

LEVEL3_LINK_NAME = "kraken-level3"

# Market data is acyclic (reference counting frees it), but at tens of thousands of messages a second
# the default thresholds run the cycle collector hundreds of times a second, and a full pass over the
# long-lived heap (books, tapes, Qt wrappers) stalled the window for ~90 ms (measured with gc.callbacks).
GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Once start-up objects exist: move them out of the collector's view and collect far less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class StreamEngine:
    def __init__(self, store: MarketStore | None = None) -> None:
        self.store = store or MarketStore()
        self.links: list[VenueLink] = []

    def add(self, link: VenueLink) -> VenueLink:
        self.links.append(link)
        return link

    def start(self) -> None:
        for link in self.links:
            link.start()

    async def stop(self) -> None:
        await asyncio.gather(*(link.stop() for link in self.links))

    async def wait_live(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(asyncio.gather(*(link.reached_live.wait() for link in self.links)), timeout)

    def link(self, venue: Venue) -> VenueLink:
        """The venue's market-data link (added first; a private-only link may follow it)."""
        return next(link for link in self.links if link.venue is venue)

    def level3_link(self) -> VenueLink | None:
        """Kraken's level3 link (the orders behind each price), when credentials let one run."""
        return next((link for link in self.links if link.name == LEVEL3_LINK_NAME), None)

    async def watch_level3(self, markets: list[str]) -> tuple[list[str], list[str]]:
        """Change the markets streamed order by order; ([], []) when no level3 link runs."""
        link = self.level3_link()
        return await link.set_markets(markets) if link is not None else ([], [])

    def has(self, venue: Venue) -> bool:
        return any(link.venue is venue for link in self.links)

    async def watch(
        self, venue: Venue, markets: list[str], depths: dict[str, int] | None = None
    ) -> tuple[list[str], list[str]]:
        """Change a venue's watched markets (and, for Kraken, their book depths) at run time, without
        reconnecting."""
        return await self.link(venue).set_markets(markets, depths)

    def refused(self) -> dict[tuple[Venue, str], str]:
        """Watched markets a venue said it does not list, with its words."""
        return {(link.venue, m): why for link in self.links for m, why in link.refused.items()}

    def repairing(self, now: float | None = None) -> dict[tuple[Venue, str], str]:
        """Every watched book being repaired, by (venue, market), with what it waits for in words."""
        return {(link.venue, m): note for link in self.links for m, note in link.repairing(now).items()}

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for link in self.links:
            out[link.name] = {
                "venue": link.venue.value,
                "state": link.state.value,
                "reason": link.transitions[-1].reason,
                "connects": link.connects,
                "reconnects": link.reconnects,
                "frames": link.frames,
                "transitions": [(t.state.value, t.reason) for t in link.transitions[-20:]],
                "subscriptions": link.registry(),
                **link.status(),
            }
        return out
