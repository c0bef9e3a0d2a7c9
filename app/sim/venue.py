"""A simulated venue as the ``Simulator`` sees it: a WebSocket session and REST handlers on one port.

Each venue's ``venue.py`` builds its two parts and hands them here; this module puts them on the
routes and lends the session's connections, handshake count and ``dispatch`` to the simulator. It
must not answer anything itself: frames are the session's, bodies the REST part's.
"""

from __future__ import annotations

from typing import Any, Generic, Protocol

from aiohttp import web

from app.sim.session import C, WsSession


class RestPart(Protocol):
    def add_routes(self, app: web.Application) -> None: ...


class Venue(Generic[C]):
    """One venue's two parts, and the routes to them."""

    def __init__(self, ws_path: str, ws: WsSession[C, Any], rest: RestPart) -> None:
        self.ws_path = ws_path
        self.ws = ws
        self.rest = rest
        self.dispatch = ws.dispatch  # bound once: the market clock calls it every step

    @property
    def conns(self) -> dict[int, C]:
        return self.ws.conns

    @property
    def handshakes(self) -> int:
        return self.ws.handshakes

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(self.ws_path, self.ws.handler)
        self.rest.add_routes(app)
