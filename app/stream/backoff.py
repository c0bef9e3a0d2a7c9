"""Reconnect pacing: capped full-jitter backoff that never gives up, inside a rolling connect budget.

Kraken counts every connect from an IP (about 150 per 10 minutes, then a 10-minute ban); Kalshi asks
clients to reconnect after maintenance no faster than every 5 s. Full jitter (AWS architecture blog):
``delay = uniform(0, min(cap, base * 2**attempt))``.
"""

from __future__ import annotations

import random
import time
from collections import deque


class Backoff:
    def __init__(
        self,
        base: float = 0.5,
        cap: float = 30.0,
        budget: int = 120,
        window: float = 600.0,
        rng: random.Random | None = None,
    ) -> None:
        self.base, self.cap = base, cap
        self.budget, self.window = budget, window
        self.attempt = 0
        self._attempts: deque[float] = deque()
        self._rng = rng or random.Random()

    def record_connect(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._attempts.append(now)
        while self._attempts and self._attempts[0] <= now - self.window:
            self._attempts.popleft()

    def succeeded(self) -> None:
        """The connection went live: the next failure starts from a short delay again."""
        self.attempt = 0

    def next_delay(self, minimum: float = 0.0, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        delay = self._rng.uniform(0, min(self.cap, self.base * 2**self.attempt))
        self.attempt = min(self.attempt + 1, 30)
        delay = max(delay, minimum)
        while self._attempts and self._attempts[0] <= now - self.window:
            self._attempts.popleft()
        if len(self._attempts) >= self.budget:  # wait until the oldest attempt leaves the window
            delay = max(delay, self._attempts[0] + self.window - now)
        return delay
