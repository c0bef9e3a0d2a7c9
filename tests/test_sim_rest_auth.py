"""The simulator's REST endpoints, request signatures and TLS, over real sockets with real crypto.

Kalshi: signed WebSocket handshake and portfolio REST (protocol/kalshi.md §2), markets and order book
REST (§1, §8). Kraken: public REST (AssetPairs, Assets, Depth; kraken.md §3.5), the signed
``GetWebSocketsToken`` call and the token on private WebSocket channels (§2.4, §3.9, §3.10, §5).
Every expected value is computed here from the simulator's state, not copied from its renderers.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import json
import os
import re
import ssl
import time
from collections import Counter
from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.sim.kalshi.market import CLOSED, DETERMINED, OPEN, PAUSED, SETTLED, KalshiMarket
from app.sim.kraken import ws as kraken_ws
from app.sim.server import SimOptions, Simulator
from app.venues.kalshi.auth import PrivateKey, auth_headers, sign
from app.venues.kalshi.endpoints import REST_PREFIX, WS_PATH
from app.venues.kraken.auth import NonceSource, SignedRequest, api_sign, token_request
from app.venues.kraken.endpoints import TOKEN_PATH

KEY_ID = "a952bcbe-ec3b-4b5b-b8f9-11dae589608c"
KRAKEN_KEY = "sim-api-key"
RECV_S = 5.0
ONE_DOLLAR = 10_000  # Kalshi price units
DOLLARS_4DP = r"-?\d+\.\d{4}"
FP_2DP = r"-?\d+\.\d{2}"


# ---------------------------------------------------------------------------------------- helpers


def _fmt(units: int, decimals: int) -> str:
    """Integer units as decimal text with exactly ``decimals`` decimals (independent of app.sim.units)."""
    return format(Decimal(units).scaleb(-decimals), f".{decimals}f")


def _micros_as_dollars(micros: int) -> str:
    return _fmt(int((Decimal(micros) / 100).to_integral_value(rounding=ROUND_FLOOR)), 4)


def _public_pem(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _path(url: str) -> str:
    return urlsplit(url).path


def _kalshi_levels(sim: Simulator, ticker: str, side: str, depth: int | None = None) -> list[list[str]]:
    """The truth's bids for one side, best first, cut to ``depth``, as ascending JSON rows (best last)."""
    levels = sim.kalshi_book(ticker)[side]
    if depth is not None:
        levels = levels[:depth]
    return [list(level) for level in reversed(levels)]


def _fullmatch(pattern: str, text: Any) -> bool:
    return isinstance(text, str) and re.fullmatch(pattern, text) is not None


@pytest.fixture(scope="module")
def kalshi_keys() -> dict[str, PrivateKey]:
    """One Ed25519 and one RSA-2048 key pair per kind: the registered key and a stranger's."""
    return {
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ed25519-other": ed25519.Ed25519PrivateKey.generate(),
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rsa-other": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }


async def _kalshi_refusal(
    url: str, headers: dict[str, str] | None, ssl_context: ssl.SSLContext | None = None
) -> tuple[int, dict[str, Any]]:
    """Open a Kalshi WebSocket that must be refused; the HTTP status and JSON body of the refusal."""
    with pytest.raises(websockets.InvalidStatus) as info:
        async with websockets.connect(url, additional_headers=headers, ssl=ssl_context, open_timeout=RECV_S):
            pass
    response = info.value.response
    return response.status_code, json.loads(bytes(response.body or b"{}"))


async def _kalshi_snapshot_over_ws(
    sim: Simulator, headers: dict[str, str], ssl_context: ssl.SSLContext | None = None
) -> None:
    """Connect with ``headers``, subscribe one book and check the snapshot equals the exchange's book."""
    ticker = next(iter(sim.market.kalshi))
    async with websockets.connect(
        sim.urls["kalshi_ws"], additional_headers=headers, ssl=ssl_context, open_timeout=RECV_S, max_size=None
    ) as ws:
        assert sim.kalshi.conns  # the server holds the connection
        await ws.send(
            json.dumps(
                {
                    "id": 1,
                    "cmd": "subscribe",
                    "params": {"channels": ["orderbook_delta"], "market_ticker": ticker},
                }
            )
        )
        subscribed = json.loads(await asyncio.wait_for(ws.recv(), RECV_S))
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), RECV_S))
    assert subscribed["type"] == "subscribed"
    assert subscribed["id"] == 1
    assert subscribed["msg"] == {"channel": "orderbook_delta", "sid": 1}
    assert (snapshot["type"], snapshot["sid"], snapshot["seq"]) == ("orderbook_snapshot", 1, 1)
    market = sim.market.kalshi[ticker]
    assert snapshot["msg"]["market_ticker"] == ticker
    assert snapshot["msg"]["market_id"] == market.listing.market_id
    # WS snapshot order is not guaranteed by the docs (§8): compare sorted ascending.
    for side in ("yes", "no"):
        rows = sorted(snapshot["msg"][f"{side}_dollars_fp"], key=lambda row: Decimal(row[0]))
        assert rows == _kalshi_levels(sim, ticker, side)


