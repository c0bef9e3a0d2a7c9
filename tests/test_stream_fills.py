"""Nothing lost: fills missed while a link was down come back over REST and merge without duplicates,
even beyond the 50 that Kraken's executions snapshot holds."""

from __future__ import annotations

import asyncio
import base64
import time
from decimal import Decimal

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.core.instruments import Venue
from app.sim.faults import FaultSpec
from app.sim.server import SimOptions, Simulator
from app.stream.engine import StreamEngine
from app.stream.kalshi_link import KalshiCredentials, KalshiLink
from app.stream.kraken_link import KrakenCredentials, KrakenLink, v2_symbol
from app.venues.kraken.auth import NonceSource, private_request
from app.venues.kraken.endpoints import TRADES_HISTORY_PATH

SECRET = base64.b64encode(bytes(range(64))).decode()


@pytest.mark.asyncio
async def test_fills_missed_in_a_long_outage_all_come_back_once() -> None:
    faults = [
        FaultSpec.parse("refuse:status=503,count=1,venue=kraken"),
        FaultSpec.parse("refuse:status=503,count=1,venue=kalshi"),
    ]
    async with Simulator(SimOptions(seed=11, rate=1500, duration=6, faults=faults)) as sim:
        engine = StreamEngine()
        kalshi = KalshiLink(
            sim.urls["kalshi_ws"],
            sim.urls["kalshi_rest"],
            engine.store,
            list(sim.market.kalshi)[:3],
            credentials=KalshiCredentials("fills-test", ed25519.Ed25519PrivateKey.generate()),
        )
        kraken = KrakenLink(
            sim.urls["kraken_ws"],
            sim.urls["kraken_rest"],
            engine.store,
            ["BTC/USD"],
            credentials=KrakenCredentials("fills-test", SECRET),
        )
        engine.add(kalshi)
        engine.add(kraken)
        engine.start()
        try:
            await sim.frozen.wait()
            deadline = time.monotonic() + 15
            kalshi_truth = {f.trade_id for f in sim.market.kalshi_fills}
            kraken_truth = {r["exec_id"] for r in sim.market.kraken_account.executions}
            while time.monotonic() < deadline:
                have = {(v, f) for v, f in engine.store.fills}
                if {f for v, f in have if v is Venue.KALSHI} == kalshi_truth and {
                    f for v, f in have if v is Venue.KRAKEN
                } == kraken_truth:
                    break
                await asyncio.sleep(0.2)
        finally:
            await engine.stop()
    kraken_fills = [f for (v, _), f in engine.store.fills.items() if v is Venue.KRAKEN]
    kalshi_fills = [f for (v, _), f in engine.store.fills.items() if v is Venue.KALSHI]
    assert {f.fill_id for f in kraken_fills} == kraken_truth
    assert {f.fill_id for f in kalshi_fills} == kalshi_truth
    assert len(kraken_fills) == len(kraken_truth) and len(kalshi_fills) == len(kalshi_truth)
    assert sim.faults.count("refuse", "kraken") == 1 and kraken.connects == 2
    # The outage (at least 5 s after a 503) missed more than the executions snapshot's 50.
    assert kraken.fills_fetched > 50
    by_id = {r["exec_id"]: r for r in sim.market.kraken_account.executions}
    for fill in kraken_fills:
        report = by_id[fill.fill_id]
        assert fill.market == report["symbol"] and fill.side.value == report["side"]
        assert fill.size == _dec(report["last_qty"]) and fill.price == _dec(report["last_price"])


def _dec(value: tuple[int, int]) -> object:
    from decimal import Decimal

    units, decimals = value
    return Decimal(units).scaleb(-decimals)


@pytest.mark.asyncio
async def test_trades_history_is_signed_paged_and_newest_first() -> None:
    async with Simulator(SimOptions(seed=11, rate=0, kraken_key="k1", kraken_secret=SECRET)) as sim:
        sim.step(40_000)
        executions = sim.market.kraken_account.executions
        assert len(executions) > 60
        nonces = NonceSource()
        async with aiohttp.ClientSession() as http:
            pages: list[dict[str, object]] = []
            offset = 0
            while True:
                request = private_request(
                    TRADES_HISTORY_PATH,
                    "k1",
                    SECRET,
                    nonces.next(),
                    fields={"ofs": offset},
                    base_url=sim.urls["kraken_rest"],
                )
                async with http.post(request.url, data=request.body, headers=request.headers) as response:
                    body = await response.json()
                assert body["error"] == []
                trades = body["result"]["trades"]
                assert len(trades) <= 50 and body["result"]["count"] == len(executions)
                pages.append(trades)
                offset += len(trades)
                if offset >= body["result"]["count"]:
                    break
            bad = private_request(
                TRADES_HISTORY_PATH,
                "k1",
                base64.b64encode(b"x" * 64).decode(),
                nonces.next(),
                base_url=sim.urls["kraken_rest"],
            )
            async with http.post(bad.url, data=bad.body, headers=bad.headers) as response:
                assert await response.json() == {"error": ["EAPI:Invalid signature"]}
    ids = [txid for page in pages for txid in page]
    assert ids == [r["exec_id"] for r in reversed(executions)]  # newest first, every one once
    newest = executions[-1]
    first = pages[0][ids[0]]
    assert isinstance(first, dict)
    pair = sim.market.kraken[newest["symbol"]].pair
    assert first["pair"] == pair.rest_key and v2_symbol(pair.wsname) == newest["symbol"]
    assert first["type"] == newest["side"] and first["ordertxid"] == newest["order_id"]
    assert first["vol"] == str(_dec(newest["last_qty"])) and first["price"] == str(_dec(newest["last_price"]))


