"""From a connection profile to a running stream engine: the simulator when the profile asks for it,
credentials from the keyring for real venues, and one plain sentence for every venue that cannot start.

Shared by ``market-monitor stream --profile`` and the window, so both connect the same way. No Qt.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography.hazmat.primitives.asymmetric import ed25519

from app.core.instruments import Environment, Venue
from app.core.store import MarketStore
from app.stream.engine import StreamEngine
from app.stream.kalshi_link import KalshiCredentials, KalshiLink
from app.stream.kraken_level3_link import KrakenLevel3Link
from app.stream.kraken_link import KrakenCredentials, KrakenLink
from app.user.credentials import find_target, read_pair
from app.user.secret_store import KeyringUnavailable, SecretStore
from app.user.settings import Profile
from app.venues.kalshi import endpoints as kalshi_endpoints
from app.venues.kalshi.auth import KeyFormatError, load_private_key
from app.venues.kraken import endpoints as kraken_endpoints
from app.venues.kraken.auth import NonceSource

if TYPE_CHECKING:
    from app.sim.server import SimOptions, Simulator

SIM_KEY_ID = "market-monitor-sim"
_C = TypeVar("_C")


@dataclass(slots=True)
class Launch:
    engine: StreamEngine
    sim: Simulator | None = None
    problems: dict[Venue, str] = field(default_factory=dict)  # venues left out, and why
    urls: dict[Venue, str] = field(default_factory=dict)  # the REST base each venue's market list comes from
    simulated: set[Venue] = field(default_factory=set)

    async def stop(self) -> None:
        await self.engine.stop()
        if self.sim is not None:
            await self.sim.stop()


def kalshi_credentials(secrets: SecretStore, env: Environment) -> KalshiCredentials | None:
    """The saved Kalshi key for ``env``, or None. A bad saved key raises ``KeyFormatError``."""
    key_id, pem = read_pair(secrets, find_target(Venue.KALSHI, env))
    if not key_id or not pem:
        return None
    return KalshiCredentials(key_id, load_private_key(pem.encode()))


def kraken_credentials(secrets: SecretStore, env: Environment) -> KrakenCredentials | None:
    api_key, secret = read_pair(secrets, find_target(Venue.KRAKEN, env))
    if not api_key or not secret:
        return None
    return KrakenCredentials(api_key, secret)


class _VenueLeftOutError(Exception):
    """The venue is left out; the message is the sentence the user sees."""


async def _from_keyring(
    read: Callable[[SecretStore, Environment], _C | None], secrets: SecretStore, env: Environment, what: str
) -> _C | None:
    # Keyring calls can block on D-Bus (or an unlock prompt): never on the event loop.
    try:
        return await asyncio.to_thread(read, secrets, env)
    except (KeyFormatError, KeyringUnavailable) as exc:
        raise _VenueLeftOutError(f"{what} ({exc})") from None


async def launch(
    profile: Profile,
    secrets: SecretStore,
    markets: dict[Venue, list[str]],
    *,
    store: MarketStore | None = None,
    sim_options: SimOptions | None = None,
    depth: int = 10,
    link_options: dict[str, Any] | None = None,
    sim_urls: dict[str, str] | None = None,
    key_hint: str = "File → Credentials…",
    level3: list[str] | None = None,
) -> Launch:
    """Build and start the engine for ``profile``. Venues that cannot start are in ``problems``.

    ``sim_urls`` points simulated venues at a simulator already running elsewhere (the GUI benchmark runs
    it in another process); otherwise one is started here, on this loop. ``level3``: the Kraken markets to
    stream order by order from the start; given (even empty), a level3 link runs whenever Kraken has
    credentials, and ``engine.watch_level3`` changes its markets later."""
    out = Launch(StreamEngine(store))
    urls: dict[str, str] = dict(sim_urls or {})
    if profile.uses_sim and not urls:
        from app.sim.server import SimOptions, Simulator

        out.sim = Simulator(sim_options or SimOptions())
        urls = await out.sim.start()
    plan = _Plan(out, secrets, urls, depth, dict(link_options or {}), key_hint, level3)
    for venue, add in ((Venue.KALSHI, plan.kalshi), (Venue.KRAKEN, plan.kraken)):
        env = profile.env(venue)
        if env is Environment.OFF:
            continue
        if env is Environment.SIM:
            out.simulated.add(venue)
        try:
            await add(env, markets.get(venue, []))
        except _VenueLeftOutError as exc:
            out.problems[venue] = str(exc)
    out.engine.start()
    return out


@dataclass(slots=True)
class _Plan:
    """Adds each venue's links to ``out.engine``: where they connect and with which credentials."""

    out: Launch
    secrets: SecretStore
    sim_urls: dict[str, str]
    depth: int
    options: dict[str, Any]
    key_hint: str  # where the user adds a key: the menu in the window, the command in a terminal
    level3: list[str] | None  # None: no level3 link

    async def kalshi(self, env: Environment, markets: list[str]) -> None:
        if env is Environment.SIM:
            # The simulator checks only that a signature is well formed (unless given a public key).
            ws, rest = self.sim_urls["kalshi_ws"], self.sim_urls["kalshi_rest"]
            creds = KalshiCredentials(SIM_KEY_ID, ed25519.Ed25519PrivateKey.generate())
        else:
            ws, rest = kalshi_endpoints.ws_url(env), kalshi_endpoints.rest_url(env)
            self.out.urls[Venue.KALSHI] = rest  # the picker lists markets even without a key
            what = f"Kalshi {env}: the saved key cannot be used"
            saved = await _from_keyring(kalshi_credentials, self.secrets, env, what)
            if saved is None:
                # Kalshi authenticates every WebSocket connection, even for public data.
                raise _VenueLeftOutError(
                    f"Kalshi {env} needs an API key ({self.key_hint.format(venue='kalshi', env=env)}); "
                    "every Kalshi WebSocket "
                    "connection is signed"
                )
            creds = saved
        self.out.urls[Venue.KALSHI] = rest
        self.out.engine.add(
            KalshiLink(ws, rest, self.out.engine.store, markets, credentials=creds, **self.options)
        )

    async def kraken(self, env: Environment, markets: list[str]) -> None:
        engine = self.out.engine

        def link(
            url: str, rest: str, watched: list[str], creds: KrakenCredentials | None, **extra: Any
        ) -> KrakenLink:
            options = {**self.options, **extra}
            made = KrakenLink(
                url, rest, engine.store, watched, depth=self.depth, credentials=creds, **options
            )
            engine.add(made)
            return made

        def level3(
            url: str | None, rest: str, creds: KrakenCredentials, main: KrakenLink, nonces: NonceSource
        ) -> None:
            # The orders behind each price: their own host, the private channels' token (level3 doc §1).
            if url is not None and self.level3 is not None:
                made = KrakenLevel3Link(
                    url,
                    rest,
                    engine.store,
                    list(self.level3),
                    credentials=creds,
                    instruments=main.session.instruments,
                    nonces=nonces,
                    **self.options,
                )
                engine.add(made)

        if env is Environment.SIM:
            # One host serves public and private channels; any well-formed key gets a token.
            rest = self.sim_urls["kraken_rest"]
            self.out.urls[Venue.KRAKEN] = rest
            secret = base64.b64encode(os.urandom(64)).decode()
            creds = KrakenCredentials(SIM_KEY_ID, secret)
            main = link(self.sim_urls["kraken_ws"], rest, markets, creds)
            level3(self.sim_urls.get("kraken_l3_ws"), rest, creds, main, main.nonces)
            return
        rest = kraken_endpoints.REST_BASE
        self.out.urls[Venue.KRAKEN] = rest
        main = link(kraken_endpoints.public_ws_url(env), rest, markets, None)  # market data needs no key
        what = f"Kraken {env}: fills and balances are off"
        private = await _from_keyring(kraken_credentials, self.secrets, env, what)
        if private is not None:
            # Private channels live on their own host (kraken.md §1.1): a second, data-less link.
            own = link(kraken_endpoints.private_ws_url(env), rest, [], private, name="kraken-private")
            level3(kraken_endpoints.level3_ws_url(env), rest, private, main, own.nonces)