async def _get(
    session: aiohttp.ClientSession,
    url: str,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    async with session.get(url, params=params, headers=headers) as response:
        return response.status, await response.json()


async def _walk(
    session: aiohttp.ClientSession,
    url: str,
    key: str,
    params: dict[str, str],
    headers: Callable[[], dict[str, str]] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Follow ``cursor`` until it is empty; every row of ``key`` and the number of pages."""
    rows: list[dict[str, Any]] = []
    cursor = ""
    pages = 0
    while True:
        query = dict(params, cursor=cursor) if cursor else dict(params)
        status, body = await _get(session, url, query, headers() if headers else None)
        assert status == 200, body
        assert set(body) >= {key, "cursor"}
        pages += 1
        assert len(body[key]) <= int(params.get("limit", "100"))
        rows += body[key]
        cursor = body["cursor"]
        if not cursor:
            return rows, pages
        assert len(body[key]) == int(params["limit"])  # only the last page may be short
        assert pages < 10_000


def _step_until(sim: Simulator, done: Callable[[], bool], limit: int = 400_000) -> None:
    steps = 0
    while not done():
        sim.step(1000)
        steps += 1000
        assert steps < limit, "the market never reached the wanted state"


# ---------------------------------------------------------------------------------------- Kalshi handshake


@pytest.mark.asyncio
async def test_kalshi_ws_without_auth_headers_is_401(kalshi_keys: dict[str, PrivateKey]) -> None:
    """No headers, or any one of the three missing, is refused with 401 and no connection is kept."""
    full = auth_headers(KEY_ID, kalshi_keys["ed25519"])
    async with Simulator(SimOptions(rate=0)) as sim:
        status, body = await _kalshi_refusal(sim.urls["kalshi_ws"], None)
        assert status == 401
        assert body["error"]["code"] == "authentication_error"
        assert "KALSHI-ACCESS-KEY" in body["error"]["details"]
        for name in full:
            partial = {k: v for k, v in full.items() if k != name}
            status, body = await _kalshi_refusal(sim.urls["kalshi_ws"], partial)
            assert status == 401, name
            assert body["error"]["code"] == "authentication_error"
        assert sim.kalshi.handshakes == 4
        assert sim.kalshi.conns == {}


@pytest.mark.parametrize(
    ("header", "value", "problem"),
    [
        ("KALSHI-ACCESS-TIMESTAMP", "not-a-number", "unix milliseconds"),
        ("KALSHI-ACCESS-TIMESTAMP", "1761998400000.5", "unix milliseconds"),
        ("KALSHI-ACCESS-TIMESTAMP", "-1761998400000", "unix milliseconds"),
        ("KALSHI-ACCESS-SIGNATURE", "not base64!", "not base64"),
        ("KALSHI-ACCESS-SIGNATURE", "QUJD", None),  # well-formed control: no public key, so not verified
        ("KALSHI-ACCESS-SIGNATURE", "QUJ", "not base64"),  # bad padding
    ],
)
@pytest.mark.asyncio
async def test_kalshi_ws_malformed_headers_are_401(
    kalshi_keys: dict[str, PrivateKey], header: str, value: str, problem: str | None
) -> None:
    """Without a public key only the header format is checked: a bad timestamp or base64 is a 401."""
    headers = dict(auth_headers(KEY_ID, kalshi_keys["ed25519"]), **{header: value})
    async with Simulator(SimOptions(rate=0)) as sim:
        if problem is None:
            await _kalshi_snapshot_over_ws(sim, headers)
            return
        status, body = await _kalshi_refusal(sim.urls["kalshi_ws"], headers)
        assert status == 401
        assert problem in body["error"]["details"]
        assert sim.kalshi.conns == {}


@pytest.mark.asyncio
async def test_kalshi_ws_without_public_key_accepts_well_formed_headers(
    kalshi_keys: dict[str, PrivateKey],
) -> None:
    """With no registered key any well-formed headers connect, signed by any key over any path."""
    async with Simulator(SimOptions(rate=0)) as sim:
        await _kalshi_snapshot_over_ws(sim, auth_headers(KEY_ID, kalshi_keys["ed25519-other"]))
        elsewhere = auth_headers(KEY_ID, kalshi_keys["rsa-other"], "GET", "/elsewhere")
        await _kalshi_snapshot_over_ws(sim, elsewhere)
        assert sim.kalshi.handshakes == 2


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
@pytest.mark.asyncio
async def test_kalshi_ws_verifies_signature_with_public_key(
    kalshi_keys: dict[str, PrivateKey], kind: str
) -> None:
    """With the public key registered: the right signature connects; another key, path, method or
    timestamp is refused with 401 (§2.3: sign ts_ms + "GET" + "/trade-api/ws/v2")."""
    key, other = kalshi_keys[kind], kalshi_keys[f"{kind}-other"]
    async with Simulator(SimOptions(rate=0, kalshi_public_key_pem=_public_pem(key))) as sim:
        url = sim.urls["kalshi_ws"]
        assert _path(url) == WS_PATH
        await _kalshi_snapshot_over_ws(sim, auth_headers(KEY_ID, key, "GET", WS_PATH))

        now = int(time.time() * 1000)
        restamped = dict(
            auth_headers(KEY_ID, key, "GET", WS_PATH, now_ms=now), **{"KALSHI-ACCESS-TIMESTAMP": str(now + 1)}
        )
        wrong = {
            "another key": auth_headers(KEY_ID, other, "GET", WS_PATH),
            "another path": auth_headers(KEY_ID, key, "GET", REST_PREFIX + "/markets"),
            "another method": auth_headers(KEY_ID, key, "POST", WS_PATH),
            "another timestamp": restamped,
        }
        for what, headers in wrong.items():
            status, body = await _kalshi_refusal(url, headers)
            assert status == 401, what
            assert body["error"]["details"] == "signature does not verify", what
        assert sim.kalshi.handshakes == 1 + len(wrong)
        assert sim.kalshi.conns == {}


@pytest.mark.parametrize("where", ["ws", "rest"])
@pytest.mark.asyncio
async def test_kalshi_auth_header_names_are_case_insensitive(
    kalshi_keys: dict[str, PrivateKey], where: str
) -> None:
    """kalshi.md §2.2 names HTTP headers, and HTTP field names are case-insensitive (RFC 9110 §5.1), so a
    client (or proxy, or HTTP/2 hop) sending them in lower case must authenticate the same way."""
    key = kalshi_keys["ed25519"]
    async with Simulator(SimOptions(rate=0, kalshi_public_key_pem=_public_pem(key))) as sim:
        if where == "ws":
            lower = {k.lower(): v for k, v in auth_headers(KEY_ID, key, "GET", WS_PATH).items()}
            await _kalshi_snapshot_over_ws(sim, lower)
            return
        url = sim.urls["kalshi_rest"] + "/portfolio/fills"
        lower = {k.lower(): v for k, v in auth_headers(KEY_ID, key, "GET", _path(url)).items()}
        async with aiohttp.ClientSession() as session:
            status, body = await _get(session, url, headers=lower)
        assert status == 200, body
        assert body["fills"] == []


# ---------------------------------------------------------------------------------------- Kalshi markets


def _check_market_object(obj: dict[str, Any], market: KalshiMarket, sim: Simulator) -> None:
    """A REST market object against the exchange's state; best prices from the book truth (§8)."""
    book = sim.kalshi_book(market.ticker)
    yes_bid = Decimal(book["yes"][0][0]) if book["yes"] else Decimal(0)
    yes_ask = 1 - Decimal(book["no"][0][0]) if book["no"] else Decimal(1)
    assert obj["ticker"] == market.ticker
    assert obj["event_ticker"] == market.listing.event_ticker
    assert obj["status"] == market.status
    assert Decimal(obj["yes_bid_dollars"]) == yes_bid
    assert Decimal(obj["yes_ask_dollars"]) == yes_ask
    assert Decimal(obj["no_bid_dollars"]) == 1 - yes_ask
    assert Decimal(obj["no_ask_dollars"]) == 1 - yes_bid
    assert obj["yes_bid_size_fp"] == (book["yes"][0][1] if book["yes"] else "0.00")
    assert obj["yes_ask_size_fp"] == (book["no"][0][1] if book["no"] else "0.00")
    assert obj["last_price_dollars"] == _fmt(market.last_price, 4)
    assert obj["volume_fp"] == _fmt(market.volume, 2)
    assert obj["open_interest_fp"] == _fmt(market.open_interest, 2)
    assert obj["price_level_structure"] == market.listing.structure
    assert obj["price_ranges"] == [
        {"start": _fmt(r.start, 4), "end": _fmt(r.end, 4), "step": _fmt(r.step, 4)}
        for r in market.listing.ranges
    ]
    for name, value in obj.items():
        if name.endswith("_dollars"):
            assert _fullmatch(DOLLARS_4DP, value), (name, value)
        elif name.endswith("_fp"):
            assert _fullmatch(FP_2DP, value), (name, value)


@pytest.mark.asyncio
async def test_kalshi_markets_envelope() -> None:
    """GET /markets: {"markets": [...], "cursor": ""} listing every market once, values as the exchange."""
    async with Simulator(SimOptions(rate=0, strike_boards=False)) as sim:  # 24 markets: one page
        sim.step(3000)
        async with aiohttp.ClientSession() as session:
            status, body = await _get(session, sim.urls["kalshi_rest"] + "/markets")
    assert status == 200
    assert set(body) == {"markets", "cursor"}
    assert body["cursor"] == ""  # everything fits in the default page of 100
    assert [m["ticker"] for m in body["markets"]] == list(sim.market.kalshi)
    for obj in body["markets"]:
        _check_market_object(obj, sim.market.kalshi[obj["ticker"]], sim)


@pytest.mark.parametrize("limit", [1, 5, 7, 24, 1000])
@pytest.mark.asyncio
async def test_kalshi_markets_pagination_walks_every_market_once(limit: int) -> None:
    """limit + cursor pages through all markets exactly once, in order, and the last cursor is empty."""
    options = SimOptions(rate=0, markets=24, strike_boards=False)
    async with Simulator(options) as sim, aiohttp.ClientSession() as session:
        rows, pages = await _walk(
            session, sim.urls["kalshi_rest"] + "/markets", "markets", {"limit": str(limit)}
        )
    tickers = [m["ticker"] for m in rows]
    assert tickers == list(sim.market.kalshi)
    assert len(set(tickers)) == len(tickers) == 24
    assert pages == -(-24 // limit)


@pytest.mark.asyncio
async def test_kalshi_markets_status_filters() -> None:
    """status=open returns only `active` markets; each filter maps to its lifecycle statuses."""
    async with Simulator(SimOptions(rate=0)) as sim:
        tickers = list(sim.market.kalshi)
        changed = {
            tickers[1]: PAUSED,
            tickers[4]: CLOSED,
            tickers[6]: DETERMINED,
            tickers[9]: SETTLED,
            tickers[11]: "initialized",
        }
        for ticker, status in changed.items():
            sim.market.kalshi[ticker].status = status
        expected = {
            "open": [t for t in tickers if t not in changed],
            "paused": [tickers[1]],
            "closed": [tickers[4], tickers[6]],
            "settled": [tickers[9]],
            "unopened": [tickers[11]],
        }
        async with aiohttp.ClientSession() as session:
            for name, wanted in expected.items():
                rows, _ = await _walk(
                    session, sim.urls["kalshi_rest"] + "/markets", "markets", {"status": name, "limit": "4"}
                )
                assert [m["ticker"] for m in rows] == wanted, name
                assert all(m["status"] == sim.market.kalshi[m["ticker"]].status for m in rows)
            rows, _ = await _walk(session, sim.urls["kalshi_rest"] + "/markets", "markets", {"limit": "4"})
    assert [m["ticker"] for m in rows] == tickers
    assert all(m["status"] == OPEN for m in rows if m["ticker"] in expected["open"])


@pytest.mark.asyncio
async def test_kalshi_markets_status_open_after_lifecycle_steps() -> None:
    """Once the random lifecycle has paused/closed/settled markets, status=open is exactly the active ones."""
    async with Simulator(SimOptions(rate=0, seed=3)) as sim:
        _step_until(sim, lambda: sum(m.status != OPEN for m in sim.market.kalshi.values()) >= 2)
        active = [m.ticker for m in sim.market.kalshi.values() if m.status == OPEN]
        async with aiohttp.ClientSession() as session:
            rows, _ = await _walk(
                session, sim.urls["kalshi_rest"] + "/markets", "markets", {"status": "open", "limit": "10"}
            )
            everything, _ = await _walk(
                session, sim.urls["kalshi_rest"] + "/markets", "markets", {"limit": "10"}
            )
    assert [m["ticker"] for m in rows] == active
    assert {m["status"] for m in rows} == {"active"}
    assert len(everything) == len(sim.market.kalshi) > len(rows)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", "bogus"),
        ("status", "active"),
        ("limit", "0"),
        ("limit", "1001"),
        ("limit", "-1"),
        ("limit", "ten"),
        ("cursor", "garbage"),
        ("cursor", base64.urlsafe_b64encode(b"foo:3").decode()),
        ("cursor", base64.urlsafe_b64encode(b"sim:x").decode()),
    ],
)
@pytest.mark.asyncio
async def test_kalshi_markets_bad_query_is_400(name: str, value: str) -> None:
    """A bad status, limit or cursor is answered 400 with an `error` object."""
    async with Simulator(SimOptions(rate=0)) as sim, aiohttp.ClientSession() as session:
        status, body = await _get(session, sim.urls["kalshi_rest"] + "/markets", {name: value})
    assert status == 400
    assert set(body) == {"error"}
    assert body["error"]["code"] == "bad_request"
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.mark.asyncio
async def test_kalshi_market_by_ticker() -> None:
    """GET /markets/{ticker} is {"market": {...}} with 4-dp *_dollars and 2-dp *_fp strings."""
    async with Simulator(SimOptions(rate=0)) as sim:
        sim.step(5000)
        traded = [m for m in sim.market.kalshi.values() if m.volume]
        assert traded
        async with aiohttp.ClientSession() as session:
            for market in traded[:6]:
                status, body = await _get(session, f"{sim.urls['kalshi_rest']}/markets/{market.ticker}")
                assert status == 200
                assert set(body) == {"market"}
                _check_market_object(body["market"], market, sim)
                assert any(
                    _fullmatch(FP_2DP, v) and v != "0.00"
                    for k, v in body["market"].items()
                    if k.endswith("_fp")
                )


@pytest.mark.parametrize("suffix", ["", "/orderbook"])
@pytest.mark.asyncio
async def test_kalshi_unknown_ticker_is_404(suffix: str) -> None:
    async with Simulator(SimOptions(rate=0)) as sim, aiohttp.ClientSession() as session:
        status, body = await _get(session, f"{sim.urls['kalshi_rest']}/markets/KXNOPE-26NOV21-T1{suffix}")
    assert status == 404
    assert body["error"]["code"] == "not_found"


@pytest.mark.asyncio
async def test_kalshi_orderbook_rest_equals_truth() -> None:
    """orderbook_fp yes_dollars/no_dollars are the exchange's bids ascending (best last), NO side in NO-leg
    prices; depth=N gives the best N (§1, §8); a bad depth is 400."""
    async with Simulator(SimOptions(rate=0)) as sim:
        sim.step(4000)
        tickers = [t for t, m in sim.market.kalshi.items() if min(len(m.yes), len(m.no)) > 3][:5]
        assert len(tickers) == 5
        async with aiohttp.ClientSession() as session:
            for ticker in tickers:
                url = f"{sim.urls['kalshi_rest']}/markets/{ticker}/orderbook"
                status, body = await _get(session, url)
                assert status == 200
                assert set(body) == {"orderbook_fp"}
                book = body["orderbook_fp"]
                assert set(book) == {"yes_dollars", "no_dollars"}
                for side in ("yes", "no"):
                    rows = book[f"{side}_dollars"]
                    assert rows == _kalshi_levels(sim, ticker, side)
                    assert len(rows) > 3
                    prices = [Decimal(p) for p, _ in rows]
                    assert prices == sorted(prices) and len(set(prices)) == len(prices)
                    assert all(_fullmatch(DOLLARS_4DP, p) and _fullmatch(FP_2DP, q) for p, q in rows)
                # Best YES ask = $1 - best NO bid (§8), as the market object says.
                status, market = await _get(session, f"{sim.urls['kalshi_rest']}/markets/{ticker}")
                assert Decimal(market["market"]["yes_ask_dollars"]) == 1 - Decimal(book["no_dollars"][-1][0])
                for depth in (1, 3, 100):
                    status, body = await _get(session, url, {"depth": str(depth)})
                    assert status == 200
                    for side in ("yes", "no"):
                        wanted = _kalshi_levels(sim, ticker, side, depth)
                        assert body["orderbook_fp"][f"{side}_dollars"] == wanted
                    if depth == 1:
                        assert len(body["orderbook_fp"]["yes_dollars"]) == 1
            for bad in ("101", "deep"):
                url = f"{sim.urls['kalshi_rest']}/markets/{tickers[0]}/orderbook"
                status, body = await _get(session, url, {"depth": bad})
                assert status == 400
                assert body["error"]["code"] == "bad_request"


# ---------------------------------------------------------------------------------------- Kalshi portfolio


@pytest.mark.parametrize("endpoint", ["/portfolio/fills", "/portfolio/positions"])
@pytest.mark.asyncio
async def test_kalshi_portfolio_needs_signed_headers(
    kalshi_keys: dict[str, PrivateKey], endpoint: str
) -> None:
    """Portfolio REST without auth headers is 401; with no registered key, well-formed headers pass."""
    async with Simulator(SimOptions(rate=0)) as sim:
        url = sim.urls["kalshi_rest"] + endpoint
        async with aiohttp.ClientSession() as session:
            status, body = await _get(session, url)
            assert status == 401
            assert body["error"]["code"] == "authentication_error"
            status, body = await _get(session, url, headers={"KALSHI-ACCESS-KEY": KEY_ID})
            assert status == 401
            status, body = await _get(
                session, url, headers=auth_headers(KEY_ID, kalshi_keys["rsa-other"], "GET", _path(url))
            )
            assert status == 200
            assert body["cursor"] == ""
            assert body["fills" if endpoint.endswith("fills") else "market_positions"] == []


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
@pytest.mark.parametrize("endpoint", ["/portfolio/fills", "/portfolio/positions"])
@pytest.mark.asyncio
async def test_kalshi_portfolio_signature_verified(
    kalshi_keys: dict[str, PrivateKey], kind: str, endpoint: str
) -> None:
    """With a registered key: a signature over ts + GET + path (no query) passes, also with a query on the
    request; another key, another path, a signed query string or another method is 401 (§2.3)."""
    key, other = kalshi_keys[kind], kalshi_keys[f"{kind}-other"]
    async with Simulator(SimOptions(rate=0, kalshi_public_key_pem=_public_pem(key))) as sim:
        sim.step(20_000)
        url = sim.urls["kalshi_rest"] + endpoint
        path = _path(url)
        assert path == REST_PREFIX + endpoint
        async with aiohttp.ClientSession() as session:
            status, good = await _get(session, url, headers=auth_headers(KEY_ID, key, "GET", path))
            assert status == 200
            status, limited = await _get(session, url, {"limit": "2"}, auth_headers(KEY_ID, key, "GET", path))
            assert status == 200
            fills = endpoint.endswith("fills")
            rows, ident = ("fills", "trade_id") if fills else ("market_positions", "ticker")
            assert len(good[rows]) > 2
            assert [r[ident] for r in limited[rows]] == [r[ident] for r in good[rows][:2]]

            now = int(time.time() * 1000)
            signed_query = {
                "KALSHI-ACCESS-KEY": KEY_ID,
                "KALSHI-ACCESS-TIMESTAMP": str(now),
                "KALSHI-ACCESS-SIGNATURE": sign(key, f"{now}GET{path}?limit=2".encode()),
            }
            sibling = "/portfolio/positions" if endpoint.endswith("fills") else "/portfolio/fills"
            wrong = {
                "another key": auth_headers(KEY_ID, other, "GET", path),
                "another path": auth_headers(KEY_ID, key, "GET", REST_PREFIX + sibling),
                "the WS path": auth_headers(KEY_ID, key, "GET", WS_PATH),
                "another method": auth_headers(KEY_ID, key, "POST", path),
                "query signed": signed_query,
            }
            for what, headers in wrong.items():
                status, body = await _get(session, url, {"limit": "2"}, headers)
                assert status == 401, what
                assert body["error"]["details"] == "signature does not verify", what


def _check_fill(row: dict[str, Any], fill: Any) -> None:
    assert row["fill_id"] == row["trade_id"] == fill.trade_id
    assert row["order_id"] == fill.order_id
    assert row["client_order_id"] == fill.client_order_id
    assert row["ticker"] == row["market_ticker"] == fill.market
    assert row["outcome_side"] == fill.outcome  # the deprecated `side` is not checked
    assert row["book_side"] == ("bid" if fill.outcome == "yes" else "ask")  # bid = yes, ask = no (§6.3)
    assert row["action"] == fill.action
    assert row["is_taker"] is fill.is_taker
    assert row["count_fp"] == _fmt(fill.count, 2)
    assert row["yes_price_dollars"] == _fmt(fill.yes_price, 4)
    assert row["no_price_dollars"] == _fmt(ONE_DOLLAR - fill.yes_price, 4)
    assert row["ts"] == fill.ts_ms // 1000


@pytest.mark.asyncio
async def test_kalshi_fills_newest_first_paginated_and_filtered(kalshi_keys: dict[str, PrivateKey]) -> None:
    """GET /portfolio/fills: the user's fills newest first, paginated without loss, filterable by ticker,
    with the exact ids (and values) the exchange recorded."""
    key = kalshi_keys["ed25519"]
    async with Simulator(SimOptions(rate=0, kalshi_public_key_pem=_public_pem(key))) as sim:
        _step_until(sim, lambda: len(sim.market.kalshi_fills) >= 60)
        fills = list(reversed(sim.market.kalshi_fills))
        by_id = {f.trade_id: f for f in fills}
        assert len(by_id) == len(fills)
        url = sim.urls["kalshi_rest"] + "/portfolio/fills"

        def signed() -> dict[str, str]:
            return auth_headers(KEY_ID, key, "GET", _path(url))

        async with aiohttp.ClientSession() as session:
            status, body = await _get(session, url, headers=signed())
            assert status == 200
            assert [f["trade_id"] for f in body["fills"]] == [f.trade_id for f in fills[:100]]
            assert (body["cursor"] == "") == (len(fills) <= 100)

            rows, pages = await _walk(session, url, "fills", {"limit": "7"}, signed)
            assert [r["trade_id"] for r in rows] == [f.trade_id for f in fills]
            assert pages == -(-len(fills) // 7)
            for row in rows:
                _check_fill(row, by_id[row["trade_id"]])
            stamps = [r["ts"] for r in rows]
            assert stamps == sorted(stamps, reverse=True)

            busiest, count = Counter(f.market for f in fills).most_common(1)[0]
            assert count >= 2
            rows, _ = await _walk(session, url, "fills", {"ticker": busiest, "limit": "1"}, signed)
            assert [r["trade_id"] for r in rows] == [f.trade_id for f in fills if f.market == busiest]
            status, body = await _get(session, url, {"ticker": "KXNOPE-26NOV21-T1"}, signed())
            assert (status, body["fills"], body["cursor"]) == (200, [], "")


@pytest.mark.asyncio
async def test_kalshi_positions_match_exchange(kalshi_keys: dict[str, PrivateKey]) -> None:
    """GET /portfolio/positions lists every market the user traded, with the exchange's position values."""
    key = kalshi_keys["rsa"]
    async with Simulator(SimOptions(rate=0, kalshi_public_key_pem=_public_pem(key))) as sim:
        _step_until(sim, lambda: len(sim.market.kalshi_fills) >= 40)
        held = [m for m in sim.market.kalshi.values() if m.position.volume]
        assert len(held) >= 3
        url = sim.urls["kalshi_rest"] + "/portfolio/positions"
        async with aiohttp.ClientSession() as session:
            rows, _ = await _walk(
                session,
                url,
                "market_positions",
                {"limit": "2"},
                lambda: auth_headers(KEY_ID, key, "GET", _path(url)),
            )
            status, one = await _get(
                session, url, {"ticker": held[0].ticker}, auth_headers(KEY_ID, key, "GET", _path(url))
            )
    assert [r["ticker"] for r in rows] == [m.ticker for m in held]
    traded = {f.market for f in sim.market.kalshi_fills}
    assert {r["ticker"] for r in rows} == traded
    for row, market in zip(rows, held, strict=True):
        pos = market.position
        assert row["position_fp"] == _fmt(pos.position, 2)
        assert row["market_exposure_dollars"] == _micros_as_dollars(pos.cost_micros)
        assert row["realized_pnl_dollars"] == _micros_as_dollars(pos.realized_micros)
        assert row["fees_paid_dollars"] == _micros_as_dollars(pos.fees_micros)
        assert row["total_traded_dollars"] == _micros_as_dollars(pos.traded_micros)
        # The last fill on a market leaves the position it reports.
        last = next(f for f in reversed(sim.market.kalshi_fills) if f.market == market.ticker)
        assert pos.position == last.post_position
    assert status == 200
    assert [r["ticker"] for r in one["market_positions"]] == [held[0].ticker]
    assert [e["event_ticker"] for e in one["event_positions"]] == [held[0].listing.event_ticker]


# ---------------------------------------------------------------------------------------- Kraken public REST

# From live AssetPairs captures (catalog comment): REST key, altname, wsname, base, quote, decimals.
LIVE_PAIRS = {
    "BTC/USD": ("XXBTZUSD", "XBTUSD", "XBT/USD", "XXBT", "ZUSD", 1, 8),
    "ETH/USD": ("XETHZUSD", "ETHUSD", "ETH/USD", "XETH", "ZUSD", 2, 8),
    "SOL/USD": ("SOLUSD", "SOLUSD", "SOL/USD", "SOL", "ZUSD", 2, 8),
    "DOGE/USD": ("XDGUSD", "XDGUSD", "XDG/USD", "XXDG", "ZUSD", 7, 8),
    "ETH/BTC": ("XETHXXBT", "ETHXBT", "ETH/XBT", "XETH", "XXBT", 6, 8),
}


@pytest.mark.asyncio
async def test_kraken_asset_pairs_all() -> None:
    """AssetPairs without `pair`: every pair keyed by its legacy REST key, with decimals and wsname."""
    async with Simulator(SimOptions(rate=0)) as sim, aiohttp.ClientSession() as session:
        status, body = await _get(session, sim.urls["kraken_rest"] + "/0/public/AssetPairs")
    assert status == 200
    assert body["error"] == []
    result = body["result"]
    states = list(sim.market.kraken.values())
    assert list(result) == [s.pair.rest_key for s in states]
    assert "BTC/USD" not in result and "XXBTZUSD" in result
    for state in states:
        info = result[state.pair.rest_key]
        assert info["pair_decimals"] == state.pair.price_precision
        assert info["lot_decimals"] == state.pair.qty_precision
        assert info["wsname"] == state.pair.wsname
        assert info["altname"] == state.pair.altname
        assert (info["base"], info["quote"]) == (state.pair.base_asset, state.pair.quote_asset)
        assert info["status"] == state.status
    for key, altname, wsname, base, quote, pd, qd in LIVE_PAIRS.values():
        info = result[key]
        names = (info["altname"], info["wsname"], info["base"], info["quote"])
        assert names == (altname, wsname, base, quote)
        assert (info["pair_decimals"], info["lot_decimals"]) == (pd, qd)


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("BTC/USD", ["BTC/USD"]),
        ("XBTUSD", ["XXBTZUSD"]),
        ("XXBTZUSD", ["XXBTZUSD"]),
        ("BTC/USD,ETH/USD", ["BTC/USD", "ETH/USD"]),
        ("XDGUSD,ETH/BTC", ["XDGUSD", "ETH/BTC"]),
    ],
)
@pytest.mark.asyncio
async def test_kraken_asset_pairs_by_name(query: str, keys: list[str]) -> None:
    """A v2 name (`BTC/USD`) is echoed as the key; a legacy name (`XBTUSD`) gets the legacy key (§3.5)."""
    async with Simulator(SimOptions(rate=0)) as sim, aiohttp.ClientSession() as session:
        status, full = await _get(session, sim.urls["kraken_rest"] + "/0/public/AssetPairs")
        status, body = await _get(session, sim.urls["kraken_rest"] + "/0/public/AssetPairs", {"pair": query})
    assert status == 200
    assert body["error"] == []
    assert list(body["result"]) == keys
    for key, info in body["result"].items():
        pair = next(s.pair for s in sim.market.kraken.values() if key in (s.pair.symbol, s.pair.rest_key))
        assert info == full["result"][pair.rest_key]
        assert (info["pair_decimals"], info["lot_decimals"]) == (pair.price_precision, pair.qty_precision)


