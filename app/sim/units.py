"""Exact number text for the simulator's wire, from integer units.

Kalshi: prices in 1/10 000 dollar, sizes in 1/100 contract. Kraken: a pair's price and quantity are
integers scaled by its ``price_precision`` / ``qty_precision``. Text is built from integers, so it
is always plain decimal with exactly the wanted decimals (never floats, never exponent form).
"""

from __future__ import annotations

DOLLAR = 10_000  # Kalshi price units per $1.00
CONTRACT = 100  # Kalshi size units per contract


def fixed(units: int, decimals: int) -> str:
    """``fixed(12345, 4) == "1.2345"``, ``fixed(-5, 2) == "-0.05"``, ``fixed(7, 0) == "7"``."""
    sign = "-" if units < 0 else ""
    units = abs(units)
    if decimals == 0:
        return f"{sign}{units}"
    whole, frac = divmod(units, 10**decimals)
    return f"{sign}{whole}.{frac:0{decimals}d}"


def dollars(units: int) -> str:
    """A Kalshi ``*_dollars`` string (4 decimals)."""
    return fixed(units, 4)


def contracts(units: int) -> str:
    """A Kalshi ``*_fp`` string (2 decimals)."""
    return fixed(units, 2)


def parse_fixed(text: str, decimals: int) -> int:
    """The inverse of :func:`fixed` for simulator input (REST query values, test truth)."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("+-").partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > decimals:
        raise ValueError(f"not a number with at most {decimals} decimals: {text!r}")
    scale: int = 10**decimals
    return sign * (int(whole) * scale + int(frac.ljust(decimals, "0") or "0"))
