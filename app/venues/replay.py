"""Run recorded frames through a venue session, headless, and report each market's final book.

A recording is JSON lines. Each line is a raw frame (a JSON object), or a wrapper holding the frame
under ``raw`` (an object, as in the shared fixtures; a string there is a non-JSON text frame) or under
``frame`` (the exact frame text, as ``market-monitor stream --record`` keeps it). Numbers keep their
exact text throughout.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.core.book import OrderBook
from app.core.events import (
    ErrorEvent,
    Event,
    Malformed,
    SequenceGap,
    Unknown,
)
from app.core.instruments import Venue
from app.core.numbers import format_scaled
from app.venues import wire
from app.venues.kalshi.session import KalshiSession
from app.venues.kraken.session import KrakenSession


class ReplayError(Exception):
    """A problem with the input itself (unreadable line); the message is one line for the user."""


@dataclass(slots=True)
class MarketCounters:
    messages: int = 0
    checksum_ok: int = 0
    checksum_failed: int = 0
    seq_gaps: int = 0
    errors: int = 0
    unknown: int = 0


@dataclass
class ReplayResult:
    venue: Venue
    books: dict[str, OrderBook]
    counters: dict[str, MarketCounters]
    bad_lines: int = 0
    totals: MarketCounters = field(default_factory=MarketCounters)

    @property
    def frames(self) -> int:
        return self.totals.messages

    def market_report(self, market: str, depth: int | None = None) -> dict[str, Any]:
        c = self.counters.get(market) or MarketCounters()
        book = self.books.get(market)
        report: dict[str, Any] = {"venue": self.venue.value, "market": market}
        if book is not None and book.has_snapshot:
            pd, sd = book.price_decimals, book.size_decimals
            bids = [[format_scaled(p, pd), format_scaled(s, sd)] for p, s in book.top_bids(depth)]
            asks = [[format_scaled(p, pd), format_scaled(s, sd)] for p, s in book.top_asks(depth)]
            report["best_bid"] = bids[0][0] if bids else None
            report["best_ask"] = asks[0][0] if asks else None
            report["bids"], report["asks"] = bids, asks
            report["stale"] = book.stale
            report["stale_reason"] = book.stale_reason
            report["crossed"] = book.is_crossed()
        else:
            report.update(
                best_bid=None,
                best_ask=None,
                bids=[],
                asks=[],
                stale=True,
                stale_reason=book.stale_reason if book else "no book",
                crossed=False,
            )
        report.update(
            messages=c.messages,
            checksum_ok=c.checksum_ok,
            checksum_failed=c.checksum_failed,
            seq_gaps=c.seq_gaps,
            errors=c.errors,
            unknown=c.unknown,
        )
        return report

    def reports(self, depth: int | None = None) -> list[dict[str, Any]]:
        markets = sorted(set(self.counters) | {m for m, b in self.books.items() if b.has_snapshot})
        return [self.market_report(m, depth) for m in markets]


def frames_from_lines(
    lines: Iterable[str], source: str = "input", skip_bad: bool = False, result: ReplayResult | None = None
) -> Iterator[tuple[str | None, Any]]:
    """Yield (exact frame text, None) or (None, parsed frame object) per line."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = wire.parse(line)
            if not isinstance(obj, dict):
                raise wire.FrameError("a line must hold a JSON object")
        except wire.FrameError as exc:
            if skip_bad:
                if result is not None:
                    result.bad_lines += 1
                continue
            raise ReplayError(
                f"{source} line {number}: unreadable ({exc}); use --skip-bad-lines to go on"
            ) from None
        if "frame" in obj and isinstance(obj["frame"], str):
            yield obj["frame"], None
        elif "raw" in obj:
            raw = obj["raw"]
            if isinstance(raw, str):
                yield raw, None
            else:
                yield None, raw
        else:
            yield None, obj


def _markets_of(ev: Event) -> list[str]:
    if isinstance(ev, SequenceGap | ErrorEvent):
        return list(ev.markets)
    market = getattr(ev, "market", None)
    return [market] if isinstance(market, str) and market else []


def replay(
    lines: Iterable[str],
    venue: Venue,
    depth: int | None = None,
    *,
    use_yes_price: bool = False,
    source: str = "input",
    skip_bad: bool = False,
) -> ReplayResult:
    books: dict[str, OrderBook] = {}
    session: KalshiSession | KrakenSession
    if venue is Venue.KALSHI:
        session = KalshiSession(use_yes_price=use_yes_price, books=books)
    else:
        session = KrakenSession(default_depth=depth or 10, books=books)
    result = ReplayResult(venue, books, {})
    counters = result.counters
    totals = result.totals
    for text, obj in frames_from_lines(lines, source, skip_bad, result):
        events = session.on_frame(text) if text is not None else session.on_message(obj)
        touched: set[str] = set()
        for ev in events:
            markets = _markets_of(ev)
            touched.update(markets)
            kind = type(ev)
            if kind is SequenceGap:
                totals.seq_gaps += 1
            elif kind is ErrorEvent or kind is Malformed:
                totals.errors += 1
            elif kind is Unknown:
                totals.unknown += 1
            else:
                continue
            for m in markets:
                c = counters.setdefault(m, MarketCounters())
                if kind is SequenceGap:
                    c.seq_gaps += 1
                elif kind is Unknown:
                    c.unknown += 1
                else:
                    c.errors += 1
        for m in touched:
            counters.setdefault(m, MarketCounters()).messages += 1
        totals.messages += 1
    if isinstance(session, KrakenSession):
        for m, n in session.checksum_ok.items():
            counters.setdefault(m, MarketCounters()).checksum_ok = n
            totals.checksum_ok += n
        for m, n in session.checksum_failed.items():
            counters.setdefault(m, MarketCounters()).checksum_failed = n
            totals.checksum_failed += n
    return result
