"""The repair schedule: asked at once, never twice within the minimum gap, backing off while broken,
flapping keys backing off too, history forgotten once stable, and never giving up."""

from __future__ import annotations

import itertools

from app.stream.repair import Repairs


def test_a_new_break_is_due_at_once_and_not_again_before_the_backoff() -> None:
    r = Repairs()
    assert r.broken(["BTC/USD"], 100.0) == ["BTC/USD"]
    r.asked(["BTC/USD"], 100.0)
    assert r.broken(["BTC/USD"], 100.5) == []
    assert r.retry_in("BTC/USD", 100.5) == 1.5
    assert r.broken(["BTC/USD"], 102.0) == ["BTC/USD"]  # 2 s after the first request


def test_backoff_doubles_up_to_the_cap_and_never_stops() -> None:
    r = Repairs(base_s=2.0, cap_s=6.0)
    now, waits = 0.0, []
    for _ in range(8):
        assert r.broken(["m"], now) == ["m"]
        r.asked(["m"], now)
        waits.append(r.retry_in("m", now))
        now += r.retry_in("m", now) or 0.0
    assert waits == [2.0, 4.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0]
    assert r.attempts("m") == 8
    assert r.sent == 8


def test_healing_resets_the_attempts_and_a_later_break_is_due_after_the_minimum_gap() -> None:
    r = Repairs(min_gap_s=1.0, flap_s=5.0)
    r.broken(["m"], 0.0)
    r.asked(["m"], 0.0)
    r.healthy(["m"], 0.3)
    assert r.attempts("m") == 0 and r.retry_in("m", 0.3) is None and r.pending() == []
    # Broken again long after it healed: a new incident, asked for at once.
    assert r.broken(["m"], 10.0) == ["m"]


def test_a_key_that_breaks_right_after_healing_is_flapping_and_backs_off() -> None:
    r = Repairs(min_gap_s=1.0, base_s=2.0, cap_s=6.0, flap_s=5.0)
    now = 0.0
    asked_at = []
    for _ in range(6):
        due = r.broken(["m"], now)
        while not due:  # wait until it is due
            now += 0.1
            due = r.broken(["m"], now)
        r.asked(["m"], now)
        asked_at.append(round(now, 1))
        now += 0.2
        r.healthy(["m"], now)  # the snapshot verified...
        now += 0.1  # ...and the next update broke it again
    gaps = [b - a for a, b in itertools.pairwise(asked_at)]
    assert gaps[0] >= 2.0 and max(gaps) <= 6.2  # never a loop, never more than the cap apart
    assert r.attempts("m") >= 5  # the view says "unverified" for a flapping book


def test_stable_keys_are_forgotten() -> None:
    r = Repairs(stable_s=20.0)
    r.broken(["m"], 0.0)
    r.asked(["m"], 0.0)
    r.healthy(["m"], 1.0)
    r.healthy(["m"], 10.0)
    assert r.attempts("m") == 0
    r.healthy(["m"], 21.5)
    assert "m" not in r._states
    assert r.broken(["m"], 22.0) == ["m"]


def test_keys_are_independent() -> None:
    r = Repairs()
    assert r.broken(["a", "b"], 0.0) == ["a", "b"]
    r.asked(["a"], 0.0)
    assert r.broken(["a", "b"], 0.5) == ["b"]
    assert sorted(r.pending()) == ["a", "b"]
