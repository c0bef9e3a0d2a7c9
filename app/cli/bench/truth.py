"""The engine's store against the embedded simulator's ground truth: which watched books are missing,
stale or different, which of the user's fills are missing or unexpected, and what is still flagged.

Shared by ``bench --chaos``, the soak and the engine tests, so "converged" means the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.core.instruments import Venue
from app.core.store import MarketStore
from app.sim.server import Simulator
from app.stream.engine import StreamEngine
from app.stream.state import ConnState

Levels = list[tuple[Decimal, Decimal]]


def kalshi_truth_in_yes_terms(sim: Simulator, ticker: str) -> tuple[Levels, Levels]:
    """The simulator's book as (YES bids, YES asks), best first, the shape the client keeps."""
    truth = sim.kalshi_book(ticker)
    bids = [(Decimal(p), Decimal(s)) for p, s in truth["yes"]]
    asks = [(Decimal(1) - Decimal(p), Decimal(s)) for p, s in truth["no"]]
    return bids, asks


def kraken_truth(sim: Simulator, symbol: str, depth: int) -> tuple[Levels, Levels]:
    truth = sim.kraken_book(symbol, depth)
    return (
        [(Decimal(p), Decimal(q)) for p, q in truth["bids"]],
        [(Decimal(p), Decimal(q)) for p, q in truth["asks"]],
    )


def watched(engine: StreamEngine) -> list[tuple[Venue, str]]:
    return [(link.venue, market) for link in engine.links for market in link.streamed]


def wrong_books(sim: Simulator, engine: StreamEngine, depth: int = 10) -> dict[str, str]:
    """Watched markets whose book is missing, stale or different from the simulator's; empty if none."""
    problems: dict[str, str] = {}
    for venue, market in watched(engine):
        book = engine.store.books[venue].get(market)
        if book is None:
            problems[market] = "no book"
        elif book.stale:
            problems[market] = f"stale: {book.stale_reason}"
        else:
            truth = (
                kalshi_truth_in_yes_terms(sim, market)
                if venue is Venue.KALSHI
                else kraken_truth(sim, market, depth)
            )
            if book.levels_as_decimals() != truth:
                problems[market] = "differs from the truth"
    return problems


def truth_fills(sim: Simulator, venue: Venue) -> set[str]:
    """The fill ids the simulated user's account holds on ``venue``."""
    if venue is Venue.KALSHI:
        return {f.trade_id for f in sim.market.kalshi_fills}
    return {str(e["exec_id"]) for e in sim.market.kraken_account.executions}


def held_fills(store: MarketStore, venue: Venue) -> list[str]:
    return [fill_id for (v, fill_id) in store.fills if v is venue]


@dataclass(frozen=True, slots=True)
class FillCheck:
    expected: int
    held: int
    missing: int
    unexpected: int
    duplicates_dropped: int  # repeats of a known fill (REST catch-up overlap, snapshots) the store dropped

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unexpected and self.held == self.expected


def check_fills(sim: Simulator, store: MarketStore, venue: Venue) -> FillCheck:
    truth, held = truth_fills(sim, venue), held_fills(store, venue)
    have = set(held)
    dropped = store.duplicate_fills  # counted for both venues together
    return FillCheck(len(truth), len(held), len(truth - have), len(have - truth), dropped)


def flags(engine: StreamEngine) -> list[str]:
    """Everything that is not right yet: a link not live, a watched book missing or stale, a book still
    being repaired or unverified, a subscription the server has not acknowledged. Empty: converged."""
    out: list[str] = []
    store = engine.store
    for link in engine.links:
        if link.state is not ConnState.LIVE:
            out.append(f"{link.name}: {link.state.value}")
            continue
        for market in link.streamed:
            book = store.books[link.venue].get(market)
            if book is None or book.stale:
                out.append(f"{market}: {'no book' if book is None else book.stale_reason}")
        out.extend(f"{market}: checksum unverified" for market in sorted(link.unverified))
        for channel, entry in link.registry().items():
            if not entry["in_sync"]:
                out.append(f"{link.name} {channel}: not acknowledged as wanted")
    return out