@pytest.mark.parametrize("query", ["NOPE/USD", "XBT/USDT", "BTC/USD,NOPE"])
@pytest.mark.asyncio
async def test_kraken_asset_pairs_unknown_pair(query: str) -> None:
    """An unknown pair is HTTP 200 with {"error":["EQuery:Unknown asset pair"]} and no result."""
    async with Simulator(SimOptions(rate=0)) as sim, aiohttp.ClientSession() as session:
        status, body = await _get(session, sim.urls["kraken_rest"] + "/0/public/AssetPairs", {"pair": query})
    assert status == 200
    assert body == {"error": ["EQuery:Unknown asset pair"]}


@pytest.mark.asyncio
async def test_kraken_assets() -> None:
    """Assets lists every base and quote asset of the listed pairs under its REST key."""
    async with Simulator(SimOptions(rate=0)) as sim:
        url = sim.urls["kraken_rest"] + "/0/public/Assets"
        async with aiohttp.ClientSession() as session:
            status, body = await _get(session, url)
            _, btc = await _get(session, url, {"asset": "XBT"})
            _, unknown = await _get(session, url, {"asset": "NOPE"})
    assert status == 200
    assert body["error"] == []
    pairs = [s.pair for s in sim.market.kraken.values()]
    assert set(body["result"]) == {p.base_asset for p in pairs} | {p.quote_asset for p in pairs}
    assert body["result"]["XXBT"]["altname"] == "XBT"
    assert (body["result"]["XXBT"]["decimals"], body["result"]["XXBT"]["display_decimals"]) == (10, 5)
    assert (body["result"]["ZUSD"]["decimals"], body["result"]["ZUSD"]["display_decimals"]) == (4, 2)
    assert all(info["aclass"] == "currency" for info in body["result"].values())
    assert btc == {"error": [], "result": {"XXBT": body["result"]["XXBT"]}}
    assert unknown == {"error": ["EQuery:Unknown asset"]}


