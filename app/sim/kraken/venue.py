"""Kraken as the simulator runs it: the WebSocket session and the REST handlers, on one port.

Builds the two parts from the shared market and faults, gives both the one token book (REST issues,
the private channels check) and puts them on their routes; the frames are ``ws.py``'s and the bodies
``rest.py``'s, so nothing here answers a client.
"""

from __future__ import annotations

from app.sim.kraken.rest import KrakenRest, Token
from app.sim.kraken.ws import WS_PATH, KrakenConn, KrakenWs
from app.sim.session import Shared
from app.sim.venue import Venue


class KrakenVenue(Venue[KrakenConn]):
    """Kraken's side of the simulator, sharing the market and the fault switchboard."""

    def __init__(self, shared: Shared, *, api_key: str | None = None, api_secret: str | None = None) -> None:
        self.tokens: dict[str, Token] = {}
        rest = KrakenRest(shared.market, self.tokens, api_key, api_secret)
        super().__init__(WS_PATH, KrakenWs(shared, self.tokens), rest)
