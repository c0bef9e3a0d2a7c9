"""Kraken book CRC32 (protocol/kraken.md §4.2), and the level3 one (docs/protocol-kraken-level3.md §5).

The checksum string is, for the 10 best asks (lowest first) then the 10 best bids (highest first),
each level's price and quantity written at the pair's precision with the ``.`` and leading zeros
removed. For a number held as integer units at exactly that precision, that text is ``str(units)``:
"0.00100000" -> 100000 -> "100000". The level3 checksum is the same text over every order of those
levels, in queue order, so it also checks queue priority.
"""

from __future__ import annotations

import zlib

from app.core.book import OrderBook
from app.core.level3 import Level3Book

CHECKSUM_LEVELS = 10


def checksum_text(book: OrderBook) -> str:
    return book.asks.top_text(CHECKSUM_LEVELS) + book.bids.top_text(CHECKSUM_LEVELS)


def book_checksum(book: OrderBook) -> int:
    """CRC32 of the book's top 10 levels. The book must be at the pair's exact precision."""
    return zlib.crc32(checksum_text(book).encode("ascii")) & 0xFFFFFFFF


class ChecksumCache:
    """Per-book side texts, so a message that touched one side re-renders only that side."""

    __slots__ = ("_asks", "_bids")

    def __init__(self) -> None:
        self._asks: dict[str, str] = {}
        self._bids: dict[str, str] = {}

    def forget(self, market: str) -> None:
        """The book changed without a checksum pass (unverified update, rescale): render afresh."""
        self._asks.pop(market, None)
        self._bids.pop(market, None)

    def checksum(self, book: OrderBook, bids_changed: bool = True, asks_changed: bool = True) -> int:
        market = book.market
        asks = self._asks.get(market) if not asks_changed else None
        if asks is None:
            asks = self._asks[market] = book.asks.top_text(CHECKSUM_LEVELS)
        bids = self._bids.get(market) if not bids_changed else None
        if bids is None:
            bids = self._bids[market] = book.bids.top_text(CHECKSUM_LEVELS)
        return zlib.crc32((asks + bids).encode("ascii")) & 0xFFFFFFFF


def level3_checksum_text(book: Level3Book) -> str:
    """The level3 checksum's input (docs/protocol-kraken-level3.md §5): every order of the 10 best ask
    levels in queue order, then of the 10 best bid levels, each as its price then its quantity."""
    return book.asks.top_text(CHECKSUM_LEVELS) + book.bids.top_text(CHECKSUM_LEVELS)


def level3_checksum(book: Level3Book) -> int:
    """CRC32 of a level-3 book's top 10 levels, order by order. The book must be at the pair's precision."""
    return zlib.crc32(level3_checksum_text(book).encode("ascii")) & 0xFFFFFFFF
