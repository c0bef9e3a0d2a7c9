"""Run recorded frames through the venue sessions, headless, and report each market's final book.

The file format (plain or gzip JSON lines, header, damaged lines) is app/core/recording.py. Frames go
through sessions as the live links keep them: one per recorded link and connection (a new connection
starts a new session over the same books), each told the commands that were sent on it, so Kalshi's
``use_yes_price`` and Kraken's book depth come from the recording itself. Numbers keep their exact text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from app.core.book import OrderBook
from app.core.events import (
    ErrorEvent,
    Event,
    Malformed,
    SequenceGap,
    Unknown,
)
from app.core.instruments import Instrument, Venue
from app.core.level3 import Level3Book
from app.core.numbers import format_scaled
from app.core.recording import Entry, Reader, RecordingError
from app.venues import wire
from app.venues.kalshi.session import KalshiSession
from app.venues.kraken.session import KrakenSession

ReplayError = RecordingError  # the input itself cannot be replayed; the message is one line for the user


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
    header: dict[str, Any] | None = None
    other_venues: Counter[str] = field(default_factory=Counter)  # frames of venues not asked for
    level3: dict[str, Level3Book] = field(default_factory=dict)  # Kraken's order-by-order books
    level3_checks: tuple[Counter[str], Counter[str]] = field(default_factory=lambda: (Counter(), Counter()))

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
        level3 = self.level3.get(market)
        if level3 is not None and level3.has_snapshot:
            ok, failed = self.level3_checks
            report["level3"] = {
                **level3_report(level3),
                "checksum_ok": ok[market],
                "checksum_failed": failed[market],
            }
        return report

    def reports(self, depth: int | None = None) -> list[dict[str, Any]]:
        markets = sorted(
            set(self.counters)
            | {m for m, b in self.books.items() if b.has_snapshot}
            | {m for m, b in self.level3.items() if b.has_snapshot}
        )
        return [self.market_report(m, depth) for m in markets]


def level3_report(book: Level3Book) -> dict[str, Any]:
    """A level-3 book per level, best first: its price, how many orders, their total, and the queue of
    their sizes (first to fill first)."""
    pd, sd = book.price_decimals, book.size_decimals

    def side(levels: list[tuple[int, list[Any]]]) -> list[dict[str, Any]]:
        return [
            {
                "price": format_scaled(price, pd),
                "orders": len(queue),
                "size": format_scaled(sum(o.size for o in queue), sd),
                "queue": [format_scaled(o.size, sd) for o in queue],
            }
            for price, queue in levels
        ]

    return {
        "orders": len(book),
        "bids": side(book.bids.levels()),
        "asks": side(book.asks.levels()),
        "stale": book.stale,
        "stale_reason": book.stale_reason,
    }


def _markets_of(ev: Event) -> list[str]:
    if isinstance(ev, SequenceGap | ErrorEvent):
        return list(ev.markets)
    market = getattr(ev, "market", None)
    return [market] if isinstance(market, str) and market else []


class Sessions:
    """A venue's sessions over one set of books, as the live links keep them: one per recorded link
    and connection. ``feed`` returns an entry's events, or None when the entry is another venue's."""

    def __init__(
        self,
        venue: Venue,
        books: dict[str, OrderBook],
        *,
        depth: int | None = None,
        use_yes_price: bool | None = None,
        level3_books: dict[str, Level3Book] | None = None,
    ) -> None:
        self.venue = venue
        self.books = books
        # Kraken's level3 link is a link of its own: its sessions share these books and the pair facts
        # the book link's instrument channel brought.
        self.level3_books: dict[str, Level3Book] = {} if level3_books is None else level3_books
        self.instruments: dict[str, Instrument] = {}
        self.level3_ok: Counter[str] = Counter()
        self.level3_failed: Counter[str] = Counter()
        self.depth = depth
        self.use_yes_price = use_yes_price
        self._current: dict[str, tuple[int | None, KalshiSession | KrakenSession]] = {}
        self.checksum_ok: Counter[str] = Counter()
        self.checksum_failed: Counter[str] = Counter()

    def configure(self, header: dict[str, Any] | None) -> None:
        """Settings the recording's header keeps, where the caller gave none."""
        saved = (header or {}).get("sessions", {}).get(self.venue.value, {})
        if not isinstance(saved, dict):
            return
        if self.use_yes_price is None and isinstance(saved.get("use_yes_price"), bool):
            self.use_yes_price = saved["use_yes_price"]
        if self.depth is None and type(saved.get("depth")) is int:
            self.depth = saved["depth"]

    def _session(self, link: str, conn: int | None) -> KalshiSession | KrakenSession:
        known = self._current.get(link)
        if known is not None and known[0] == conn:
            return known[1]
        session: KalshiSession | KrakenSession
        if self.venue is Venue.KALSHI:
            session = KalshiSession(use_yes_price=bool(self.use_yes_price), books=self.books)
        else:  # pair facts carry over, across connections and links
            session = KrakenSession(self.depth or 10, self.books, self.instruments, self.level3_books)
        if known is not None:
            self._retire(known[1])
        self._current[link] = (conn, session)
        return session

    def _retire(self, session: KalshiSession | KrakenSession) -> None:
        if isinstance(session, KrakenSession):
            self.checksum_ok.update(session.checksum_ok)
            self.checksum_failed.update(session.checksum_failed)
            self.level3_ok.update(session.level3.checksum_ok)
            self.level3_failed.update(session.level3.checksum_failed)

    def level3_checksums(self) -> tuple[Counter[str], Counter[str]]:
        ok, failed = Counter(self.level3_ok), Counter(self.level3_failed)
        for _conn, session in self._current.values():
            if isinstance(session, KrakenSession):
                ok.update(session.level3.checksum_ok)
                failed.update(session.level3.checksum_failed)
        return ok, failed

    def checksums(self) -> tuple[Counter[str], Counter[str]]:
        ok, failed = Counter(self.checksum_ok), Counter(self.checksum_failed)
        for _conn, session in self._current.values():
            if isinstance(session, KrakenSession):
                ok.update(session.checksum_ok)
                failed.update(session.checksum_failed)
        return ok, failed

    def feed(self, entry: Entry) -> list[Event] | None:
        if entry.venue is not None and entry.venue != self.venue.value:
            return None
        session = self._session(entry.link or self.venue.value, entry.conn)
        if entry.sent:
            command = _command(entry.text)
            if command is not None:
                session.on_command_sent(command)
            return None
        if entry.text is not None:
            return session.on_frame(entry.text)
        return session.on_message(entry.obj)