def test_v2_symbol_names() -> None:
    assert v2_symbol("XBT/USD") == "BTC/USD" and v2_symbol("XDG/USD") == "DOGE/USD"
    assert v2_symbol("ETH/XBT") == "ETH/BTC" and v2_symbol("SOL/USD") == "SOL/USD"


@pytest.mark.asyncio
async def test_positions_held_before_connecting_are_loaded_over_rest() -> None:
    """The WebSocket only reports positions as they change: a market held but quiet still shows."""
    from decimal import Decimal

    async with Simulator(SimOptions(seed=5, rate=1500, duration=2)) as sim:
        await sim.frozen.wait()  # trading happened with nobody connected; now nothing changes
        held = {t: m.position for t, m in sim.market.kalshi.items() if m.position.volume}
        assert held
        engine = StreamEngine()
        link = KalshiLink(
            sim.urls["kalshi_ws"],
            sim.urls["kalshi_rest"],
            engine.store,
            list(sim.market.kalshi)[:1],
            credentials=KalshiCredentials("positions-test", ed25519.Ed25519PrivateKey.generate()),
        )
        engine.add(link)
        engine.start()
        try:
            deadline = time.monotonic() + 10
            while len(engine.store.positions) < len(held) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            got = {m: p.position for (_v, m), p in engine.store.positions.items()}
            assert got == {t: Decimal(p.position) / 100 for t, p in held.items()}
        finally:
            await engine.stop()


@pytest.mark.asyncio
async def test_a_resting_order_of_the_user_filled_in_the_level3_book_arrives_as_an_execution_once() -> None:
    """The simulator's own orders (placed among the level-3 orders) are filled by its flow: each fill
    reaches the app on the executions channel with the order's id, size and limit price, is held once,
    and the filled order is no longer open; the user quotes again on that side."""
    async with Simulator(SimOptions(seed=5, rate=400)) as sim:
        account = sim.market.kraken_account
        resting = {oid: dict(r) for oid, r in account.open_orders.items()}
        assert resting  # one bid and one ask on each of the first pairs
        engine = StreamEngine()
        symbols = sorted({r["symbol"] for r in resting.values()})
        engine.add(
            KrakenLink(
                sim.urls["kraken_ws"],
                sim.urls["kraken_rest"],
                engine.store,
                symbols,
                credentials=KrakenCredentials("own-fills-test", SECRET),
            )
        )
        engine.start()
        try:
            await engine.wait_live()
            deadline = time.monotonic() + 30

            def own_fills() -> list[dict[str, object]]:
                return [r for r in account.executions if r["order_id"] in resting]

            while time.monotonic() < deadline and not any(
                (Venue.KRAKEN, r["exec_id"]) in engine.store.fills for r in own_fills()
            ):
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # let any later fill of the same batch arrive too
            arrived = [r for r in own_fills() if (Venue.KRAKEN, r["exec_id"]) in engine.store.fills]
            assert arrived, "no resting order of the user was filled in 30 s"
            for report in arrived:
                order = resting[str(report["order_id"])]
                fill = engine.store.fills[(Venue.KRAKEN, str(report["exec_id"]))]
                price, pd = order["limit_price"]
                qty, qd = report["last_qty"]
                assert fill.order_id == order["order_id"] and fill.market == order["symbol"]
                assert fill.price == Decimal(price).scaleb(-pd)  # at the order's own limit price
                assert fill.size == Decimal(qty).scaleb(-qd) and fill.is_taker is False
                assert fill.side.value == order["side"]
                if report["order_status"] == "filled":
                    assert report["order_id"] not in account.open_orders
            held = [k for k in engine.store.fills if k[1] in {str(r["exec_id"]) for r in arrived}]
            assert len(held) == len(arrived)  # each once
            # the user quoted again: as many open orders as before, none of them a filled one
            assert len(account.open_orders) == len(resting)
        finally:
            await engine.stop()
