"""Kalshi hosts per environment (protocol/kalshi.md §1)."""

from __future__ import annotations

from app.core.instruments import Environment

WS_PATH = "/trade-api/ws/v2"
REST_PREFIX = "/trade-api/v2"


_WS = {
    Environment.PRODUCTION: "wss://external-api-ws.kalshi.com" + WS_PATH,
    Environment.DEMO: "wss://external-api-ws.demo.kalshi.co" + WS_PATH,
}
_REST = {
    Environment.PRODUCTION: "https://external-api.kalshi.com" + REST_PREFIX,
    Environment.DEMO: "https://external-api.demo.kalshi.co" + REST_PREFIX,
}


def ws_url(env: Environment | str) -> str:
    return _WS[Environment(env)]


def rest_url(env: Environment | str) -> str:
    return _REST[Environment(env)]
