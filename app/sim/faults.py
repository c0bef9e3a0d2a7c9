"""Faults the simulator can inject, switchable from the command line and at run time, and their log.

A spec is ``KIND[:key=value,...]``, e.g. ``drop:every=5``, ``skip-seq:every=200,venue=kalshi``,
``refuse:status=503,count=2``. ``venue=kalshi|kraken`` limits a fault to one venue (default both).

- ``drop``: the server aborts the TCP connection. ``every=S`` seconds (10) or ``p`` per frame.
- ``skip-seq``: a Kalshi sequenced frame is lost and its ``seq`` used up (a gap). ``every=N`` frames (200).
- ``bad-checksum``: a Kraken book frame carries a wrong checksum; its levels are right. ``every=N`` (200).
- ``malformed``: an extra frame of broken JSON. ``every=N`` frames (500).
- ``non-json``: an extra plain-text frame, like a proxy notice. ``every=N`` frames (500).
- ``unknown-type``: an extra frame of a message type no client knows. ``every=N`` frames (300).
- ``stall``: the socket stays open, nothing is sent, frames queue. ``every=S`` (10), ``seconds=S`` (3).
- ``refuse``: the handshake gets HTTP ``status`` (503; 401, 403, 429, 500). ``count=N`` (1) or ``p``.
- ``throttle``: frames to each connection are paced to ``rate`` per second (200).
- ``burst``: ``size`` market steps at once (2000), every ``every`` seconds (10).

``count=N`` (any kind) stops a fault after it fired N times. Several specs of one kind run together (e.g.
``refuse:status=503,p=0.2`` beside ``refuse:status=429,p=0.1``). Every firing is logged.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

KINDS = (
    "drop",
    "skip-seq",
    "bad-checksum",
    "malformed",
    "non-json",
    "unknown-type",
    "stall",
    "refuse",
    "throttle",
    "burst",
)
FRAME_KINDS = ("skip-seq", "bad-checksum", "malformed", "non-json", "unknown-type")
VENUES = ("kalshi", "kraken")
_DEFAULTS: dict[str, dict[str, float]] = {
    "drop": {"every": 10},
    "skip-seq": {"every": 200},
    "bad-checksum": {"every": 200},
    "malformed": {"every": 500},
    "non-json": {"every": 500},
    "unknown-type": {"every": 300},
    "stall": {"every": 10, "seconds": 3},
    "refuse": {"status": 503, "count": 1},
    "throttle": {"rate": 200},
    "burst": {"size": 2000, "every": 10},
}
_KEYS = {"every", "p", "status", "count", "seconds", "rate", "size", "venue"}


class FaultSpecError(ValueError):
    """A ``--fault`` spec that can't be understood; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class FaultSpec:
    kind: str
    venue: str | None = None
    every: float | None = None
    p: float | None = None
    status: int | None = None
    count: int | None = None
    seconds: float | None = None
    rate: float | None = None
    size: int | None = None

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        kind, _, rest = text.strip().partition(":")
        if kind not in KINDS:
            raise FaultSpecError(f"unknown fault {kind!r} in {text!r}; known: {', '.join(KINDS)}")
        values: dict[str, float | str] = {}
        for item in filter(None, rest.split(",")):
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or key not in _KEYS:
                raise FaultSpecError(
                    f"bad option {item!r} in fault {text!r}; use key=value with keys "
                    f"{', '.join(sorted(_KEYS))}"
                )
            if key == "venue":
                if value not in VENUES:
                    raise FaultSpecError(f"venue must be kalshi or kraken in {text!r}")
                values[key] = value
                continue
            try:
                number = float(value)
            except ValueError:
                raise FaultSpecError(f"{key} must be a number in fault {text!r}") from None
            if number < 0 or (key == "p" and number > 1):
                raise FaultSpecError(f"{key}={value} is out of range in fault {text!r}")
            values[key] = number
        options: dict[str, float | str] = dict(_DEFAULTS[kind])
        if "p" in values:  # a probability replaces the default period (and refuse's default count)
            options.pop("every", None)
            if kind == "refuse":
                options.pop("count", None)
        options.update(values)
        if kind == "refuse" and int(options.get("status", 503)) not in (401, 403, 429, 500, 503):
            raise FaultSpecError(f"refuse status must be 401, 403, 429, 500 or 503 in {text!r}")
        if "every" in options and float(options["every"]) <= 0:
            raise FaultSpecError(f"every must be positive in fault {text!r}")

        def num(key: str) -> float | None:
            value = options.get(key)
            return float(value) if value is not None else None

        def whole(key: str) -> int | None:
            value = options.get(key)
            return int(float(value)) if value is not None else None

        venue = options.get("venue")
        return cls(
            kind=kind,
            venue=str(venue) if venue else None,
            every=num("every"),
            p=num("p"),
            status=whole("status"),
            count=whole("count"),
            seconds=num("seconds"),
            rate=num("rate"),
            size=whole("size"),
        )

    def applies(self, venue: str) -> bool:
        return self.venue is None or self.venue == venue

    def text(self) -> str:
        parts = [
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in asdict(self).items()
            if k != "kind" and v is not None
        ]
        return self.kind + (":" + ",".join(parts) if parts else "")


