"""The simulator's Kraken level3 endpoint, over real sockets, read with the monitor's own codec.

Its order-by-order book summed per price must equal its level-2 book at every level; every frame's
checksum must verify in our Level3Session; without a valid token it refuses, in Kraken's words; the
``bad-checksum`` fault corrupts the checksum and nothing else.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest
import websockets

from app.core.events import ChecksumResult, Level3Change, Level3Snapshot, RecoveryAction
from app.sim.faults import FaultSpec
from app.sim.kraken.orders import SIDES, PairOrders
from app.sim.server import SimOptions, Simulator
from app.venues.kraken.auth import NonceSource, token_request
from app.venues.kraken.commands import KrakenCommands
from app.venues.kraken.session import KrakenSession

KEY, SECRET = "sim-l3-key", "c2ltLWwzLXNlY3JldC1mb3ItdGVzdHMtb25seS0xMjM0NTY3OA=="
PAIR = "BTC/USD"
RECV_S = 5.0


def _options(**kw: Any) -> SimOptions:
    return SimOptions(rate=0, kraken_pairs=2, markets=2, kraken_key=KEY, kraken_secret=SECRET, **kw)


async def _token(sim: Simulator) -> str:
    request = token_request(KEY, SECRET, NonceSource().next(), sim.urls["kraken_rest"])
    async with (
        aiohttp.ClientSession() as http,
        http.post(request.url, data=request.body, headers=request.headers) as response,
    ):
        body = await response.json(content_type=None)
    assert body["error"] == [], body
    return str(body["result"]["token"])


async def _reply(ws: Any, req_id: int) -> list[dict[str, Any]]:
    """Every reply to ``req_id`` that arrives within a short quiet spell (one ack per symbol)."""
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + RECV_S
    while time.monotonic() < deadline:
        try:
            text = await asyncio.wait_for(ws.recv(), 0.3 if out else RECV_S)
        except TimeoutError:
            break
        frame = json.loads(text)
        if frame.get("req_id") == req_id:
            out.append(frame)
    return out


def _assert_orders_equal_level2(orders: PairOrders) -> None:
    """At every price of both sides, the orders' sizes sum to the level-2 size, and no level is missing."""
    state = orders.state
    for name in SIDES:
        ladder, side = state.side(name), orders.side(name)
        assert [p for p, _ in ladder.top()] == [p for p, _ in side.top()], name
        for price, qty in ladder.top():
            assert side.size_at(price) == qty, (name, price)


class Client:
    """One level3 connection read by KrakenSession, as the monitor reads it."""

    def __init__(self, ws: Any, token: str) -> None:
        self.ws, self.token = ws, token
        self.session = KrakenSession()
        self.commands = KrakenCommands()
        self.updates = self.snapshots = 0
        self.mismatches: list[ChecksumResult] = []
        self.recoveries: list[RecoveryAction] = []

    async def send(self, command: dict[str, Any]) -> None:
        self.session.on_command_sent(command)
        await self.ws.send(self.commands.encode(command))

    async def subscribe(self, symbols: list[str], depth: int) -> None:
        await self.send(self.commands.subscribe("level3", symbols, depth=depth, token=self.token))

    async def drain(self, sim: Simulator) -> None:
        """Read until the simulator has nothing queued and the socket is quiet."""
        while True:
            try:
                text = await asyncio.wait_for(self.ws.recv(), 0.15)
            except TimeoutError:
                if sim.pending_frames() == 0:
                    return
                continue
            for ev in self.session.on_frame(text):
                if isinstance(ev, Level3Change):
                    self.updates += 1
                elif isinstance(ev, Level3Snapshot):
                    self.snapshots += 1
                elif isinstance(ev, ChecksumResult) and not ev.ok:
                    self.mismatches.append(ev)
                elif isinstance(ev, RecoveryAction):
                    self.recoveries.append(ev)


def _client_equals_sim(client: Client, orders: PairOrders, depth: int) -> None:
    """The client's level-3 book holds the simulator's top ``depth`` levels, order by order, queue order."""
    book = client.session.level3.books[orders.state.symbol]
    assert not book.stale, book.stale_reason
    pair = orders.state.pair
    assert (book.price_decimals, book.size_decimals) == (pair.price_precision, pair.qty_precision)
    for name in SIDES:  # both in integer units at the pair's precision
        mine = [(p, [(o.order_id, o.size) for o in q]) for p, q in getattr(book, name).levels()]
        truth = [(p, [(o.order_id, o.qty) for o in q]) for p, q in orders.side(name).top(depth)]
        assert mine == truth, name
        # ... and, summed per price, the simulator's level-2 book
        assert getattr(book, name).top() == orders.state.side(name).top(depth), name


