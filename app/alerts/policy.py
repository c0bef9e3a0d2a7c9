"""When a rule fires: only on a false-to-true change of its condition, while armed.

One ``Arm`` per rule and market. A firing disarms it; it re-arms once the value goes back past the
rule's band (``rearm``), so a value jittering around the level fires once, not every message. A
baseline (a snapshot after a (re)connect or a resync, or the first value a new rule sees) never fires,
unless the rule says ``initial``, and then only if it was armed: a condition that was true before a
reconnect and still is after it fires nothing. A cooldown swallows a firing that comes too soon after
the last one (the arm still waits to re-arm); an expired rule fires nothing.
"""

from __future__ import annotations

from app.alerts.rules import Rule


class Arm:
    __slots__ = ("armed", "last_fire")

    def __init__(self) -> None:
        self.armed = True
        self.last_fire: float | None = None  # monotonic seconds


def decide(rule: Rule, arm: Arm, cond: bool, rearm: bool, *, baseline: bool, now: float, wall: float) -> bool:
    """Whether this observation fires the rule (and the arm's new state)."""
    if not cond:
        if rearm:
            arm.armed = True
        return False
    if not arm.armed:
        return False
    arm.armed = False
    if baseline and not rule.initial:
        return False
    if not rule.active or rule.expired(wall):
        return False
    if rule.cooldown_s and arm.last_fire is not None and now - arm.last_fire < rule.cooldown_s:
        return False
    arm.last_fire = now
    return True
