"""Kraken book CRC32 (protocol/kraken.md §4.2).

The checksum string is, for the 10 best asks (lowest first) then the 10 best bids (highest first),
each level's price and quantity written at the pair's precision with the ``.`` and leading zeros
removed. For a number held as integer units at exactly that precision, that text is ``str(units)``:
"0.00100000" -> 100000 -> "100000".
"""

from __future__ import annotations

import zlib

from app.core.book import OrderBook

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
