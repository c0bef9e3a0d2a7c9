"""A rule's condition on one number: where it turns true, where it re-arms, and the levels in between
which nothing can change (so a market's watch looks only at rules whose levels a change crossed).

Values and levels are exact: ints (book units) or Fractions (ratios, tick counts, trade prices), never
floats.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Protocol

Number = int | Fraction  # book units are ints; ratios, tick counts and trade prices Fractions


class Condition(Protocol):
    def cond(self, v: Number) -> bool: ...

    def rearm(self, v: Number) -> bool: ...

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
