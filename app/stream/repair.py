"""When to ask a venue again for what a link should have: a fresh book snapshot for a watched market, or
a subscription the server has not acknowledged. Never gives up, never hammers.

A key (a market, or a channel) that breaks is asked for at once, but never twice within ``min_gap_s``.
While it stays broken it is asked again with capped exponential backoff: 2, 4, 6, 6 ... seconds. A key
that breaks again soon after a repair made it healthy is flapping (a feed whose repairs don't hold, e.g.
Kraken checksums failing right after every snapshot): its first request waits that backoff too, so it
cannot loop; it forgets once it has stayed healthy for ``stable_s``. The cap keeps a repair within seconds
of the fault ending (a book is live again well inside 10 s), far inside the venues' message rates (a
Kraken resync is two messages, and keys due together go in one command).

Pure bookkeeping with an injected clock: no I/O, no asyncio.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MIN_GAP_S = 1.0
BASE_S = 2.0
CAP_S = 6.0
FLAP_S = 5.0  # broken again this soon after healing: the repair did not hold
STABLE_S = 20.0


@dataclass(slots=True)
class _State:
    attempts: int = 0  # requests since the key broke (it is still broken after each)
    flaps: int = 0  # times it broke again soon after healing
    asked_at: float | None = None
    next_at: float = 0.0  # not asked again before this
    healthy_since: float | None = None
    broken: bool = False


class Repairs:
    def __init__(
        self,
        min_gap_s: float = MIN_GAP_S,
        base_s: float = BASE_S,
        cap_s: float = CAP_S,
        flap_s: float = FLAP_S,
        stable_s: float = STABLE_S,
    ) -> None:
        self.min_gap_s, self.base_s, self.cap_s = min_gap_s, base_s, cap_s
        self.flap_s, self.stable_s = flap_s, stable_s
        self._states: dict[str, _State] = {}
        self.sent = 0  # requests, over the owner's life

    def delay(self, n: int) -> float:
        """The wait after the ``n``-th request (or flap) in a row."""
        return min(self.cap_s, self.base_s * (1 << min(30, max(0, n - 1))))

    def broken(self, keys: Iterable[str], now: float) -> list[str]:
        """These keys need repair; returns the ones due now (then call ``asked`` for those sent)."""
        due = []
        for key in keys:
            state = self._states.get(key)
            if state is None:
                state = self._states[key] = _State()
            if not state.broken:
                state.broken = True
                healed = state.healthy_since
                if healed is not None and now - healed < self.flap_s:
                    state.flaps += 1
                    state.next_at = max(state.next_at, (state.asked_at or now) + self.delay(state.flaps))
                state.healthy_since = None
            if now >= state.next_at:
                due.append(key)
        return due

    def asked(self, keys: Iterable[str], now: float) -> None:
        for key in keys:
            state = self._states.setdefault(key, _State(broken=True))
            state.attempts += 1
            state.asked_at = now
            state.next_at = now + max(self.min_gap_s, self.delay(state.attempts))
            self.sent += 1

    def healthy(self, keys: Iterable[str], now: float) -> None:
        """These keys are fine now; each forgets its history once it has stayed fine for ``stable_s``."""
        states = self._states
        for key in keys:
            state = states.get(key)
            if state is None:
                continue
            if state.broken:
                state.broken = False
                state.attempts = 0
                state.healthy_since = now
                if state.asked_at is not None:  # the next break may be asked for after the minimum gap
                    state.next_at = state.asked_at + self.min_gap_s
            elif state.healthy_since is not None and now - state.healthy_since >= self.stable_s:
                del states[key]

    def forget(self, key: str) -> None:
        self._states.pop(key, None)

    def attempts(self, key: str) -> int:
        """Requests in a row that have not made the key healthy, plus the flaps that led here."""
        state = self._states.get(key)
        return 0 if state is None else state.attempts + state.flaps

    def retry_in(self, key: str, now: float) -> float | None:
        """Seconds until the next request for a broken key (0 when due), or None when it is not broken."""
        state = self._states.get(key)
        if state is None or not state.broken:
            return None
        return max(0.0, state.next_at - now)

    def pending(self) -> list[str]:
        """Keys that are broken now."""
        return [key for key, state in self._states.items() if state.broken]