@pytest.mark.parametrize(
    ("symbol", "count"), [("BTC/USD", 25), ("BTC/USD", 1), ("DOGE/USD", 500), ("ETH/BTC", 100)]
)
@pytest.mark.asyncio
async def test_kraken_depth_equals_truth(symbol: str, count: int) -> None:
    """Depth rows are [price, volume, ts] strings at the pair's full precision, best first, equal to the
    exchange's book cut to `count`."""
    async with Simulator(SimOptions(rate=0)) as sim:
        sim.step(3000)
        async with aiohttp.ClientSession() as session:
            before = int(time.time())
            status, body = await _get(
                session, sim.urls["kraken_rest"] + "/0/public/Depth", {"pair": symbol, "count": str(count)}
            )
            after = int(time.time())
    assert status == 200
    assert body["error"] == []
    assert len(body["result"]) == 1
    (book,) = body["result"].values()
    truth = sim.kraken_book(symbol, count)
    state = sim.market.kraken[symbol]
    pd, qd = state.pair.price_precision, state.pair.qty_precision
    for side in ("bids", "asks"):
        rows = book[side]
        assert len(rows) == count
        assert [[p, q] for p, q, _ in rows] == [list(level) for level in truth[side]]
        levels = state.side(side).top(count)
        assert [[p, q] for p, q, _ in rows] == [[_fmt(p, pd), _fmt(q, qd)] for p, q in levels]
        assert all(type(ts) is int and before <= ts <= after for _, _, ts in rows)
    assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"pair": "BTC/USD", "count": "0"}, "EGeneral:Invalid arguments:count"),
        ({"pair": "BTC/USD", "count": "501"}, "EGeneral:Invalid arguments:count"),
        ({"pair": "BTC/USD", "count": "ten"}, "EGeneral:Invalid arguments:count"),
        ({"pair": "NOPE/USD", "count": "10"}, "EQuery:Unknown asset pair"),
    ],
)
@pytest.mark.asyncio
async def test_kraken_depth_bad_query(params: dict[str, str], error: str) -> None:
    async with Simulator(SimOptions(rate=0)) as sim, aiohttp.ClientSession() as session:
        status, body = await _get(session, sim.urls["kraken_rest"] + "/0/public/Depth", params)
    assert status == 200
    assert body == {"error": [error]}


