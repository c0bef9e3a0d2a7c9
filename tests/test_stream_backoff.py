"""Reconnect pacing: full jitter under a short cap, the 429/503 floor, and a connect budget that keeps any
10 minutes under the venues' limits yet never goes silent."""

from __future__ import annotations

import itertools
import random

from app.stream.backoff import Backoff


def test_full_jitter_grows_to_the_cap_and_resets_on_success() -> None:
    b = Backoff(base=0.5, cap=6.0, rng=random.Random(1))
    ceilings = []
    for _ in range(10):
        ceilings.append(min(b.cap, b.base * 2**b.attempt))
        delay = b.next_delay(now=0.0)
        assert 0.0 <= delay <= ceilings[-1]
    assert ceilings[:5] == [0.5, 1.0, 2.0, 4.0, 6.0] and max(ceilings) == 6.0
    b.succeeded()
    assert b.next_delay(now=0.0) <= 0.5


def test_a_minimum_is_honoured() -> None:
    b = Backoff(rng=random.Random(2))
    assert all(b.next_delay(5.0, now=0.0) >= 5.0 for _ in range(20))


def test_the_budget_caps_every_ten_minutes_and_then_paces_instead_of_going_silent() -> None:
    b = Backoff(base=0.0, cap=0.0, burst=25, per_window=45, window=600.0)
    now, connects = 0.0, []
    while now < 3600.0:  # a client that fails at once, every time, for an hour
        b.record_connect(now)
        connects.append(now)
        now += b.next_delay(now=now)
    for start in range(0, 3000, 60):  # no 10-minute window holds more than burst + refill
        assert sum(1 for t in connects if start <= t < start + 600) <= 25 + 45
    gaps = [b2 - a for a, b2 in itertools.pairwise(connects[30:])]
    assert max(gaps) <= 600 / 45 + 1e-6  # once spent: one connect every ~13 s, never a long silence
    assert len(connects) >= 25 + 45 * 5


def test_the_budget_refills_when_idle() -> None:
    b = Backoff(burst=25, per_window=45)
    for _ in range(25):
        b.record_connect(0.0)
    assert b.tokens(0.0) == 0.0
    assert b.next_delay(now=0.0) >= 600 / 45 - 1e-9
    assert b.tokens(10_000.0) == 25.0
