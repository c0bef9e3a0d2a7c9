"""What an alert rule is: its kind, its target, its condition and how it fires, plus what it has done.

The rule's text (the grammar of ``alerts.grammar``) is what the user wrote and what is kept; everything
else here is parsed from it, except the record of firings and the switches the window sets (enabled,
sound). Prices are Decimals in the venue's wire units (Kalshi dollars, Kraken quote currency); the text
shows them in the market's own units (Kalshi cents).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from dataclasses import field as _field
from decimal import Decimal
from enum import StrEnum

from app.core.instruments import Venue


class Kind(StrEnum):
    PRICE = "price"  # last, bid, ask, mid or Kalshi YES probability crosses a level
    SPREAD = "spread"  # ask - bid wider than a price or a number of ticks
    IMBALANCE = "imbalance"  # bid size / ask size over the top N levels beyond a ratio
    VOLUME = "volume"  # traded size over the last T seconds above V
    MOVE = "move"  # the last trade moved more than P % from a price of the last T seconds
    STALE = "stale"  # no live data for S seconds (a market, or a whole venue), then back
    DOWN = "down"  # a venue's connection dropped (for S seconds), then back
    FILL = "fill"  # one of the user's fills arrived
    POSITION = "position"  # a Kalshi position or a Kraken balance changed
    STATUS = "status"  # a Kalshi market's lifecycle changed (paused, closed, determined, settled)


class PriceField(StrEnum):
    LAST = "last"
    BID = "bid"
    ASK = "ask"
    MID = "mid"
    PROB = "prob"  # Kalshi: the YES mid read as a probability


class Op(StrEnum):
    ABOVE = "above"
    BELOW = "below"
    BEYOND = "beyond"  # imbalance: above the ratio or below its inverse


class Mode(StrEnum):
    ONCE = "once"  # fires once, then the rule is done
    EVERY = "every"  # fires each time, re-armed once the value goes back past the band


ALL = "*"  # a target market meaning every watched market (of the venue, or of both)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a rule looks: one market, every watched market (``market == "*"``) of one venue or of both
    (``venue is None``), or a venue as a whole (``market is None``: its connection, or any of its fills)."""

    venue: Venue | None
    market: str | None

    @property
    def single(self) -> bool:
        return self.venue is not None and self.market is not None and self.market != ALL

    def text(self) -> str:
        if self.venue is None:
            return ALL
        return self.venue.value if self.market is None else f"{self.venue.value}:{self.market}"

    def covers(self, venue: Venue, market: str) -> bool:
        return (self.venue is None or self.venue is venue) and self.market in (None, ALL, market)


@dataclass(slots=True)
class Rule:
    text: str  # as the user wrote it (the CLI prints it back; the settings keep it)
    kind: Kind
    target: Target
    field: PriceField | None = None
    op: Op | None = None
    value: Decimal | None = None  # the level: a price (wire units), ticks, a ratio, a size or a percent
    ticks: bool = False  # spread: ``value`` counts ticks
    levels: int = 5  # imbalance: the top N levels of each side
    window_s: float | None = None  # volume, move: T; stale, down: S
    direction: str | None = None  # move: "up", "down" or None for either
    statuses: frozenset[str] = frozenset()  # status: the words that fire (empty: any change)
    mode: Mode = Mode.EVERY
    band: Decimal | None = None  # re-arm band in the value's units; None: one tick for prices, else 0
    cooldown_s: float = 0.0
    expires_at: float | None = None  # Unix seconds
    initial: bool = False  # also fire when a (re)connect's snapshot finds the condition already true
    # Kept with the rule, changed by the window and the engine.
    id: str = _field(default_factory=lambda: uuid.uuid4().hex[:12])
    enabled: bool = True
    sound: bool = True
    created_at: float = 0.0  # Unix seconds (a relative expiry counts from here)
    fired: int = 0
    last_fired_at: float | None = None  # Unix seconds
    done: bool = False  # a "once" rule that fired, or an expired one

    @property
    def active(self) -> bool:
        return self.enabled and not self.done

    def expired(self, wall: float) -> bool:
        return self.expires_at is not None and wall >= self.expires_at

    def state_json(self) -> dict[str, object]:
        """What is kept besides the text (the settings file, an export)."""
        return {
            "id": self.id,
            "rule": self.text,
            "enabled": self.enabled,
            "sound": self.sound,
            "created_at": self.created_at,
            "fired": self.fired,
            "last_fired_at": self.last_fired_at,
            "done": self.done,
        }