# ---------------------------------------------------------------------------------------- Kraken token


def _secret() -> str:
    return base64.b64encode(os.urandom(64)).decode()


async def _post(session: aiohttp.ClientSession, request: SignedRequest) -> dict[str, Any]:
    async with session.post(request.url, data=request.body.encode(), headers=request.headers) as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


def _assert_token(sim: Simulator, body: dict[str, Any]) -> str:
    assert body["error"] == []
    assert body["result"]["expires"] == 900
    token = body["result"]["token"]
    assert isinstance(token, str) and len(token) >= 32
    assert token in sim.kraken.tokens
    return token


@pytest.mark.asyncio
async def test_kraken_token_signed_request() -> None:
    """A correctly signed GetWebSocketsToken (form or JSON body) returns a fresh token each time (§5.1)."""
    secret = _secret()
    nonces = NonceSource()
    async with Simulator(SimOptions(rate=0, kraken_key=KRAKEN_KEY, kraken_secret=secret)) as sim:
        base = sim.urls["kraken_rest"]
        async with aiohttp.ClientSession() as session:
            request = token_request(KRAKEN_KEY, secret, nonces.next(), base)
            assert request.url == base + TOKEN_PATH
            first = _assert_token(sim, await _post(session, request))
            request = token_request(KRAKEN_KEY, secret, nonces.next(), base)
            second = _assert_token(sim, await _post(session, request))
            nonce = nonces.next()
            body = json.dumps({"nonce": nonce})
            json_request = SignedRequest(
                base + TOKEN_PATH,
                {
                    "API-Key": KRAKEN_KEY,
                    "API-Sign": api_sign(TOKEN_PATH, nonce, body, secret),
                    "Content-Type": "application/json",
                },
                body,
            )
            third = _assert_token(sim, await _post(session, json_request))
    assert len({first, second, third}) == 3


