"""The 24 h change a watchlist shows, and why it shows none.

Kalshi: the live last price minus ``previous_price_dollars`` from ``GET /markets`` (the last price about a
day ago). A market with no trade in the last 24 h (``volume_24h_fp`` 0) or none before then
(``previous_price_dollars`` 0) has no change to show, and says which. Kraken: its ticker's 24 h change.
"""

from __future__ import annotations

from decimal import Decimal

NO_TRADE_24H = "No trade in the last 24 h: nothing to compare"
NO_PREVIOUS = "No trade before about 24 h ago: no price then to compare with"
NOT_KNOWN = "Kalshi has not sent the price from 24 h ago yet"
NO_LAST = "No last price yet"


def kalshi_day_change(
    last: Decimal | None, previous: Decimal | None, volume_24h: Decimal | None
) -> tuple[Decimal | None, str]:
    """(last - previous, "") or (None, the reason in words)."""
    if previous is None:
        return None, NOT_KNOWN
    if volume_24h is not None and volume_24h == 0:
        return None, NO_TRADE_24H
    if previous == 0:
        return None, NO_PREVIOUS
    if last is None:
        return None, NO_LAST
    return last - previous, ""
