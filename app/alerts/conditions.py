"""A rule's condition on one number: where it turns true, where it re-arms, and the levels in between
which nothing can change (so a market's watch looks only at rules whose levels a change crossed).

Values and levels are exact: ints (book units) or Fractions (ratios, tick counts, trade prices), never
floats.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Protocol

Number = int | Fraction  # book units are ints; tick counts and trade prices Fractions


class Condition(Protocol):
    def cond(self, v: Any) -> bool: ...

    def rearm(self, v: Any) -> bool: ...

    def levels(self) -> tuple[Number, ...]: ...


def exact(value: Fraction) -> int | Fraction:
    """An int where the value is whole (book units compare fastest as ints)."""
    return value.numerator if value.denominator == 1 else value


class Level:
    """``up``: true at ``level`` or more (more than, when ``strict``); otherwise at ``level`` or less.
    Re-armed once the value is back past ``band`` (with no band: as soon as it is false)."""

    __slots__ = ("back", "band", "level", "strict", "up")

    def __init__(self, up: bool, level: Number, band: Number, strict: bool) -> None:
        self.up, self.level, self.band, self.strict = up, level, band, strict
        self.back = level - band if up else level + band

    def cond(self, v: Number) -> bool:
        if self.up:
            return v > self.level if self.strict else v >= self.level
        return v < self.level if self.strict else v <= self.level

    def rearm(self, v: Number) -> bool:
        if not self.band:
            return not self.cond(v)
        return v <= self.back if self.up else v >= self.back

    def levels(self) -> tuple[Number, ...]:
        return (self.level, self.back)


class Beyond:
    """True above ``ratio`` or below its inverse (an imbalance either way); re-armed back inside the band."""

    __slots__ = ("band", "high", "low")

    def __init__(self, ratio: Number, band: Number) -> None:
        self.high, self.low, self.band = ratio, Fraction(1) / ratio, band

    def cond(self, v: Number) -> bool:
        return v > self.high or v < self.low

    def rearm(self, v: Number) -> bool:
        if not self.band:
            return not self.cond(v)
        return self.low + self.band <= v <= self.high - self.band

    def levels(self) -> tuple[Number, ...]:
        return (self.low, self.high, self.low + self.band, self.high - self.band)


Pair = tuple[int, int]  # a ratio as (numerator, denominator > 0): compared by cross-multiplying, no gcd


class PairLevel:
    """``Level`` for a ratio kept as a pair (an imbalance's size sums, a spread over a tick), strict."""

    __slots__ = ("back_d", "back_n", "band", "level", "level_d", "level_n", "up")

    def __init__(self, up: bool, level: Fraction, band: Fraction) -> None:
        self.up, self.level, self.band = up, level, band
        self.level_n, self.level_d = level.numerator, level.denominator
        back = level - band if up else level + band
        self.back_n, self.back_d = back.numerator, back.denominator

    def cond(self, v: Pair) -> bool:
        n, d = v
        if self.up:
            return n * self.level_d > self.level_n * d
        return n * self.level_d < self.level_n * d

    def rearm(self, v: Pair) -> bool:
        if not self.band:
            return not self.cond(v)
        n, d = v
        if self.up:
            return n * self.back_d <= self.back_n * d
        return n * self.back_d >= self.back_n * d

    def levels(self) -> tuple[Fraction, ...]:
        return (self.level, self.level - self.band if self.up else self.level + self.band)


class PairBeyond:
    """``Beyond`` for a ratio kept as a pair."""

    __slots__ = ("high", "low", "rearm_high", "rearm_low")

    def __init__(self, ratio: Fraction, band: Fraction) -> None:
        self.high, self.low = PairLevel(True, ratio, Fraction(0)), PairLevel(False, 1 / ratio, Fraction(0))
        self.rearm_high = PairLevel(True, ratio - band, Fraction(0)) if band else None
        self.rearm_low = PairLevel(False, 1 / ratio + band, Fraction(0)) if band else None

    def cond(self, v: Pair) -> bool:
        return self.high.cond(v) or self.low.cond(v)

    def rearm(self, v: Pair) -> bool:
        if self.rearm_high is None or self.rearm_low is None:
            return not self.cond(v)
        return not self.rearm_high.cond(v) and not self.rearm_low.cond(v)

    def levels(self) -> tuple[Fraction, ...]:
        if self.rearm_high is None or self.rearm_low is None:
            return (self.high.level, self.low.level)
        return (self.high.level, self.low.level, self.rearm_high.level, self.rearm_low.level)
