"""Price grouping for a depth ladder: a book's levels summed into buckets a whole number of ticks wide.

Everything is in the book's integer units (``core.numbers``), so a bucket's size is the exact sum of the
levels in it: no float ever touches a size. Bids round down to their bucket's floor and asks up to its
ceiling, as trading screens do, so a grouped bid never shows a price higher than a real bid (nor a grouped
ask a lower one) and the two sides never meet. No Qt here.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from app.core.events import Level

GROUP_MULTIPLES = (1, 10, 100, 1000)  # a pair's grouping choices: its tick times these


def group_side(levels: Iterable[Level], step: int, is_bid: bool) -> list[Level]:
    """Levels (best first, prices in units) summed into ``step``-unit buckets, best first.

    >>> group_side([(67125, 3), (67121, 2), (67119, 5)], 10, is_bid=True)
    [(67120, 5), (67110, 5)]
    """
    if step < 1:
        raise ValueError(f"a price group must be at least one unit wide, not {step}")
    out: list[Level] = []
    for price, size in levels:
        bucket = (price // step) * step if is_bid else -((-price) // step) * step
        if out and out[-1][0] == bucket:
            out[-1] = (bucket, out[-1][1] + size)
        else:
            out.append((bucket, size))
    return out


def step_units(step: Decimal, price_decimals: int) -> int:
    """A group width in price units at ``price_decimals``; a width finer than one unit, or not a whole
    number of them, is refused in words."""
    units = step.scaleb(price_decimals)
    if step <= 0 or units != units.to_integral_value() or units < 1:
        raise ValueError(f"a price group of {step} is not a whole number of this book's ticks")
    return int(units)


def group_choices(tick: Decimal, price: Decimal | None = None) -> list[Decimal]:
    """The widths to offer for a pair with this tick: the tick times 1, 10, 100, 1000, leaving out those
    wider than a tenth of ``price`` (a group that wide would put the whole book in one or two rows)."""
    if tick <= 0:
        return []
    out = [(tick * m).normalize() for m in GROUP_MULTIPLES]
    if price is not None and price > 0:
        out = [step for step in out if step == out[0] or step * 10 <= price]
    # normalize() writes 100 as 1E+2: whole widths are given back as plain integers
    return [step.quantize(Decimal(1)) if step == step.to_integral_value() else step for step in out]
