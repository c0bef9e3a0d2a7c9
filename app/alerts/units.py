"""Values as a rule and a firing show them: Kalshi prices in cents, probabilities in percent, the rest as
exact decimal text without exponent form or needless trailing zeros."""

from __future__ import annotations

from decimal import Decimal

from app.core.instruments import Venue


def plain(value: Decimal) -> str:
    """Exact decimal text, trailing zeros dropped: ``Decimal('55.00')`` -> ``'55'``."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def cents(dollars: Decimal) -> str:
    """A Kalshi dollar price in cents, exactly: ``0.555`` -> ``'55.5'``."""
    return plain(dollars * 100)


def price_text(venue: Venue, dollars: Decimal) -> str:
    """A price in the market's own units as exact decimal text: Kalshi cents; Kraken's quote currency
    at the precision it came in (``45285.20`` stays so)."""
    return cents(dollars) if venue is Venue.KALSHI else format(dollars, "f")


def price_shown(venue: Venue, dollars: Decimal) -> str:
    """The same with its unit, for people: ``97c``, ``95000.5``."""
    return f"{cents(dollars)}c" if venue is Venue.KALSHI else plain(dollars)
