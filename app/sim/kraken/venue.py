"""Kraken as the simulator runs it: the WebSocket sessions and the REST handlers, on one port.

Builds the parts from the shared market and faults, gives them the one token book (REST issues, the
private channels and the level3 endpoint check) and puts them on their routes; the frames are ``ws.py``'s
and ``level3_ws.py``'s, the bodies ``rest.py``'s, so nothing here answers a client.
"""

from __future__ import annotations

from aiohttp import web

from app.sim.kraken.level3_ws import L3_WS_PATH, KrakenLevel3Ws
from app.sim.kraken.rest import KrakenRest, Token
from app.sim.kraken.ws import WS_PATH, KrakenConn, KrakenWs
from app.sim.session import Shared
from app.sim.venue import Venue


class KrakenVenue(Venue[KrakenConn]):
    """Kraken's side of the simulator, sharing the market and the fault switchboard."""

    def __init__(self, shared: Shared, *, api_key: str | None = None, api_secret: str | None = None) -> None:
        self.tokens: dict[str, Token] = {}
        rest = KrakenRest(shared.market, self.tokens, api_key, api_secret)
        main = KrakenWs(shared, self.tokens)
        super().__init__(WS_PATH, main, rest)
        self.level3 = KrakenLevel3Ws(shared, self.tokens)
        self.level3._ids = main._ids  # one numbering, so the two sessions' connections never collide
        main.followers.append(self.level3.dispatch)  # every step, blasts included, reaches level3
        self.level3.on_own_fill = main.dispatch  # the user's orders it fills: executions and balances

    @property
    def conns(self) -> dict[int, KrakenConn]:
        return {**self.ws.conns, **self.level3.conns}

    @property
    def handshakes(self) -> int:
        return self.ws.handshakes + self.level3.handshakes

    def add_routes(self, app: web.Application) -> None:
        super().add_routes(app)
        app.router.add_get(L3_WS_PATH, self.level3.handler)
