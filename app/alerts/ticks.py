"""Each market's price grid, where it is known, and whether a rule's level lies on it.

Kalshi grids are ``price_ranges`` (``[{start, end, step}]`` in dollars, from the REST market object and
lifecycle messages); Kraken's is the pair's ``price_increment`` (the ``instrument`` channel). The engine
learns both from the stream; a caller that knows them before connecting (the simulator's catalogue) seeds
them, so a rule off its market's grid is refused before anything starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from app.alerts.rules import Kind, PriceField, Rule
from app.alerts.units import price_shown
from app.core.events import Event, InstrumentUpdate, Lifecycle
from app.core.instruments import Venue

PriceRange = tuple[Decimal, Decimal, Decimal]  # start, end, step (dollars)


class Ticks:
    def __init__(self) -> None:
        self._kalshi: dict[str, tuple[PriceRange, ...]] = {}
        self._kraken: dict[str, Decimal] = {}

    def set_kalshi(self, market: str, ranges: Iterable[PriceRange]) -> None:
        kept = tuple(r for r in ranges if r[2] > 0 and r[0] <= r[1])
        if kept:
            self._kalshi[market] = kept

    def set_kraken(self, pair: str, increment: Decimal) -> None:
        if increment > 0:
            self._kraken[pair] = increment

    def learn(self, venue: Venue, ev: Event) -> list[str]:
        """Grids an event tells (Kraken instruments, Kalshi lifecycle ``price_ranges``): the markets whose
        grid it set."""
        if isinstance(ev, InstrumentUpdate):
            out = []
            for inst in ev.instruments:
                if inst.tick is not None and inst.tick > 0:
                    self._kraken[inst.symbol] = inst.tick
                    out.append(inst.symbol)
            return out
        if (
            isinstance(ev, Lifecycle)
            and venue is Venue.KALSHI
            and isinstance(ev.detail.get("price_ranges"), list)
        ):
            ranges: list[PriceRange] = []
            for item in ev.detail["price_ranges"]:
                with contextlib.suppress(InvalidOperation, TypeError, KeyError, ValueError):
                    ranges.append(
                        (Decimal(str(item["start"])), Decimal(str(item["end"])), Decimal(str(item["step"])))
                    )
            self.set_kalshi(ev.market, ranges)
            return [ev.market] if ev.market in self._kalshi else []
        return []

    def known(self, venue: Venue, market: str) -> bool:
        return market in (self._kalshi if venue is Venue.KALSHI else self._kraken)

    def tick_at(self, venue: Venue, market: str, price: Decimal | None = None) -> Decimal | None:
        """The grid step at ``price`` (the finest where two ranges meet; the first range's without a
        price), or None when the market's grid is not known."""
        if venue is Venue.KRAKEN:
            return self._kraken.get(market)
        ranges = self._kalshi.get(market)
        if not ranges:
            return None
        if price is None:
            return ranges[0][2]
        steps = [step for start, end, step in ranges if start <= price <= end]
        return min(steps) if steps else ranges[0][2]

    def band_at(
        self, venue: Venue, market: str, price: Decimal
    ) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        """``tick_at(price)`` and the open interval of prices around ``price`` that share it (None: no
        bound), so a caller can keep the step while its price stays inside. On a range's edge the interval
        is empty: the step there may be neither side's."""
        tick = self.tick_at(venue, market, price)
        if venue is Venue.KRAKEN or tick is None:
            return None, None, tick
        edges = {edge for start, end, _ in self._kalshi[market] for edge in (start, end)}
        if price in edges:
            return price, price, tick
        below = [e for e in edges if e < price]
        above = [e for e in edges if e > price]
        return (max(below) if below else None), (min(above) if above else None), tick

    def coarsest(self, venue: Venue, market: str) -> Decimal | None:
        """The market's largest grid step (where most of its prices are): a spread's default band."""
        if venue is Venue.KRAKEN:
            return self._kraken.get(market)
        ranges = self._kalshi.get(market)
        return max(step for _, _, step in ranges) if ranges else None

    def on_grid(self, venue: Venue, market: str, price: Decimal, half: bool = False) -> bool:
        """Whether ``price`` is a valid price (``half``: a mid, which may sit half a step between two);
        True when the grid is not known."""
        if venue is Venue.KRAKEN:
            tick = self._kraken.get(market)
            return tick is None or price % (tick / 2 if half else tick) == 0
        ranges = self._kalshi.get(market)
        if not ranges:
            return True
        return any(
            start <= price <= end and (price - start) % (step / 2 if half else step) == 0
            for start, end, step in ranges
        )

    def problem(self, rule: Rule, venue: Venue, market: str) -> str | None:
        """Why ``rule`` can't be right on this market's grid, in one sentence; None if it can."""
        if rule.value is None or not self.known(venue, market):
            return None
        if rule.kind is Kind.PRICE:
            half = rule.field in (PriceField.MID, PriceField.PROB)
            if not self.on_grid(venue, market, rule.value, half):
                tick = self.tick_at(venue, market, rule.value)
                assert tick is not None
                what = "a mid" if half else "a price"
                return (
                    f"{price_shown(venue, rule.value)} is not {what} {market} can show: its tick there is "
                    f"{price_shown(venue, tick)}"
                )
        elif rule.kind is Kind.SPREAD and not rule.ticks:
            tick = self.tick_at(venue, market)
            uniform = venue is Venue.KRAKEN or len(self._kalshi.get(market, ())) == 1
            if tick is not None and uniform and rule.value % tick != 0:
                return (
                    f"a spread of {price_shown(venue, rule.value)} is not a whole number of {market}'s "
                    f"{price_shown(venue, tick)} ticks"
                )
        return None