@dataclass(slots=True)
class FaultRecord:
    kind: str
    venue: str
    conn: int | None
    detail: str
    ts: float = field(default_factory=time.time)


class Faults:
    """The active fault specs, the decisions they make, and the log of every firing."""

    def __init__(
        self,
        specs: Iterable[FaultSpec] = (),
        seed: int = 0,
        on_record: Callable[[FaultRecord], None] | None = None,
    ) -> None:
        self.rng = random.Random(seed ^ 0x5EED)
        self.log: list[FaultRecord] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self.on_record = on_record
        self.specs: list[FaultSpec] = []
        self._fired: Counter[FaultSpec] = Counter()
        self._frames: Counter[tuple[int, str]] = Counter()  # (conn, kind) -> frames counted
        self.set(specs)

    def set(self, specs: Iterable[FaultSpec]) -> None:
        """Replace the active faults (counters start again)."""
        self.specs = list(specs)
        self._fired.clear()
        self._frames.clear()

    def active(self, kind: str, venue: str) -> FaultSpec | None:
        return next(iter(self.all_active(kind, venue)), None)

    def all_active(self, kind: str, venue: str) -> list[FaultSpec]:
        """Every live spec of ``kind`` for ``venue``: several may run together (``refuse`` with 503 and 429,
        short stalls and ones longer than a client's watchdog)."""
        return [
            spec
            for spec in self.specs
            if spec.kind == kind
            and spec.applies(venue)
            and (spec.count is None or self._fired[spec] < spec.count)
        ]

    def record(self, spec: FaultSpec, venue: str, conn: int | None, detail: str = "") -> None:
        self._fired[spec] += 1
        rec = FaultRecord(spec.kind, venue, conn, detail)
        self.log.append(rec)
        self.counts[(spec.kind, venue)] += 1
        if self.on_record is not None:
            self.on_record(rec)

    def note(self, kind: str, venue: str, conn: int | None, detail: str = "") -> None:
        """Log something the simulator did that no spec asked for (a buffer overflow, a blast)."""
        rec = FaultRecord(kind, venue, conn, detail)
        self.log.append(rec)
        self.counts[(kind, venue)] += 1
        if self.on_record is not None:
            self.on_record(rec)

    def count(self, kind: str, venue: str | None = None) -> int:
        return sum(n for (k, v), n in self.counts.items() if k == kind and (venue is None or v == venue))

    # ---------------------------------------------------------------- decisions

    def refuse(self, venue: str, conn: int) -> int | None:
        """The HTTP status to refuse this handshake with, or None (each refuse spec gets its chance)."""
        for spec in self.all_active("refuse", venue):
            if spec.p is not None and self.rng.random() >= spec.p:
                continue
            status = spec.status or 503
            self.record(spec, venue, conn, f"HTTP {status}")
            return status
        return None

    def frame(self, kind: str, venue: str, conn: int) -> bool:
        """Whether frame fault ``kind`` fires on this (eligible) frame of connection ``conn``."""
        spec = self.active(kind, venue)
        if spec is None:
            return False
        if spec.p is not None:
            fire = self.rng.random() < spec.p
        else:
            key = (conn, kind)
            self._frames[key] += 1
            fire = self._frames[key] % int(spec.every or 1) == 0
        if fire:
            self.record(spec, venue, conn)
        return fire

    def drop_now(self, venue: str, conn: int) -> bool:
        """Per-frame chance of a drop (``drop:p=...``)."""
        spec = self.active("drop", venue)
        if spec is None or spec.p is None or self.rng.random() >= spec.p:
            return False
        self.record(spec, venue, conn, "random")
        return True

    def snapshot(self) -> dict[str, object]:
        return {
            "active": [s.text() for s in self.specs],
            "counts": {f"{k}/{v}": n for (k, v), n in sorted(self.counts.items())},
        }


def print_record(rec: FaultRecord) -> None:
    """The CLI's log line for a fault: one JSON object on stderr."""
    print(
        json.dumps(
            {
                "fault": rec.kind,
                "venue": rec.venue,
                "conn": rec.conn,
                "detail": rec.detail,
                "ts": round(rec.ts, 3),
            }
        ),
        file=sys.stderr,
        flush=True,
    )