def _command(text: str | None) -> dict[str, Any] | None:
    try:
        obj = wire.parse(text or "")
    except wire.FrameError:
        return None
    return obj if isinstance(obj, dict) else None


def replay(
    stream: IO[bytes] | IO[str],
    venue: Venue,
    depth: int | None = None,
    *,
    use_yes_price: bool | None = None,
    source: str = "input",
    strict: bool = False,
    on_damaged: Callable[[int, str], None] | None = None,
    on_events: Callable[[Entry, list[Event]], None] | None = None,
    books: dict[str, OrderBook] | None = None,
) -> ReplayResult:
    """``on_events`` sees each frame's events after the books took them (the exports read both)."""
    books = {} if books is None else books
    sessions = Sessions(venue, books, depth=depth, use_yes_price=use_yes_price)
    result = ReplayResult(venue, books, {})
    counters = result.counters
    totals = result.totals
    reader = Reader(stream, source, on_damaged=on_damaged, strict=strict)
    configured = False
    for entry in reader:
        if not configured:
            sessions.configure(reader.header)
            configured = True
        events = sessions.feed(entry)
        if events is None:
            if entry.venue is not None and entry.venue != venue.value and not entry.sent:
                result.other_venues[entry.venue] += 1
            continue
        if on_events is not None:
            on_events(entry, events)
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
    result.bad_lines = reader.damaged
    result.header = reader.header
    result.level3 = sessions.level3_books
    result.level3_checks = sessions.level3_checksums()
    ok, failed = sessions.checksums()
    for m, n in ok.items():
        counters.setdefault(m, MarketCounters()).checksum_ok = n
        totals.checksum_ok += n
    for m, n in failed.items():
        counters.setdefault(m, MarketCounters()).checksum_failed = n
        totals.checksum_failed += n
    return result
