"""Kalshi WebSocket error codes (protocol/kalshi.md §5.1)."""

from __future__ import annotations

ERROR_MESSAGES: dict[int, str] = {
    1: "Unable to process message",
    2: "Params required",
    3: "Channels required",
    4: "Subscription IDs required",
    5: "Unknown command",
    6: "Already subscribed (retired)",
    7: "Unknown subscription ID",
    8: "Unknown channel name",
    9: "Authentication required",
    10: "Channel error",
    11: "Invalid parameter",
    12: "Exactly one subscription ID is required",
    13: "Unsupported action",
    14: "Market Ticker required",
    15: "Action required",
    16: "Market not found (retired)",
    17: "Internal error (retired)",
    18: "Command timeout",
    19: "shard_factor must be > 0",
    20: "shard_factor is required when shard_key is set",
    21: "shard_key must be >= 0 and < shard_factor",
    22: "shard_factor must be <= 100",
    23: "Match IDs required",
    24: "Index IDs required",
    25: "Subscription buffer overflow",
    26: "Subscription market limit exceeded",
    27: "Too many requests",
    28: "Underlying tickers required",
}

# "The following channel errors are terminal and the user must resubscribe": 10 and 25 (17 was, before
# it was retired; an old server may still send it, so it stays terminal here).
TERMINAL_CODES = frozenset({10, 17, 25})


def describe(code: int | None, message: str | None) -> str:
    known = ERROR_MESSAGES.get(code) if code is not None else None
    text = message or known or "error"
    return f"Kalshi error {code}: {text}" if code is not None else f"Kalshi error: {text}"
