"""Kraken endpoints (protocol/kraken.md §1.1, §5)."""

from __future__ import annotations

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
