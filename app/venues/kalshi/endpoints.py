"""Kalshi hosts per environment (protocol/kalshi.md §1)."""

from __future__ import annotations

from enum import StrEnum

WS_PATH = "/trade-api/ws/v2"
REST_PREFIX = "/trade-api/v2"


class KalshiEnv(StrEnum):
    PRODUCTION = "production"
    DEMO = "demo"


_WS = {
    KalshiEnv.PRODUCTION: "wss://external-api-ws.kalshi.com" + WS_PATH,
    KalshiEnv.DEMO: "wss://external-api-ws.demo.kalshi.co" + WS_PATH,
}
_REST = {
    KalshiEnv.PRODUCTION: "https://external-api.kalshi.com" + REST_PREFIX,
    KalshiEnv.DEMO: "https://external-api.demo.kalshi.co" + REST_PREFIX,
}


def ws_url(env: KalshiEnv | str) -> str:
    return _WS[KalshiEnv(env)]


def rest_url(env: KalshiEnv | str) -> str:
    return _REST[KalshiEnv(env)]