@pytest.mark.asyncio
async def test_kraken_token_rejections() -> None:
    """Wrong key, wrong secret, a tampered body and a reused or smaller nonce each get their EAPI error."""
    secret = _secret()
    nonces = NonceSource()
    async with Simulator(SimOptions(rate=0, kraken_key=KRAKEN_KEY, kraken_secret=secret)) as sim:
        base = sim.urls["kraken_rest"]
        async with aiohttp.ClientSession() as session:
            body = await _post(session, token_request("someone-else", secret, nonces.next(), base))
            assert body == {"error": ["EAPI:Invalid key"]}
            body = await _post(session, token_request(KRAKEN_KEY, _secret(), nonces.next(), base))
            assert body == {"error": ["EAPI:Invalid signature"]}
            nonce = nonces.next()
            signed = token_request(KRAKEN_KEY, secret, nonce, base)
            tampered = SignedRequest(signed.url, signed.headers, f"nonce={nonce + 1}")
            assert await _post(session, tampered) == {"error": ["EAPI:Invalid signature"]}
            assert sim.kraken.tokens == {}

            nonce = nonces.next()
            _assert_token(sim, await _post(session, token_request(KRAKEN_KEY, secret, nonce, base)))
            for stale in (nonce, nonce - 1, 1):
                body = await _post(session, token_request(KRAKEN_KEY, secret, stale, base))
                assert body == {"error": ["EAPI:Invalid nonce"]}, stale
            body = await _post(
                session,
                SignedRequest(
                    base + TOKEN_PATH,
                    {
                        "API-Key": KRAKEN_KEY,
                        "API-Sign": api_sign(TOKEN_PATH, "", "", secret),
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                    "",
                ),
            )
            assert body == {"error": ["EAPI:Invalid nonce"]}
            assert len(sim.kraken.tokens) == 1
            _assert_token(sim, await _post(session, token_request(KRAKEN_KEY, secret, nonces.next(), base)))
            assert len(sim.kraken.tokens) == 2


async def _recv_json(ws: Any, want: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The next frame matching ``want``, skipping status and heartbeats; numbers keep their text."""
    deadline = time.monotonic() + RECV_S
    while True:
        text = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
        frame: dict[str, Any] = json.loads(text, parse_float=str)
        if want(frame):
            return frame
        assert frame.get("channel") in ("status", "heartbeat"), frame


def _reply_to(req_id: int) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame.get("req_id") == req_id and "method" in frame


@pytest.mark.asyncio
async def test_kraken_token_opens_private_channels() -> None:
    """The REST token subscribes `balances` (ack + snapshot with sequence, equal to the account) and
    `executions` with snap_trades (ack with maxratecount + the last 50 fills) (§2.4, §3.9, §3.10)."""
    secret = _secret()
    async with Simulator(SimOptions(rate=0, kraken_key=KRAKEN_KEY, kraken_secret=secret)) as sim:
        account = sim.market.kraken_account
        _step_until(sim, lambda: len(account.executions) >= 60)
        async with aiohttp.ClientSession() as session:
            token = _assert_token(
                sim,
                await _post(
                    session, token_request(KRAKEN_KEY, secret, NonceSource().next(), sim.urls["kraken_rest"])
                ),
            )
        async with websockets.connect(sim.urls["kraken_ws"], open_timeout=RECV_S, max_size=None) as ws:
            await ws.send(
                json.dumps(
                    {"method": "subscribe", "req_id": 1, "params": {"channel": "balances", "token": token}}
                )
            )
            ack = await _recv_json(ws, _reply_to(1))
            snapshot = await _recv_json(ws, lambda f: f.get("channel") == "balances")
            await ws.send(
                json.dumps(
                    {
                        "method": "subscribe",
                        "req_id": 2,
                        "params": {"channel": "executions", "token": token, "snap_trades": True},
                    }
                )
            )
            exec_ack = await _recv_json(ws, _reply_to(2))
            executions = await _recv_json(ws, lambda f: f.get("channel") == "executions")
            (conn,) = sim.kraken.conns.values()
            assert set(conn.subs) == {("balances", None), ("executions", None)}

    assert ack["method"] == "subscribe"
    assert ack["success"] is True
    assert ack["result"] == {"channel": "balances", "snapshot": True}
    assert (snapshot["type"], snapshot["sequence"]) == ("snapshot", 1)
    balances = {row["asset"]: row["balance"] for row in snapshot["data"]}
    # The simulated ledger keeps USD at 4 decimals and crypto at 8.
    assert balances == {a: _fmt(units, 4 if a == "USD" else 8) for a, units in account.balances.items()}
    for row in snapshot["data"]:
        assert row["asset_class"] == "currency"
        assert row["wallets"] == [{"type": "spot", "id": "main", "balance": row["balance"]}]

    assert exec_ack["success"] is True
    assert exec_ack["result"]["channel"] == "executions"
    assert exec_ack["result"]["snap_trades"] is True
    assert exec_ack["result"]["maxratecount"] == kraken_ws.MAX_RATE_COUNT
    assert type(exec_ack["result"]["maxratecount"]) is int
    assert (executions["type"], executions["sequence"]) == ("snapshot", 1)
    recent = account.executions[-50:]
    # snap_orders (the default) lists the open orders first: the user's resting orders among the
    # level3 endpoint's, then the last 50 fills.
    resting = [r for r in executions["data"] if r["exec_type"] == "new"]
    # the flow fills them (then the user quotes again): each listed one is still open or filled since
    since = set(account.open_orders) | {r["order_id"] for r in account.executions}
    assert resting and {r["order_id"] for r in resting} <= since
    assert all(r["order_status"] in ("new", "partially_filled") and "exec_id" not in r for r in resting)
    fills = [r for r in executions["data"] if r["exec_type"] != "new"]
    assert len(fills) == 50
    assert {r["exec_id"] for r in fills} == {r["exec_id"] for r in recent}
    by_id = {r["exec_id"]: r for r in recent}
    for row in fills:
        truth = by_id[row["exec_id"]]
        pair = sim.market.kraken[truth["symbol"]].pair
        fields = ("order_id", "symbol", "side")
        assert [row[k] for k in fields] == [truth[k] for k in fields]
        assert row["last_qty"] == _fmt(truth["last_qty"][0], pair.qty_precision)
        assert row["last_price"] == _fmt(truth["last_price"][0], pair.price_precision)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"channel": "balances", "token": "bm90LWEtcmVhbC10b2tlbi1hdC1hbGwtc29ycnk"}, "EAPI:Invalid token"),
        (
            {
                "channel": "executions",
                "token": "bm90LWEtcmVhbC10b2tlbi1hdC1hbGwtc29ycnk",
                "snap_trades": True,
            },
            "EAPI:Invalid token",
        ),
        ({"channel": "balances"}, "Token(s) not found"),
        ({"channel": "executions", "token": ""}, "Token(s) not found"),
    ],
)
@pytest.mark.asyncio
async def test_kraken_private_channel_without_valid_token(params: dict[str, Any], error: str) -> None:
    """A made-up token is `EAPI:Invalid token`, no token is `Token(s) not found`; nothing is subscribed."""
    secret = _secret()
    async with Simulator(SimOptions(rate=0, kraken_key=KRAKEN_KEY, kraken_secret=secret)) as sim:
        async with aiohttp.ClientSession() as session:  # a real token exists, but is not the one sent
            request = token_request(KRAKEN_KEY, secret, 1, sim.urls["kraken_rest"])
            _assert_token(sim, await _post(session, request))
        async with websockets.connect(sim.urls["kraken_ws"], open_timeout=RECV_S) as ws:
            await ws.send(json.dumps({"method": "subscribe", "params": params, "req_id": 7}))
            reply = await _recv_json(ws, _reply_to(7))
            await ws.send(json.dumps({"method": "ping", "req_id": 8}))
            pong = await _recv_json(ws, _reply_to(8))
            (conn,) = sim.kraken.conns.values()
            assert conn.subs == {}
    assert reply["method"] == "subscribe"
    assert reply["success"] is False
    assert reply["error"] == error
    assert "result" not in reply
    assert pong["method"] == "pong"  # the socket stays up after the refusal


# ---------------------------------------------------------------------------------------- TLS


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed server certificate for 127.0.0.1 (also its own CA) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "sim-cert.pem", tmp_path / "sim-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.mark.asyncio
async def test_tls_rest_and_kalshi_handshake(tmp_path: Path, kalshi_keys: dict[str, PrivateKey]) -> None:
    """With tls_cert/tls_key the URLs are https/wss; a client trusting the certificate fetches markets and
    completes a verified Kalshi handshake; a client that does not trust it is refused by its own TLS."""
    cert_path, key_path = _self_signed(tmp_path)
    key = kalshi_keys["ed25519"]
    trusted = ssl.create_default_context(cafile=str(cert_path))
    options = SimOptions(
        rate=0, tls_cert=str(cert_path), tls_key=str(key_path), kalshi_public_key_pem=_public_pem(key)
    )
    async with Simulator(options) as sim:
        assert sim.urls["kalshi_ws"].startswith("wss://127.0.0.1:")
        assert sim.urls["kraken_ws"].startswith("wss://127.0.0.1:")
        assert sim.urls["kalshi_rest"].startswith("https://127.0.0.1:")
        assert sim.urls["kraken_rest"].startswith("https://127.0.0.1:")
        assert _path(sim.urls["kalshi_rest"]) == REST_PREFIX

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusted)) as session:
            status, body = await _get(session, sim.urls["kalshi_rest"] + "/markets")
            assert status == 200
            assert [m["ticker"] for m in body["markets"]] == list(sim.market.kalshi)[:100]  # the first page
            status, depth = await _get(
                session, sim.urls["kraken_rest"] + "/0/public/Depth", {"pair": "BTC/USD", "count": "10"}
            )
            (btc,) = depth["result"].values()
            assert [[p, q] for p, q, _ in btc["bids"]] == [
                list(level) for level in sim.kraken_book("BTC/USD", 10)["bids"]
            ]

        await _kalshi_snapshot_over_ws(sim, auth_headers(KEY_ID, key, "GET", WS_PATH), trusted)
        status, body = await _kalshi_refusal(sim.urls["kalshi_ws"], None, trusted)
        assert status == 401

        async with aiohttp.ClientSession() as session:  # system trust store only
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await _get(session, sim.urls["kalshi_rest"] + "/markets")
        with pytest.raises(ssl.SSLCertVerificationError):
            async with websockets.connect(
                sim.urls["kalshi_ws"],
                ssl=ssl.create_default_context(),
                additional_headers=auth_headers(KEY_ID, key),
                open_timeout=RECV_S,
            ):
                pass
        with pytest.raises((websockets.InvalidMessage, ConnectionError, EOFError)):
            plain = sim.urls["kalshi_ws"].replace("wss://", "ws://")
            async with websockets.connect(plain, open_timeout=RECV_S):
                pass


@pytest.mark.asyncio
async def test_kalshi_markets_carry_strikes_and_the_values_a_day_ago() -> None:
    """GET /markets?event_ticker=: every market's strike_type / floor_strike / cap_strike as Kalshi sends
    them (numbers), and previous_price, previous_yes_bid/ask and volume_24h from the day kept."""
    async with Simulator(SimOptions(rate=0)) as sim, aiohttp.ClientSession() as session:
        board = [m for m in sim.market.kalshi.values() if m.listing.series_ticker == "KXBTC"]
        event = board[0].listing.event_ticker
        status, body = await _get(session, sim.urls["kalshi_rest"] + "/markets", {"event_ticker": event})
        day_ago = int(time.time()) - 86_400
    assert status == 200 and [m["ticker"] for m in body["markets"]] == [m.ticker for m in board]
    for obj, market in zip(body["markets"], board, strict=True):
        listing = market.listing
        assert obj["strike_type"] == listing.strike_type
        assert ("floor_strike" in obj) == (listing.floor_strike is not None)
        assert ("cap_strike" in obj) == (listing.cap_strike is not None)
        for key in ("floor_strike", "cap_strike"):
            if key in obj:
                assert isinstance(obj[key], float) and Decimal(str(obj[key])) == Decimal(
                    getattr(listing, key)
                )
        previous = market.price_before(day_ago)
        assert obj["previous_price_dollars"] == _fmt(previous or 0, 4)
        bid, ask = next((m.bid, m.ask) for m in reversed(market.minutes) if m.begin_s <= day_ago)
        assert (obj["previous_yes_bid_dollars"], obj["previous_yes_ask_dollars"]) == (
            _fmt(bid, 4),
            _fmt(ask, 4),
        )
        day = sum(m.volume for m in market.minutes if m.begin_s >= day_ago)
        assert obj["volume_24h_fp"] == _fmt(day, 2)
    kinds = Counter(obj["strike_type"] for obj in body["markets"])
    assert kinds["less"] == kinds["greater"] == 1 and kinds["between"] >= 15
