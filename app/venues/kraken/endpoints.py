"""Kraken endpoints (protocol/kraken.md §1.1, §5)."""

from __future__ import annotations

from enum import StrEnum

TOKEN_PATH = "/0/private/GetWebSocketsToken"
ASSET_PAIRS_PATH = "/0/public/AssetPairs"
TRADES_HISTORY_PATH = "/0/private/TradesHistory"


class KrakenEnv(StrEnum):
    LIVE = "live"
    BETA = "beta"


_PUBLIC = {KrakenEnv.LIVE: "wss://ws.kraken.com/v2", KrakenEnv.BETA: "wss://beta-ws.kraken.com/v2"}
_PRIVATE = {KrakenEnv.LIVE: "wss://ws-auth.kraken.com/v2", KrakenEnv.BETA: "wss://beta-ws-auth.kraken.com/v2"}
REST_BASE = "https://api.kraken.com"


def public_ws_url(env: KrakenEnv | str = KrakenEnv.LIVE) -> str:
    return _PUBLIC[KrakenEnv(env)]


def private_ws_url(env: KrakenEnv | str = KrakenEnv.LIVE) -> str:
    return _PRIVATE[KrakenEnv(env)]