@pytest.mark.asyncio
async def test_level3_refused_without_a_valid_token_in_words() -> None:
    async with Simulator(_options()) as sim:
        commands = KrakenCommands()
        async with websockets.connect(sim.urls["kraken_l3_ws"], open_timeout=5) as ws:
            no_token = {"method": "subscribe", "params": {"channel": "level3", "symbol": [PAIR]}, "req_id": 1}
            await ws.send(json.dumps(no_token))
            (reply,) = await _reply(ws, 1)
            assert reply["success"] is False and reply["error"] == "Token(s) not found"
            await ws.send(commands.encode(commands.subscribe("level3", [PAIR], token="made-up-token")))
            (reply,) = await _reply(ws, 1)  # this KrakenCommands numbers from 1 too
            assert reply["success"] is False and reply["error"] == "EAPI:Invalid token"
            assert not sim.kraken.level3.conns[next(iter(sim.kraken.level3.conns))].subs
            # A good token opens it; the main endpoint does not serve the channel at all.
            token = await _token(sim)
            await ws.send(commands.encode(commands.subscribe("level3", [PAIR, "NOPE/USD"], token=token)))
            replies = await _reply(ws, 2)
            assert [(r["success"], r.get("symbol") or r["result"]["symbol"]) for r in replies] == [
                (True, PAIR),
                (False, "NOPE/USD"),
            ]
            ack = {"channel": "level3", "symbol": PAIR, "depth": 10, "snapshot": True}
            assert replies[0]["result"] == ack
            assert replies[1]["error"] == "Currency pair not supported NOPE/USD"
        async with websockets.connect(sim.urls["kraken_ws"], open_timeout=5) as ws:
            await ws.send(KrakenCommands().encode(KrakenCommands().subscribe("level3", [PAIR], token=token)))
            (reply,) = await _reply(ws, 1)
            assert reply["success"] is False and reply["error"] == "Subscription name invalid"


@pytest.mark.asyncio
async def test_sim_level3_book_equals_its_level2_book_and_every_checksum_verifies() -> None:
    """Two depths on two connections while the market moves: every update's checksum verifies in our
    session, each client holds the simulator's orders exactly, and those sum to the level-2 book."""
    async with Simulator(_options()) as sim:
        token = await _token(sim)
        async with (
            websockets.connect(sim.urls["kraken_l3_ws"], max_size=None, open_timeout=5) as ws10,
            websockets.connect(sim.urls["kraken_l3_ws"], max_size=None, open_timeout=5) as ws100,
        ):
            shallow, deep = Client(ws10, token), Client(ws100, token)
            await shallow.subscribe([PAIR, "ETH/USD"], 10)
            await deep.subscribe([PAIR], 100)
            await asyncio.gather(shallow.drain(sim), deep.drain(sim))
            assert shallow.snapshots == 2 and deep.snapshots == 1
            orders = sim.kraken.level3.orders[PAIR]
            _assert_orders_equal_level2(orders)
            for _ in range(12):
                sim.step(250)
                await asyncio.gather(shallow.drain(sim), deep.drain(sim))
                _assert_orders_equal_level2(orders)
                _client_equals_sim(shallow, orders, 10)
                _client_equals_sim(deep, orders, 100)
            _client_equals_sim(shallow, sim.kraken.level3.orders["ETH/USD"], 10)
            assert not shallow.mismatches and not deep.mismatches and not shallow.recoveries
            assert shallow.updates > 200 and deep.updates > 200
            # Every frame carried a checksum and every one verified: snapshots + updates, none failed.
            ok = shallow.session.level3.checksum_ok
            assert sum(ok.values()) == shallow.updates + shallow.snapshots
            assert sum(deep.session.level3.checksum_ok.values()) == deep.updates + deep.snapshots
            # The book really moved order by order: orders were added and deleted, some several at a price.
            book = shallow.session.level3.books[PAIR]
            assert any(len(q) > 1 for _, q in book.bids.levels() + book.asks.levels())


@pytest.mark.asyncio
async def test_bad_checksum_fault_corrupts_only_the_checksum() -> None:
    async with Simulator(_options(faults=[FaultSpec.parse("bad-checksum:every=7,venue=kraken")])) as sim:
        token = await _token(sim)
        async with websockets.connect(sim.urls["kraken_l3_ws"], max_size=None, open_timeout=5) as ws:
            client = Client(ws, token)
            await client.subscribe([PAIR], 10)
            await client.drain(sim)
            for _ in range(10):
                sim.step(50)
                await client.drain(sim)
            assert client.mismatches, "the fault never fired"
            first = client.mismatches[0]
            # The orders were right (our sum is the true one); only the sent checksum was off by one.
            assert first.expected == (first.computed + 1) & 0xFFFFFFFF
            assert [r.markets for r in client.recoveries] == [[PAIR]]  # one re-sync asked, for that pair
            assert sim.faults.count("bad-checksum", "kraken") >= 1
