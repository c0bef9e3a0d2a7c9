"""Kraken endpoints (protocol/kraken.md §1.1, §5; docs/protocol-kraken-level3.md §1 for level3)."""

from __future__ import annotations

import os

from app.core.instruments import Environment

TOKEN_PATH = "/0/private/GetWebSocketsToken"
ASSET_PAIRS_PATH = "/0/public/AssetPairs"
TRADES_HISTORY_PATH = "/0/private/TradesHistory"


_PUBLIC = {Environment.LIVE: "wss://ws.kraken.com/v2", Environment.BETA: "wss://beta-ws.kraken.com/v2"}
_PRIVATE = {
    Environment.LIVE: "wss://ws-auth.kraken.com/v2",
    Environment.BETA: "wss://beta-ws-auth.kraken.com/v2",
}
REST_BASE = "https://api.kraken.com"


def public_ws_url(env: Environment | str = Environment.LIVE) -> str:
    return _PUBLIC[Environment(env)]


def private_ws_url(env: Environment | str = Environment.LIVE) -> str:
    return _PRIVATE[Environment(env)]


# The current docs put level3 on a host of its own; an older rendering said ws-auth (the protocol doc's
# §1). Kept here, once, and overridable without a release should Kraken move it again.
LEVEL3_URL = "wss://ws-l3.kraken.com/v2"
LEVEL3_URL_ENV = "MARKET_MONITOR_KRAKEN_LEVEL3_URL"


def level3_ws_url(env: Environment | str = Environment.LIVE) -> str | None:
    """The level3 host, or None where Kraken documents none (beta)."""
    override = os.environ.get(LEVEL3_URL_ENV, "").strip()
    if override:
        return override
    return LEVEL3_URL if Environment(env) is Environment.LIVE else None
