"""From a connection profile to a running stream engine: the simulator when the profile asks for it,
credentials from the keyring for real venues, and one plain sentence for every venue that cannot start.

Shared by ``market-monitor stream --profile`` and the window, so both connect the same way. No Qt.
"""

from __future__ import annotations

import asyncio
import base64
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from app.core.instruments import Venue
from app.core.store import MarketStore
from app.stream.engine import StreamEngine
from app.stream.kalshi_link import KalshiCredentials, KalshiLink
from app.stream.kraken_link import KrakenCredentials, KrakenLink
from app.user.secret_store import KeyringUnavailable, SecretStore, secret_name
from app.user.settings import Profile
from app.venues.kalshi import endpoints as kalshi_endpoints
from app.venues.kalshi.auth import KeyFormatError, load_private_key
from app.venues.kraken import endpoints as kraken_endpoints

if TYPE_CHECKING:
    from app.sim.server import SimOptions, Simulator

SIM_KEY_ID = "market-monitor-sim"


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


def kalshi_credentials(secrets: SecretStore, env: str) -> KalshiCredentials | None:
    """The saved Kalshi key for ``env``, or None. A bad saved key raises ``KeyFormatError``."""
    key_id = secrets.get(secret_name("kalshi", env, "key_id"))
    pem = secrets.get(secret_name("kalshi", env, "private_key"))
    if not key_id or not pem:
        return None
    return KalshiCredentials(key_id, load_private_key(pem.encode()))


def kraken_credentials(secrets: SecretStore, env: str) -> KrakenCredentials | None:
    api_key = secrets.get(secret_name("kraken", env, "api_key"))
    secret = secrets.get(secret_name("kraken", env, "secret"))
    if not api_key or not secret:
        return None
    return KrakenCredentials(api_key, secret)


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
) -> Launch:
    """Build and start the engine for ``profile``. Venues that cannot start are in ``problems``.

    ``sim_urls`` points "sim" venues at a simulator already running elsewhere (the GUI benchmark runs it
    in another process); otherwise one is started here, on this loop."""
    engine = StreamEngine(store)
    out = Launch(engine)
    extra = dict(link_options or {})
    urls: dict[str, str] = dict(sim_urls or {})
    if profile.uses_sim and not urls:
        from app.sim.server import SimOptions, Simulator

        out.sim = Simulator(sim_options or SimOptions())
        urls = await out.sim.start()

    kalshi_env = profile.kalshi
    if kalshi_env == "sim":
        out.simulated.add(Venue.KALSHI)
        creds = KalshiCredentials(SIM_KEY_ID, ed25519.Ed25519PrivateKey.generate())
        _add_kalshi(
            out,
            ws=urls["kalshi_ws"],
            rest=urls["kalshi_rest"],
            creds=creds,
            markets=markets,
            extra=extra,
        )
    elif kalshi_env != "off":
        try:
            # Keyring calls can block on D-Bus (or an unlock prompt): never on the event loop.
            real = await asyncio.to_thread(kalshi_credentials, secrets, kalshi_env)
        except (KeyFormatError, KeyringUnavailable) as exc:
            out.problems[Venue.KALSHI] = f"Kalshi {kalshi_env}: the saved key cannot be used ({exc})"
        else:
            out.urls[Venue.KALSHI] = kalshi_endpoints.rest_url(kalshi_env)
            if real is None:
                # Kalshi authenticates every WebSocket connection, even for public data.
                out.problems[Venue.KALSHI] = (
                    f"Kalshi {kalshi_env} needs an API key (File → Credentials…); "
                    "every Kalshi WebSocket connection is signed"
                )
            else:
                _add_kalshi(
                    out,
                    ws=kalshi_endpoints.ws_url(kalshi_env),
                    rest=kalshi_endpoints.rest_url(kalshi_env),
                    creds=real,
                    markets=markets,
                    extra=extra,
                )

    kraken_env = profile.kraken
    if kraken_env == "sim":
        out.simulated.add(Venue.KRAKEN)
        kcreds = KrakenCredentials(SIM_KEY_ID, base64.b64encode(os.urandom(64)).decode())
        rest = urls["kraken_rest"]
        out.urls[Venue.KRAKEN] = rest
        engine.add(
            KrakenLink(
                urls["kraken_ws"],
                rest,
                engine.store,
                markets.get(Venue.KRAKEN, []),
                depth=depth,
                credentials=kcreds,
                **extra,
            )
        )
    elif kraken_env != "off":
        rest = kraken_endpoints.REST_BASE
        out.urls[Venue.KRAKEN] = rest
        engine.add(
            KrakenLink(
                kraken_endpoints.public_ws_url(kraken_env),
                rest,
                engine.store,
                markets.get(Venue.KRAKEN, []),
                depth=depth,
                **extra,
            )
        )
        try:
            private = await asyncio.to_thread(kraken_credentials, secrets, kraken_env)
        except KeyringUnavailable as exc:
            out.problems[Venue.KRAKEN] = f"Kraken {kraken_env}: fills and balances are off ({exc})"
        else:
            if private is not None:
                # Private channels live on their own host (kraken.md §1.1): a second, data-less link.
                engine.add(
                    KrakenLink(
                        kraken_endpoints.private_ws_url(kraken_env),
                        rest,
                        engine.store,
                        [],
                        depth=depth,
                        credentials=private,
                        name="kraken-private",
                        **extra,
                    )
                )
    engine.start()
    return out


def _add_kalshi(
    out: Launch,
    *,
    ws: str,
    rest: str,
    creds: KalshiCredentials,
    markets: dict[Venue, list[str]],
    extra: dict[str, Any],
) -> None:
    out.urls[Venue.KALSHI] = rest
    out.engine.add(KalshiLink(ws, rest, out.engine.store, creds, markets.get(Venue.KALSHI, []), **extra))
