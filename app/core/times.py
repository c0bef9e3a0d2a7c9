"""Exchange timestamps as the venues send them -> Unix milliseconds."""

from __future__ import annotations

from datetime import datetime


def parse_time_ms(value: object) -> int | None:
    """RFC 3339 (with 'Z' and up to nanoseconds, which 3.11's fromisoformat accepts) -> Unix ms."""
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value).timestamp() * 1000)
    except ValueError:
        return None


def exchange_ms(ts: int | str | None) -> int | None:
    """A book event's ``ts`` (Kalshi Unix ms, Kraken RFC 3339 text) -> Unix ms; None if absent or bad."""
    if type(ts) is int:
        return ts
    return parse_time_ms(ts)


def epoch(text: object) -> float | None:
    """RFC 3339 text (``Z`` or an offset) -> Unix seconds; None for anything else (REST close times)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
