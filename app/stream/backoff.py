"""Reconnect pacing: capped full-jitter backoff that never gives up, inside a connect budget.

Kraken counts every connect from an IP (about 150 per 10 minutes, then a 10-minute ban); Kalshi asks
clients to reconnect after maintenance no faster than every 5 s. Full jitter (AWS architecture blog):
``delay = uniform(0, min(cap, base * 2**attempt))``.

The cap is short (6 s) so a link is back within seconds of the venue coming back, whatever happened
before. The budget is what keeps a long outage polite: a token bucket of ``burst`` connects refilled at
``per_window`` per ``window`` seconds, so no 10 minutes hold more than ``burst + per_window`` (70) connects
per link, and a Kraken profile's two links stay under Kraken's 150. A bucket rather than a rolling count:
once spent it paces one connect every ~13 s instead of going silent until the oldest attempt ages out.
Refusals with 429/503 wait at least 5 s on top (``Connection``).
"""

from __future__ import annotations

import random
import time


class Backoff:
    def __init__(
        self,
        *,
        base: float = 0.5,
        cap: float = 6.0,
        burst: int = 25,
        per_window: int = 45,
        window: float = 600.0,
        rng: random.Random | None = None,
    ) -> None:
        self.base, self.cap = base, cap
        self.burst = float(burst)
        self.refill_per_s = per_window / window
        self.attempt = 0
        self._tokens = float(burst)
        self._at: float | None = None  # when the bucket was last brought up to date
        self._rng = rng or random.Random()

    def _refill(self, now: float) -> None:
        if self._at is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.refill_per_s)
        self._at = now

    def record_connect(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._refill(now)
        self._tokens -= 1.0

    def succeeded(self) -> None:
        """The connection went live: the next failure starts from a short delay again."""
        self.attempt = 0

    def next_delay(self, minimum: float = 0.0, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        delay = self._rng.uniform(0, min(self.cap, self.base * 2**self.attempt))
        self.attempt = min(self.attempt + 1, 30)
        delay = max(delay, minimum)
        self._refill(now)
        if self._tokens < 1.0:  # the budget is spent: wait for the next token
            delay = max(delay, (1.0 - self._tokens) / self.refill_per_s)
        return delay

    def tokens(self, now: float | None = None) -> float:
        """Connects left in the budget now."""
        self._refill(time.monotonic() if now is None else now)
        return self._tokens
