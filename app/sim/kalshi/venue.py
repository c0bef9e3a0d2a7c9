"""Kalshi as the simulator runs it: the WebSocket session and the REST handlers, on one port.

Builds the two parts from the shared market and faults and puts them on their routes; the frames
are ``ws.py``'s and the bodies ``rest.py``'s, so nothing here answers a client.
"""

from __future__ import annotations

from app.sim.kalshi.rest import KalshiRest
from app.sim.kalshi.ws import WS_PATH, KalshiConn, KalshiWs
from app.sim.session import Shared
from app.sim.signatures import KalshiPublicKey
from app.sim.venue import Venue


class KalshiVenue(Venue[KalshiConn]):
    """Kalshi's side of the simulator, sharing the market and the fault switchboard."""

    def __init__(
        self,
        shared: Shared,
        *,
        public_key: KalshiPublicKey | None = None,
        legacy: bool = False,
        ping_interval: float = 10.0,
    ) -> None:
        ws = KalshiWs(shared, public_key, legacy, ping_interval)
        super().__init__(WS_PATH, ws, KalshiRest(shared.market, public_key))
