"""What a health row counts: one feed per kind of subscription, plus the connection itself.

The venues' channel names map onto feeds here, once, for the store's counters and the Health view
(Kalshi's ``orderbook_delta`` and Kraken's ``book`` are both the book feed).
"""

from __future__ import annotations

from enum import StrEnum


class Feed(StrEnum):
    CONNECTION = "connection"  # the link itself: reconnects, errors, malformed and unknown frames
    BOOK = "book"
    LEVEL3 = "level3"  # the order-by-order book (Kraken's level3 channel)
    TICKER = "ticker"
    TRADE = "trade"
    OHLC = "ohlc"
    LIFECYCLE = "lifecycle"
    INSTRUMENT = "instrument"
    FILLS = "fills"
    POSITIONS = "positions"  # Kalshi positions and Kraken balances
    INDEX = "index"  # the settlement indices Kalshi relays (cfbenchmarks_value)


# Both venues' channel names (protocol/kalshi.md §4, protocol/kraken.md §2).
CHANNEL_FEEDS: dict[str, Feed] = {
    "orderbook_delta": Feed.BOOK,
    "book": Feed.BOOK,
    "level3": Feed.LEVEL3,
    "ticker": Feed.TICKER,
    "trade": Feed.TRADE,
    "ohlc": Feed.OHLC,
    "market_lifecycle_v2": Feed.LIFECYCLE,
    "instrument": Feed.INSTRUMENT,
    "fill": Feed.FILLS,
    "executions": Feed.FILLS,
    "market_positions": Feed.POSITIONS,
    "balances": Feed.POSITIONS,
    "cfbenchmarks_value": Feed.INDEX,
    "cfbenchmarks_value_5hz": Feed.INDEX,
}

# Market data this old is flagged stale in health (the link may be up, but this feed says nothing).
STALE_AFTER_S: dict[Feed, float] = {
    Feed.BOOK: 60.0,
    Feed.TICKER: 120.0,
    Feed.TRADE: 600.0,
    Feed.INDEX: 15.0,  # CF Benchmarks ticks about once a second
}


def feed_of(channel: str | None) -> Feed:
    """A venue channel's feed; a sequence gap or resync without a channel is about the book."""
    return Feed.BOOK if channel is None else CHANNEL_FEEDS.get(channel, Feed.BOOK)
