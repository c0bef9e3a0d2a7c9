"""One total over many per-market histories, so memory stays flat however many markets pass through.

Each history (a tape deque, a candle dict) has its own cap; the budget counts their items together and,
when the total passes its limit, trims every history to an equal share (oldest items first). A busy
market gives way before a quiet one, whose few items may span hours; none is cut below ``floor``
unless so many histories are held that the floor alone would pass the limit (the limit is what holds).
The trim goes to 90 % of the limit, so it runs once per many thousand items, not per item.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from typing import Any

Trimmable = deque[Any] | OrderedDict[Any, Any]

HEADROOM = 0.9  # a trim leaves this share of the limit used


class Budget:
    __slots__ = ("_threshold", "floor", "limit", "trims", "used")

    def __init__(self, limit: int, floor: int) -> None:
        self.limit = limit
        self.floor = floor
        self.used = 0  # items held, over every history (exact right after a trim)
        self.trims = 0
        self._threshold = limit

    def grew(self, n: int = 1) -> bool:
        """Count ``n`` new items; True when it is time to ``trim``."""
        self.used += n
        return self.used > self._threshold

    def trim(self, histories: Iterable[Trimmable]) -> None:
        held = [h for h in histories if h]
        total = sum(len(h) for h in held)
        target = int(self.limit * HEADROOM)
        if total > target:
            # The equal share that brings the total to the target: histories shorter than it keep all.
            lengths = sorted(len(h) for h in held)
            share, rest, count = target, target, len(lengths)
            for i, n in enumerate(lengths):
                share = rest // (count - i)
                if n > share:
                    break
                rest -= n
            # The floor gives way only when there are so many histories that it alone would pass the limit.
            share = max(share, min(self.floor, target // len(held)), 1)
            for h in held:
                excess = len(h) - share
                if excess <= 0:
                    continue
                if isinstance(h, deque):
                    for _ in range(excess):
                        h.popleft()
                else:
                    for _ in range(excess):
                        h.popitem(last=False)
                total -= excess
        self.used = total
        self.trims += 1
        # Beyond ``target`` histories, one item each passes the limit: then wait for real growth again.
        self._threshold = max(self.limit, int(total / HEADROOM))
