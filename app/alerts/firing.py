"""One firing of a rule, and the two ways ``stream --alert`` prints it (a line, or a JSON object)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from app.alerts.rules import Rule


@dataclass(frozen=True, slots=True)
class Firing:
    rule: Rule
    market: str  # "venue:market", or the venue alone for a venue's connection
    value: str  # exact decimal text in the rule's units (a status word for a lifecycle rule)
    shown: str  # the value as people read it: "55c", "41.5%", "stale 5.2 s"
    ts_ms: int | None  # the exchange's time of the event that fired it
    received_ms: int  # local time, Unix ms
    trade_id: str | None = None  # when a trade (or one of the user's fills) fired it
    up: bool = True  # which sound: up (a rise, a recovery) or down
    state: str | None = None  # stale and down rules: "stale"/"down", then "back"

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "type": "alert",
            "rule": self.rule.text,
            "market": self.market,
            "value": self.value,
            "ts_ms": self.ts_ms,
            "received_ms": self.received_ms,
            "trade_id": self.trade_id,
        }
        if self.state is not None:
            out["state"] = self.state
        return out

    def json_line(self) -> str:
        return json.dumps(self.as_json())

    def line(self) -> str:
        t = self.received_ms / 1000
        clock = time.strftime("%H:%M:%S", time.localtime(t)) + f".{self.received_ms % 1000:03d}"
        trade = f" trade {self.trade_id}" if self.trade_id else ""
        return f"{clock} ALERT {self.market} {self.shown}{trade}  [{self.rule.text}]"
