"""The embedded exchange simulator against the protocol documents, over real sockets.

Kalshi: /work/shared/protocol/kalshi.md §4 (commands), §5 (responses, error codes), §6 (channels),
§7.1 (heartbeat ping), §7.4 (seq rules), §8 (book); the legacy integer-cent feed against the seed doc 000.
Kraken: /work/shared/protocol/kraken.md §1.2 (status, heartbeat), §2 (envelope, errors, acks), §3
(channels), §4 (book maintenance and CRC32 checksum, computed here from the doc), §6 (error wording).

Every frame received is checked with the independent shape validator in ``tests/protocol_models.py``.
The market clock is stopped (``rate=0``) and driven with ``sim.step(n)``, so every run sees the same
market. Where the simulator disagrees with the documents the test states the documented behaviour and
is marked ``xfail(strict=True)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import websockets
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.sim.server import SimOptions, Simulator
from app.venues.kalshi.auth import auth_headers
from tests.protocol_models import check_kraken_book_precision, validate_kalshi, validate_kraken

RECV_TIMEOUT = 3.0  # a frame we expect must arrive within this
QUIET = 0.25  # no frame for this long: the server has sent everything it had
KEY = ed25519.Ed25519PrivateKey.generate()
ONE = Decimal(1)

# Kalshi units as the simulator's market keeps them: prices in $0.0001, sizes in 0.01 contract.
PRICE_UNITS = Decimal(10_000)
SIZE_UNITS = Decimal(100)


def options(**kw: Any) -> SimOptions:
    return SimOptions(rate=0, **kw)


def dollars(units: int) -> str:
    return f"{Decimal(units) / PRICE_UNITS:.4f}"


def contracts(units: int) -> str:
    return f"{Decimal(units) / SIZE_UNITS:.2f}"


# ===================================================================================================
# Clients
# ===================================================================================================


class KalshiClient:
    """A raw Kalshi connection: JSON commands out, validated and parsed frames in."""

    def __init__(self, ws: Any, legacy: bool) -> None:
        self.ws = ws
        self.legacy = legacy

    async def send(self, command: dict[str, Any] | str) -> None:
        await self.ws.send(command if isinstance(command, str) else json.dumps(command))

    async def recv(self, timeout: float = RECV_TIMEOUT) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        text = raw if isinstance(raw, str) else raw.decode()
        validate_kalshi(text, legacy=self.legacy)  # raises ShapeError on any undocumented shape
        frame: dict[str, Any] = json.loads(text)
        frame.pop("sending_ts_ms", None)  # a send timestamp; compared nowhere
        return frame

    async def recv_n(self, count: int) -> list[dict[str, Any]]:
        return [await self.recv() for _ in range(count)]

    async def drain(self, quiet: float = QUIET) -> list[dict[str, Any]]:
        """Every frame until the connection has been quiet for ``quiet`` seconds."""
        out = []
        while True:
            try:
                out.append(await self.recv(quiet))
            except TimeoutError:
                return out

    async def expect_silence(self, quiet: float = QUIET) -> None:
        frames = await self.drain(quiet)
        assert frames == [], f"unexpected frames: {frames[:3]}"


@contextlib.asynccontextmanager
async def kalshi(sim: Simulator) -> AsyncIterator[KalshiClient]:
    async with websockets.connect(
        sim.urls["kalshi_ws"], additional_headers=auth_headers("key-id", KEY), max_size=None, open_timeout=5
    ) as ws:
        yield KalshiClient(ws, sim.options.legacy_kalshi)


class KrakenClient:
    """A raw Kraken connection; frames parsed with Decimal so number text (and the checksum) survives."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.precision: dict[str, tuple[int, int]] = {}  # symbol -> (price, qty), once instrument is read

    async def send(self, request: dict[str, Any] | str) -> None:
        await self.ws.send(request if isinstance(request, str) else json.dumps(request))

    async def recv(self, timeout: float = RECV_TIMEOUT) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        text = raw if isinstance(raw, str) else raw.decode()
        kind = validate_kraken(text)
        frame: dict[str, Any] = json.loads(text, parse_float=Decimal)
        if kind.startswith("book.") and frame["data"][0]["symbol"] in self.precision:
            pd, qd = self.precision[frame["data"][0]["symbol"]]
            check_kraken_book_precision(text, price_precision=pd, qty_precision=qd)
        return frame

    async def drain(self, quiet: float = QUIET) -> list[dict[str, Any]]:
        out = []
        while True:
            try:
                out.append(await self.recv(quiet))
            except TimeoutError:
                return out

    async def expect_silence(self, quiet: float = QUIET) -> None:
        frames = await self.drain(quiet)
        assert frames == [], f"unexpected frames: {frames[:3]}"

    async def load_instruments(self) -> dict[str, Any]:
        """Subscribe to ``instrument`` and keep each pair's precisions (kraken.md §0 step 5)."""
        await self.send({"method": "subscribe", "params": {"channel": "instrument"}, "req_id": 900})
        ack, snapshot = await self.recv(), await self.recv()
        assert ack["method"] == "subscribe" and ack["success"] is True
        assert snapshot["channel"] == "instrument" and snapshot["type"] == "snapshot"
        for pair in snapshot["data"]["pairs"]:
            self.precision[pair["symbol"]] = (pair["price_precision"], pair["qty_precision"])
        return snapshot


@contextlib.asynccontextmanager
async def kraken(sim: Simulator, *, read_status: bool = True) -> AsyncIterator[KrakenClient]:
    async with websockets.connect(sim.urls["kraken_ws"], max_size=None, open_timeout=5) as ws:
        client = KrakenClient(ws)
        if read_status:
            status = await client.recv()
            assert status["channel"] == "status"
        yield client


# ===================================================================================================
# Kalshi helpers
# ===================================================================================================


def by_type(frames: list[dict[str, Any]], *types: str) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] in types]


def seqs_by_sid(frames: list[dict[str, Any]]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for f in frames:
        if "seq" in f:
            out.setdefault(f["sid"], []).append(f["seq"])
    return out


def assert_contiguous(frames: list[dict[str, Any]], sid: int, start: int = 1) -> int:
    """The sid's frames carry seq start, start+1, ... with no gap; returns the last seq."""
    seqs = seqs_by_sid(frames).get(sid, [])
    assert seqs == list(range(start, start + len(seqs))), f"sid {sid} seqs {seqs[:20]}..."
    return seqs[-1] if seqs else start - 1


Book = dict[str, dict[Decimal, Decimal]]  # side -> price -> size


def book_from_snapshot(msg: dict[str, Any]) -> Book:
    return {
        side: {Decimal(p): Decimal(s) for p, s in msg.get(f"{side}_dollars_fp", [])} for side in ("yes", "no")
    }


def apply_delta(book: Book, msg: dict[str, Any]) -> None:
    """§8: new size = old + delta_fp; the level goes at 0; below 0 the book is corrupt."""
    levels = book[msg["side"]]
    price = Decimal(msg["price_dollars"])
    size = levels.get(price, Decimal(0)) + Decimal(msg["delta_fp"])
    assert size >= 0, f"delta drives {msg['market_ticker']} {msg['side']} {price} negative"
    if size == 0:
        levels.pop(price, None)
    else:
        levels[price] = size


def truth_book(sim: Simulator, ticker: str, *, use_yes_price: bool = False) -> Book:
    """The exchange's own book, NO side flipped to the YES scale when asked (§8)."""
    truth = sim.kalshi_book(ticker)
    yes = {Decimal(p): Decimal(s) for p, s in truth["yes"]}
    no = {(ONE - Decimal(p)) if use_yes_price else Decimal(p): Decimal(s) for p, s in truth["no"]}
    return {"yes": yes, "no": no}


def opposite(side: str) -> str:
    return "no" if side == "yes" else "yes"


def subscribe(cid: int, channels: list[str], **params: Any) -> dict[str, Any]:
    return {"id": cid, "cmd": "subscribe", "params": {"channels": channels, **params}}


# ===================================================================================================
# Kalshi: subscribe, sids, snapshots, deltas, seq
# ===================================================================================================


@pytest.mark.asyncio
async def test_kalshi_one_subscribed_per_channel_with_command_id_and_increasing_sids() -> None:
    """§4.1/G4: one ``subscribed`` per channel echoing the command id, sids 1, 2, 3 ... per connection."""
    async with Simulator(options()) as sim, kalshi(sim) as k:
        a, b = list(sim.market.kalshi)[:2]
        await k.send(subscribe(7, ["orderbook_delta", "ticker", "trade"], market_tickers=[a, b]))
        frames = await k.drain()
        assert by_type(frames, "subscribed") == [
            {"type": "subscribed", "id": 7, "msg": {"channel": "orderbook_delta", "sid": 1}},
            {"type": "subscribed", "id": 7, "msg": {"channel": "ticker", "sid": 2}},
            {"type": "subscribed", "id": 7, "msg": {"channel": "trade", "sid": 3}},
        ]
        snaps = by_type(frames, "orderbook_snapshot")
        assert [(s["sid"], s["seq"], s["msg"]["market_ticker"]) for s in snaps] == [(1, 1, a), (1, 2, b)]
        assert all("id" not in s for s in snaps)  # only a get_snapshot answer carries the command id
        assert len(frames) == 5
        # The next subscribe continues the numbering; id 0 is treated as no id (§3).
        await k.send(subscribe(0, ["fill"]))
        assert await k.drain() == [{"type": "subscribed", "msg": {"channel": "fill", "sid": 4}}]


@pytest.mark.asyncio
async def test_kalshi_snapshots_then_deltas_with_seq_per_sid_and_unsequenced_ticker() -> None:
    """§6.1/§7.4: a snapshot per market, then deltas; one seq run per sid (book and trade), none on ticker.
    Replaying the deltas on the snapshots gives the exchange's book; every ticker and trade agrees with it."""
    async with Simulator(options(seed=3)) as sim, kalshi(sim) as k:
        tickers = list(sim.market.kalshi)
        await k.send(subscribe(1, ["orderbook_delta", "ticker", "trade"], market_tickers=tickers))
        frames = await k.drain()
        books = {
            f["msg"]["market_ticker"]: book_from_snapshot(f["msg"])
            for f in by_type(frames, "orderbook_snapshot")
        }
        assert list(books) == tickers
        for ticker in tickers:
            assert books[ticker] == truth_book(sim, ticker)
        sim.step(800)
        stream = await k.drain()
        frames += stream
        assert assert_contiguous(frames, 1) == len(tickers) + len(by_type(stream, "orderbook_delta"))
        assert assert_contiguous(frames, 3) == len(by_type(stream, "trade")) > 10
        tickers_seen = by_type(stream, "ticker")
        assert len(tickers_seen) > 100 and all("seq" not in f and f["sid"] == 2 for f in tickers_seen)
        assert {f["type"] for f in stream} == {"orderbook_delta", "ticker", "trade"}

        last_trade: dict[str, dict[str, Any]] = {}
        previous: dict[str, Any] = {}
        for f in stream:
            msg = f["msg"]
            if f["type"] == "orderbook_delta":
                assert f["sid"] == 1
                apply_delta(books[msg["market_ticker"]], msg)
            elif f["type"] == "trade":
                last_trade[msg["market_ticker"]] = msg
                assert Decimal(msg["yes_price_dollars"]) + Decimal(msg["no_price_dollars"]) == ONE
                assert (msg["taker_book_side"] == "bid") == (msg["taker_outcome_side"] == "yes")  # §6.3
                # The print took the best bid of the other side (§8: a YES buyer hits the best NO bid).
                hit = previous["msg"]
                assert (previous["type"], hit["market_ticker"]) == ("orderbook_delta", msg["market_ticker"])
                assert hit["side"] == opposite(msg["taker_outcome_side"])
                assert Decimal(hit["delta_fp"]) == -Decimal(msg["count_fp"])
                side_price = "no_price_dollars" if hit["side"] == "no" else "yes_price_dollars"
                assert hit["price_dollars"] == msg[side_price]
            else:  # the ticker follows the book changes of its step (§6.2: L1 of the book, §8)
                book = books[msg["market_ticker"]]
                if book["yes"]:
                    best = max(book["yes"])
                    assert (Decimal(msg["yes_bid_dollars"]), Decimal(msg["yes_bid_size_fp"])) == (
                        best,
                        book["yes"][best],
                    )
                else:
                    assert msg["yes_bid_dollars"] == "0.0000"  # §6.2: real "0.0000" when no bid
                if book["no"]:
                    best = max(book["no"])
                    assert Decimal(msg["yes_ask_dollars"]) == ONE - best
                    assert Decimal(msg["yes_ask_size_fp"]) == book["no"][best]
                trade = last_trade.get(msg["market_ticker"])
                if trade is not None:
                    assert msg["price_dollars"] == trade["yes_price_dollars"]
                    assert msg["last_trade_size_fp"] == trade["count_fp"]
            previous = f
        for ticker in tickers:
            assert books[ticker] == truth_book(sim, ticker), ticker


@pytest.mark.asyncio
async def test_kalshi_use_yes_price_changes_only_no_side_prices() -> None:
    """§8: ``use_yes_price: true`` reports NO levels at 1 - p; YES levels and every size are unchanged."""
    async with Simulator(options(seed=5)) as sim, kalshi(sim) as plain, kalshi(sim) as yes_scale:
        tickers = list(sim.market.kalshi)[:6]
        await plain.send(subscribe(1, ["orderbook_delta"], market_tickers=tickers, use_yes_price=False))
        await yes_scale.send(subscribe(1, ["orderbook_delta"], market_tickers=tickers, use_yes_price=True))
        a, b = await plain.drain(), await yes_scale.drain()
        for frames, flag in ((a, False), (b, True)):
            for f in by_type(frames, "orderbook_snapshot"):
                assert book_from_snapshot(f["msg"]) == truth_book(
                    sim, f["msg"]["market_ticker"], use_yes_price=flag
                )
        sim.step(600)
        a, b = a + await plain.drain(), b + await yes_scale.drain()
        assert len(a) == len(b) > len(tickers) + 20
        assert [f["type"] for f in a] == [f["type"] for f in b]
        for fa, fb in zip(a[1:], b[1:], strict=True):
            ma, mb = fa["msg"], fb["msg"]
            assert fa["seq"] == fb["seq"]
            if fa["type"] == "orderbook_snapshot":
                assert mb["yes_dollars_fp"] == ma["yes_dollars_fp"]
                flipped = sorted((f"{ONE - Decimal(p):.4f}", s) for p, s in ma["no_dollars_fp"])
                assert sorted((p, s) for p, s in mb["no_dollars_fp"]) == flipped
            else:
                assert (mb["side"], mb["delta_fp"], mb["market_ticker"]) == (
                    ma["side"],
                    ma["delta_fp"],
                    ma["market_ticker"],
                )
                expected = (
                    ma["price_dollars"]
                    if ma["side"] == "yes"
                    else f"{ONE - Decimal(ma['price_dollars']):.4f}"
                )
                assert mb["price_dollars"] == expected
        # Both replays end on the exchange's book, each on its own scale.
        for frames, flag in ((a, False), (b, True)):
            books = {
                f["msg"]["market_ticker"]: book_from_snapshot(f["msg"])
                for f in by_type(frames, "orderbook_snapshot")
            }
            for f in by_type(frames, "orderbook_delta"):
                apply_delta(books[f["msg"]["market_ticker"]], f["msg"])
            for ticker in tickers:
                assert books[ticker] == truth_book(sim, ticker, use_yes_price=flag)


@pytest.mark.asyncio
async def test_kalshi_snapshot_omits_an_empty_side() -> None:
    """§6.1/§8: "This key will not exist if there are no Yes offers"; an empty market has neither key."""
    async with Simulator(options()) as sim, kalshi(sim) as k:
        one_sided, empty, full = list(sim.market.kalshi)[:3]
        sim.market.kalshi[one_sided].no.clear()
        sim.market.kalshi[empty].yes.clear()
        sim.market.kalshi[empty].no.clear()
        await k.send(subscribe(1, ["orderbook_delta"], market_tickers=[one_sided, empty, full]))
        frames = await k.drain()
        snaps = {f["msg"]["market_ticker"]: f["msg"] for f in by_type(frames, "orderbook_snapshot")}
        ids = {t: sim.market.kalshi[t].listing.market_id for t in snaps}
        assert set(snaps[one_sided]) == {"market_ticker", "market_id", "yes_dollars_fp"}
        assert snaps[empty] == {"market_ticker": empty, "market_id": ids[empty]}
        assert set(snaps[full]) == {"market_ticker", "market_id", "yes_dollars_fp", "no_dollars_fp"}
        assert book_from_snapshot(snaps[one_sided]) == truth_book(sim, one_sided)


@pytest.mark.asyncio
async def test_kalshi_repeat_subscribe_is_idempotent_and_snapshots_only_new_tickers() -> None:
    """§4.1/§7.4 rule 4: a repeat subscribe answers ``ok`` (consuming a seq) and sends no snapshot for known
    tickers; a new ticker is added with a snapshot for it alone."""
    async with Simulator(options()) as sim, kalshi(sim) as k:
        a, b = list(sim.market.kalshi)[:2]
        await k.send(subscribe(1, ["orderbook_delta"], market_tickers=[a]))
        assert [f["type"] for f in await k.drain()] == ["subscribed", "orderbook_snapshot"]
        await k.send(subscribe(2, ["orderbook_delta"], market_tickers=[a]))
        assert await k.drain() == [
            {"type": "ok", "id": 2, "sid": 1, "seq": 2, "msg": {"market_tickers": [a]}}
        ]
        await k.send(subscribe(3, ["orderbook_delta"], market_tickers=[a, b]))
        frames = await k.drain()
        assert frames[0] == {
            "type": "ok",
            "id": 3,
            "sid": 1,
            "seq": 3,
            "msg": {"market_tickers": sorted([a, b])},
        }
        assert [(f["type"], f["seq"], f["msg"]["market_ticker"]) for f in frames[1:]] == [
            ("orderbook_snapshot", 4, b)
        ]
        assert book_from_snapshot(frames[1]["msg"]) == truth_book(sim, b)
        # The new ticker keeps the sid and its deltas continue the seq; an untracked ticker sends nothing.
        sim.step(600)
        deltas = await k.drain()
        assert {f["msg"]["market_ticker"] for f in deltas} == {a, b}  # the other 22 markets send nothing
        assert [f["seq"] for f in deltas] == list(range(5, 5 + len(deltas)))


# ===================================================================================================
# Kalshi: update_subscription, unsubscribe, list_subscriptions
# ===================================================================================================


@pytest.mark.asyncio
async def test_kalshi_update_add_markets_snapshots_the_new_market_and_seq_continues() -> None:
    """§4.3: add_markets answers ``ok`` with the full list and a fresh snapshot; same sid, seq not reset."""
    async with Simulator(options()) as sim, kalshi(sim) as k:
        a, b = list(sim.market.kalshi)[:2]
        await k.send(subscribe(1, ["orderbook_delta"], market_tickers=[a]))
        await k.drain()
        sim.step(200)
        before = await k.drain()
        last = assert_contiguous(before, 1, start=2)
        await k.send(
            {
                "id": 2,
                "cmd": "update_subscription",
                "params": {"sid": 1, "action": "add_markets", "market_tickers": [b]},
            }
        )
        ok, snap = await k.recv_n(2)
        assert ok == {
            "type": "ok",
            "id": 2,
            "sid": 1,
            "seq": last + 1,
            "msg": {"market_tickers": sorted([a, b])},
        }
        assert (snap["type"], snap["sid"], snap["seq"], snap["msg"]["market_ticker"]) == (
            "orderbook_snapshot",
            1,
            last + 2,
            b,
        )
        assert book_from_snapshot(snap["msg"]) == truth_book(sim, b)
        await k.expect_silence()
        sim.step(600)
        after = await k.drain()
        assert_contiguous(after, 1, start=last + 3)
        assert {f["msg"]["market_ticker"] for f in after} == {a, b}


@pytest.mark.asyncio
async def test_kalshi_update_delete_markets_stops_its_deltas() -> None:
    """§4.3: delete_markets answers ``ok`` with the remaining list; the deleted market sends no more deltas
    (a second connection shows that it kept moving)."""
    async with Simulator(options()) as sim, kalshi(sim) as k, kalshi(sim) as control:
        a, b = list(sim.market.kalshi)[:2]
        for client in (k, control):
            await client.send(subscribe(1, ["orderbook_delta"], market_tickers=[a, b]))
            await client.drain()
        await k.send(
            {
                "id": 2,
                "cmd": "update_subscription",
                "params": {"sids": [1], "action": "delete_markets", "market_tickers": [a]},
            }
        )
        assert await k.drain() == [
            {"type": "ok", "id": 2, "sid": 1, "seq": 3, "msg": {"market_tickers": [b]}}
        ]
        sim.step(600)
        mine, theirs = await k.drain(), await control.drain()
        assert Counter(f["msg"]["market_ticker"] for f in theirs)[a] > 3
        assert {f["msg"]["market_ticker"] for f in mine} == {b}
        assert [f["msg"] for f in mine] == [f["msg"] for f in theirs if f["msg"]["market_ticker"] == b]
        assert_contiguous(mine, 1, start=4)


@pytest.mark.asyncio
async def test_kalshi_get_snapshot_answers_with_command_id_and_is_refused_on_a_trade_sid() -> None:
    """§4.3/§7.4: get_snapshot sends one snapshot per market carrying the command id, continuing the seq,
    and deltas go on after it; on a trade sid it is error 13 scoped with sid and seq (a seq consumed)."""
    async with Simulator(options(seed=2)) as sim, kalshi(sim) as k:
        a, b = list(sim.market.kalshi)[:2]
        await k.send(subscribe(1, ["orderbook_delta"], market_tickers=[a, b]))
        await k.send(subscribe(2, ["trade"]))
        frames = await k.drain()
        sim.step(500)
        frames += await k.drain()
        book_seq, trade_seq = assert_contiguous(frames, 1), assert_contiguous(frames, 2)
        assert trade_seq > 5
        await k.send(
            {
                "id": 3,
                "cmd": "update_subscription",
                "params": {"sid": 1, "action": "get_snapshot", "market_tickers": [b, a]},
            }
        )
        snaps = await k.drain()
        assert [(f["type"], f["id"], f["sid"], f["seq"], f["msg"]["market_ticker"]) for f in snaps] == [
            ("orderbook_snapshot", 3, 1, book_seq + 1, b),
            ("orderbook_snapshot", 3, 1, book_seq + 2, a),
        ]
        for f in snaps:
            assert book_from_snapshot(f["msg"]) == truth_book(sim, f["msg"]["market_ticker"])
        await k.send(
            {
                "id": 4,
                "cmd": "update_subscription",
                "params": {"sid": 2, "action": "get_snapshot", "market_tickers": [a]},
            }
        )
        assert await k.drain() == [
            {
                "type": "error",
                "id": 4,
                "sid": 2,
                "seq": trade_seq + 1,
                "msg": {"code": 13, "msg": "Unsupported action"},
            }
        ]
        sim.step(500)
        after = await k.drain()
        assert_contiguous(after, 1, start=book_seq + 3)
        assert_contiguous(after, 2, start=trade_seq + 2)
        assert by_type(after, "orderbook_delta") and by_type(after, "trade")


@pytest.mark.parametrize(
    ("params", "code", "text"),
    [
        ({"sid": 1, "sids": [1], "action": "add_markets"}, 12, "Exactly one subscription ID is required"),
        ({"sids": [1, 2], "action": "add_markets"}, 12, "Exactly one subscription ID is required"),
        ({"sid": 99, "action": "add_markets"}, 7, "Unknown subscription ID"),
        ({"sid": 1}, 15, "Action required"),
    ],
    ids=["sid-and-sids", "two-sids", "unknown-sid", "no-action"],
)
@pytest.mark.asyncio
async def test_kalshi_update_subscription_errors(params: dict[str, Any], code: int, text: str) -> None:
    """§4.3/§5.1: sid and sids together (or two sids) → 12, an unknown sid → 7, no action → 15; the
    subscription is left as it was."""
    async with Simulator(options()) as sim, kalshi(sim) as k:
        a, b = list(sim.market.kalshi)[:2]
        params = {**params, "market_tickers": [b]}
        await k.send(subscribe(1, ["orderbook_delta", "trade"], market_tickers=[a]))
        await k.drain()
        await k.send({"id": 5, "cmd": "update_subscription", "params": params})
        reply = await k.recv()
        assert reply["type"] == "error" and reply["id"] == 5
        assert reply["msg"] == {"code": code, "msg": text}
        await k.expect_silence()
        await k.send(subscribe(6, ["orderbook_delta"], market_tickers=[a]))
        ok = await k.recv()
        assert (ok["type"], ok["msg"]) == ("ok", {"market_tickers": [a]})


@pytest.mark.asyncio
async def test_kalshi_unsubscribe_answers_per_sid_and_list_subscriptions_shows_the_rest() -> None:
    """§4.2: one ``unsubscribed`` per sid (id, sid, seq continuing the sid); nothing more on those sids.
    §4.4: list_subscriptions answers ``ok`` with a msg array of {channel, sid}."""
    async with Simulator(options()) as sim, kalshi(sim) as k:
        a = next(iter(sim.market.kalshi))
        await k.send(subscribe(1, ["orderbook_delta", "ticker", "trade"], market_tickers=[a]))
        await k.drain()
        await k.send({"id": 2, "cmd": "list_subscriptions"})
        assert await k.drain() == [
            {
                "type": "ok",
                "id": 2,
                "msg": [
                    {"channel": "orderbook_delta", "sid": 1},
                    {"channel": "ticker", "sid": 2},
                    {"channel": "trade", "sid": 3},
                ],
            }
        ]
        await k.send({"id": 3, "cmd": "unsubscribe", "params": {"sids": [1, 3]}})
        assert await k.drain() == [
            {"type": "unsubscribed", "id": 3, "sid": 1, "seq": 2},
            {"type": "unsubscribed", "id": 3, "sid": 3, "seq": 1},
        ]
        sim.step(600)
        rest = await k.drain()
        assert len(rest) > 3 and {(f["type"], f["sid"]) for f in rest} == {("ticker", 2)}
        await k.send({"id": 4, "cmd": "list_subscriptions"})
        assert await k.drain() == [{"type": "ok", "id": 4, "msg": [{"channel": "ticker", "sid": 2}]}]
        await k.send({"id": 5, "cmd": "unsubscribe", "params": {"sids": [1]}})
        assert await k.drain() == [
            {"type": "error", "id": 5, "msg": {"code": 7, "msg": "Unknown subscription ID"}}
        ]


# ===================================================================================================
# Kalshi: error codes, binary commands, heartbeat
# ===================================================================================================


@pytest.mark.parametrize(
    ("command", "code", "text"),
    [
        ("this is not json", 1, "Unable to process message"),
        ({"id": 2, "cmd": "subscribe"}, 2, "Params required"),
        ({"id": 3, "cmd": "subscribe", "params": {"channels": []}}, 3, "Channels required"),
        ({"id": 4, "cmd": "unsubscribe", "params": {}}, 4, "Subscription IDs required"),
        ({"id": 5, "cmd": "frobnicate", "params": {}}, 5, "Unknown command"),
        ({"id": 6, "cmd": "subscribe", "params": {"channels": ["ticker_v2"]}}, 8, "Unknown channel name"),
        (
            {
                "id": 7,
                "cmd": "subscribe",
                "params": {"channels": ["orderbook_delta"], "market_tickers": ["NO-SUCH-MKT"]},
            },
            11,
            "Invalid parameter",
        ),
        (
            {"id": 8, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"]}},
            14,
            "Market Ticker required",
        ),
    ],
)
@pytest.mark.asyncio
async def test_kalshi_error_codes(command: dict[str, Any] | str, code: int, text: str) -> None:
    """§5.1: each malformed command gets exactly one ``error`` with its code and message, echoing the
    command id (none for a frame that is not JSON); nothing gets subscribed and the socket stays up."""
    async with Simulator(options()) as sim, kalshi(sim) as k:
        await k.send(command)
        (reply,) = await k.drain()
        assert reply["type"] == "error"
        assert reply.get("id") == (None if isinstance(command, str) else command["id"])
        assert (reply["msg"]["code"], reply["msg"]["msg"]) == (code, text)
        assert "sid" not in reply and "seq" not in reply
        await k.send({"id": 50, "cmd": "list_subscriptions"})
        assert await k.drain() == [{"type": "ok", "id": 50, "msg": []}]


@pytest.mark.asyncio
async def test_kalshi_binary_frame_commands_are_accepted() -> None:
    """A command sent as a binary frame is handled like text."""
    async with Simulator(options()) as sim, kalshi(sim) as k:
        a = next(iter(sim.market.kalshi))
        await k.ws.send(json.dumps(subscribe(1, ["orderbook_delta"], market_ticker=a)).encode())
        sub, snap = await k.drain()
        assert sub == {"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 1}}
        assert (snap["type"], snap["seq"], snap["msg"]["market_ticker"]) == ("orderbook_snapshot", 1, a)
        await k.ws.send(b'{"id": 2, "cmd": "list_subscriptions"}')
        assert await k.drain() == [{"type": "ok", "id": 2, "msg": [{"channel": "orderbook_delta", "sid": 1}]}]


@pytest.mark.asyncio
async def test_kalshi_server_pings_with_heartbeat_payload() -> None:
    """§7.1: the server sends WebSocket Ping frames with body ``heartbeat`` every interval (0.2 s here);
    there is no JSON heartbeat. aiohttp with autoping off shows the pings websockets would answer silently."""
    async with (
        Simulator(options(kalshi_ping_interval=0.2)) as sim,
        aiohttp.ClientSession() as session,
        session.ws_connect(sim.urls["kalshi_ws"], headers=auth_headers("key-id", KEY), autoping=False) as ws,
    ):
        start = time.monotonic()
        pings: list[float] = []
        while time.monotonic() - start < 1.1:
            msg = await ws.receive(timeout=1.0)
            assert msg.type == aiohttp.WSMsgType.PING, msg  # nothing else is sent unprompted
            assert msg.data == b"heartbeat"
            pings.append(time.monotonic())
            await ws.pong(msg.data)
        assert 4 <= len(pings) <= 7
        gaps = [b - a for a, b in itertools.pairwise(pings)]
        assert all(0.1 <= g <= 0.4 for g in gaps), gaps


# ===================================================================================================
# Kalshi: private channels and lifecycle
# ===================================================================================================


@pytest.mark.asyncio
async def test_kalshi_private_channels_deliver_fill_user_order_and_market_position() -> None:
    """§6.4-6.6: fill, user_orders and market_positions send ``fill``, ``user_order`` and ``market_position``
    frames (types differ from channel names, no seq) carrying the account's fills exactly. Direction
    (§6.3): outcome_side is the canonical direction (buy-yes and sell-no are yes), book_side bid ≡ yes; the
    deprecated side/purchased_side/is_yes name the contract bought or sold."""
    async with Simulator(options(seed=1)) as sim, kalshi(sim) as k:
        await k.send(subscribe(1, ["fill", "market_positions", "user_orders"]))
        assert [f["msg"] for f in await k.drain()] == [
            {"channel": "fill", "sid": 1},
            {"channel": "market_positions", "sid": 2},
            {"channel": "user_orders", "sid": 3},
        ]
        while not any(f.action == "sell" for f in sim.market.kalshi_fills):
            sim.step()
        fills = sim.market.kalshi_fills
        assert len(fills) >= 10 and {f.outcome for f in fills} == {"yes", "no"}
        frames = await k.drain()
        assert [f["type"] for f in frames] == ["fill", "user_order", "market_position"] * len(fills)
        assert all("seq" not in f for f in frames)
        volume: Counter[str] = Counter()
        held: Counter[str] = Counter()  # the account's position per market, + YES / - NO (§6.5)
        for i, fill in enumerate(fills):
            f, order, position = (frames[3 * i + j]["msg"] for j in range(3))
            assert [frames[3 * i + j]["sid"] for j in range(3)] == [1, 3, 2]
            direction = fill.outcome
            contract = direction if fill.action == "buy" else opposite(direction)
            assert (fill.post_position > held[fill.market]) == (direction == "yes")  # the yes direction adds
            held[fill.market] = fill.post_position
            assert f == {
                "trade_id": fill.trade_id,
                "order_id": fill.order_id,
                "client_order_id": fill.client_order_id,
                "market_ticker": fill.market,
                "exchange_index": 0,
                "is_taker": fill.is_taker,
                "side": contract,
                "yes_price_dollars": dollars(fill.yes_price),
                "count_fp": contracts(fill.count),
                "fee_cost": f"{Decimal(fill.fee_micros) / 10**6:.6f}",
                "action": fill.action,
                "post_position_fp": contracts(fill.post_position),
                "purchased_side": contract,
                "outcome_side": direction,
                "book_side": "bid" if direction == "yes" else "ask",
                "ts": fill.ts_ms // 1000,
                "ts_ms": fill.ts_ms,
            }
            assert (order["order_id"], order["ticker"], order["status"]) == (
                fill.order_id,
                fill.market,
                "executed",
            )
            assert (order["outcome_side"], order["book_side"], order["side"], order["is_yes"]) == (
                direction,
                f["book_side"],
                contract,
                contract == "yes",
            )
            assert order["client_order_id"] == fill.client_order_id
            assert (order["fill_count_fp"], order["initial_count_fp"], order["remaining_count_fp"]) == (
                contracts(fill.count),
                contracts(fill.count),
                "0.00",
            )
            assert order["yes_price_dollars"] == dollars(fill.yes_price)
            volume[fill.market] += fill.count
            assert position["market_ticker"] == fill.market and position["user_id"] == order["user_id"]
            assert (position["position_fp"], position["volume_fp"]) == (
                contracts(fill.post_position),
                contracts(volume[fill.market]),
            )
        assert fills[-1].action == "sell" and frames[-3]["msg"]["action"] == "sell"


@pytest.mark.asyncio
async def test_kalshi_market_lifecycle_v2_events() -> None:
    """§6.8: the lifecycle channel (global, sequenced) sends an early close, determination, settlement, the
    successor's event_lifecycle + created, and a pause/resume, with seq 1, 2, 3 ..."""
    async with Simulator(options(seed=4)) as sim, kalshi(sim) as k:
        await k.send(subscribe(1, ["market_lifecycle_v2"]))
        assert await k.drain() == [
            {"type": "subscribed", "id": 1, "msg": {"channel": "market_lifecycle_v2", "sid": 1}}
        ]
        sim.step(8400)
        frames = await k.drain()
        kinds = [f["msg"].get("event_type", f["type"]) for f in frames]
        assert kinds == [
            "close_date_updated",
            "determined",
            "settled",
            "event_lifecycle",
            "created",
            "deactivated",
            "activated",
        ]
        assert [(f["sid"], f["seq"]) for f in frames] == [(1, n) for n in range(1, 8)]
        closed, determined, settled, event, created, paused, resumed = (f["msg"] for f in frames)
        ticker = closed["market_ticker"]
        market = sim.market.kalshi[ticker]
        assert determined["market_ticker"] == settled["market_ticker"] == ticker
        assert closed == {
            "market_ticker": ticker,
            "event_type": "close_date_updated",
            "close_ts": market.close_ts,
        }
        assert determined == {
            "market_ticker": ticker,
            "event_type": "determined",
            "result": market.result,
            "determination_ts": market.determination_ts,
            "settlement_value": "1.0000" if market.result == "yes" else "0.0000",
        }
        assert settled == {"market_ticker": ticker, "event_type": "settled", "settled_ts": market.settled_ts}
        assert market.status == "finalized"
        successor = sim.market.kalshi[created["market_ticker"]]
        assert created["market_ticker"] != ticker
        assert (
            event["event_ticker"]
            == created["additional_metadata"]["event_ticker"]
            == successor.listing.event_ticker
        )
        assert event["series_ticker"] == market.listing.series_ticker == successor.listing.series_ticker
        assert (created["open_ts"], created["close_ts"]) == (successor.open_ts, successor.close_ts)
        assert created["price_level_structure"] == successor.listing.structure
        assert paused["market_ticker"] == resumed["market_ticker"] != ticker
        assert (paused["is_deactivated"], resumed["is_deactivated"]) == (True, False)
        assert sim.market.kalshi[paused["market_ticker"]].status == "active"


# ===================================================================================================
# Kalshi: legacy integer-cent feed (seed doc 000)
# ===================================================================================================


def cents(units: int) -> int:
    return units // 100


@pytest.mark.asyncio
async def test_kalshi_legacy_snapshot_and_deltas_in_integer_cents() -> None:
    """Seed doc: snapshot ``yes``/``no`` as [[cents, contracts]], deltas ``price``/``delta`` as integers; the
    replay equals the exchange's book."""
    async with Simulator(options(legacy_kalshi=True, seed=3)) as sim, kalshi(sim) as k:
        tickers = list(sim.market.kalshi)[:6]
        await k.send(subscribe(1, ["orderbook_delta"], market_tickers=tickers))
        frames = await k.drain()
        assert frames[0] == {"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 1}}
        books: dict[str, dict[str, dict[int, int]]] = {}
        for f in frames[1:]:
            assert f["type"] == "orderbook_snapshot" and set(f["msg"]) == {"market_ticker", "yes", "no"}
            books[f["msg"]["market_ticker"]] = {s: {p: q for p, q in f["msg"][s]} for s in ("yes", "no")}
        sim.step(600)
        deltas = await k.drain()
        assert len(deltas) > 20 and {f["type"] for f in deltas} == {"orderbook_delta"}
        assert_contiguous(frames + deltas, 1)
        for f in deltas:
            msg = f["msg"]
            assert set(msg) == {"market_ticker", "price", "delta", "side"}
            assert all(type(msg[n]) is int for n in ("price", "delta"))
            levels = books[msg["market_ticker"]][msg["side"]]
            levels[msg["price"]] = levels.get(msg["price"], 0) + msg["delta"]
            assert levels[msg["price"]] >= 0
            if levels[msg["price"]] == 0:
                del levels[msg["price"]]
        for ticker in tickers:
            truth = sim.market.kalshi[ticker]
            for side in ("yes", "no"):
                assert books[ticker][side] == {cents(p): s // 100 for p, s in truth.book(side).top()}


@pytest.mark.asyncio
async def test_kalshi_legacy_ticker_in_integer_cents_on_traded_markets() -> None:
    """Seed doc ticker: ``price``, ``yes_bid``, ``yes_ask`` in cents, integer volume/open interest."""
    async with Simulator(options(legacy_kalshi=True, seed=3)) as sim, kalshi(sim) as k:
        sim.step(1500)
        traded = [t for t, m in sim.market.kalshi.items() if m.last_price and m.yes.best() and m.no.best()][
            :5
        ]
        assert len(traded) == 5
        await k.send(subscribe(1, ["ticker"], market_tickers=traded))
        await k.drain()
        sim.step(1500)
        frames = await k.drain()
        assert len(frames) > 20 and {f["type"] for f in frames} == {"ticker"}
        last = {f["msg"]["market_ticker"]: f["msg"] for f in frames}
        for ticker, msg in last.items():
            m = sim.market.kalshi[ticker]
            assert {k_: msg[k_] for k_ in ("price", "yes_bid", "yes_ask", "volume", "open_interest")} == {
                "price": cents(m.last_price),
                "yes_bid": cents(m.yes.best() or 0),
                "yes_ask": 100 - cents(m.no.best() or 0),
                "volume": m.volume // 100,
                "open_interest": m.open_interest // 100,
            }


@pytest.mark.asyncio
async def test_kalshi_legacy_ticker_quotes_stay_within_1_to_99_cents() -> None:
    """Seed doc ticker: ``price``, ``yes_bid`` and ``yes_ask`` are "Between 1 and 99 (inclusive)", also on
    markets that have not traded yet (the validator checks every frame). Without history, which would
    give every market a last price before the start."""
    async with Simulator(options(legacy_kalshi=True, history=False)) as sim, kalshi(sim) as k:
        assert not any(m.last_price for m in sim.market.kalshi.values())
        await k.send(subscribe(1, ["ticker"]))
        await k.drain()
        sim.step(200)
        frames = await k.drain()
        assert len(frames) > 10
        for f in frames:
            assert all(1 <= f["msg"][name] <= 99 for name in ("price", "yes_bid", "yes_ask"))


@pytest.mark.asyncio
async def test_kalshi_legacy_trade_in_integer_cents() -> None:
    """Seed doc trade: ``yes_price``/``no_price`` in cents summing to 100, integer ``count``, ``taker_side``,
    no seq; each print is the delta just before it on the book (the taker hit the other side's best bid)."""
    async with Simulator(options(legacy_kalshi=True, seed=3)) as sim, kalshi(sim) as k:
        await k.send(subscribe(1, ["orderbook_delta", "trade"], market_tickers=list(sim.market.kalshi)))
        await k.drain()
        sim.step(400)
        frames = await k.drain()
        trades = [i for i, f in enumerate(frames) if f["type"] == "trade"]
        assert len(trades) > 5
        for i in trades:
            msg, hit = frames[i]["msg"], frames[i - 1]["msg"]
            assert set(msg) == {"market_ticker", "yes_price", "no_price", "count", "taker_side", "ts"}
            assert "seq" not in frames[i] and frames[i]["sid"] == 2
            assert msg["yes_price"] + msg["no_price"] == 100 and type(msg["count"]) is int
            assert (frames[i - 1]["type"], hit["market_ticker"]) == ("orderbook_delta", msg["market_ticker"])
            assert (hit["side"], hit["delta"]) == (opposite(msg["taker_side"]), -msg["count"])
            assert hit["price"] == msg[f"{hit['side']}_price"]


@pytest.mark.asyncio
async def test_kalshi_legacy_unsubscribed_shape() -> None:
    """Seed doc: ``{"sid": 2, "type": "unsubscribed"}`` (no seq); an id only echoes the command's."""
    async with Simulator(options(legacy_kalshi=True)) as sim, kalshi(sim) as k:
        await k.send(subscribe(1, ["orderbook_delta"], market_tickers=[next(iter(sim.market.kalshi))]))
        await k.drain()
        await k.send({"id": 2, "cmd": "unsubscribe", "params": {"sids": [1]}})
        (reply,) = await k.drain()
        assert reply.pop("id", 2) == 2
        assert reply == {"type": "unsubscribed", "sid": 1}
        sim.step(300)
        await k.expect_silence()


@pytest.mark.asyncio
async def test_kalshi_legacy_fill_and_market_lifecycle() -> None:
    """Seed doc fill (cents, whole contracts, no seq) and market_lifecycle (open_ts, close_ts,
    is_deactivated; determination_ts/result once determined, settled_ts once settled)."""
    async with Simulator(options(legacy_kalshi=True, seed=2)) as sim, kalshi(sim) as k:
        initial = set(sim.market.kalshi)
        await k.send(subscribe(1, ["fill", "market_lifecycle"]))
        assert [f["msg"] for f in await k.drain()] == [
            {"channel": "fill", "sid": 1},
            {"channel": "market_lifecycle", "sid": 2},
        ]
        sim.step(8300)
        frames = await k.drain()
        fills = [f for f in frames if f["type"] == "fill"]
        assert [f["msg"]["trade_id"] for f in fills] == [f.trade_id for f in sim.market.kalshi_fills]
        for frame, fill in zip(fills, sim.market.kalshi_fills, strict=True):
            msg = frame["msg"]
            assert (msg["yes_price"], msg["no_price"], msg["count"]) == (
                cents(fill.yes_price),
                100 - cents(fill.yes_price),
                fill.count // 100,
            )
            assert (msg["action"], msg["market_ticker"], msg["is_taker"]) == (
                fill.action,
                fill.market,
                fill.is_taker,
            )
        lifecycle = [f["msg"] for f in frames if f["type"] == "market_lifecycle"]
        assert len(lifecycle) == 8 and all("seq" not in f for f in frames)
        settled = [m for m in lifecycle if "settled_ts" in m]
        (done,) = settled
        market = sim.market.kalshi[done["market_ticker"]]
        assert done == {
            "market_ticker": market.ticker,
            "open_ts": market.open_ts,
            "close_ts": market.close_ts,
            "is_deactivated": False,
            "determination_ts": market.determination_ts,
            "result": market.result,
            "settled_ts": market.settled_ts,
        }
        history = [m for m in lifecycle if m["market_ticker"] == market.ticker]
        assert [("determination_ts" in m, "settled_ts" in m) for m in history] == [
            (False, False),
            (True, False),
            (True, True),
        ]
        (created,) = [m for m in lifecycle if m["market_ticker"] not in initial]
        assert set(created) == {"market_ticker", "open_ts", "close_ts", "is_deactivated"}
        paused = [m["is_deactivated"] for m in lifecycle if m not in history and m is not created]
        assert paused == [True, False, True, False]


# ===================================================================================================
# Kraken helpers: the book and its checksum, written from kraken.md §4
# ===================================================================================================


def _checksum_text(value: Any, decimals: int) -> str:
    """§4.2: the number at the pair's full precision, no exponent, '.' removed, leading zeros removed."""
    text = format(Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals)), "f")
    return text.replace(".", "").lstrip("0")


def kraken_checksum(book: dict[str, dict[Decimal, Decimal]], price_prec: int, qty_prec: int) -> int:
    """§4.2: CRC32 of the 10 best asks (ascending) then the 10 best bids (descending), price + qty each."""
    asks = sorted(book["asks"].items())[:10]
    bids = sorted(book["bids"].items(), reverse=True)[:10]
    text = "".join(_checksum_text(p, price_prec) + _checksum_text(q, qty_prec) for p, q in asks + bids)
    return zlib.crc32(text.encode("ascii")) & 0xFFFFFFFF


def apply_book(book: dict[str, dict[Decimal, Decimal]], data: dict[str, Any], depth: int) -> None:
    """§4.1: every level in order (qty 0 deletes, otherwise absolute), then truncate each side to depth."""
    for side in ("asks", "bids"):
        levels = book[side]
        for level in data[side]:
            price, qty = Decimal(str(level["price"])), Decimal(str(level["qty"]))
            if qty == 0:
                levels.pop(price, None)
            else:
                levels[price] = qty
    book["asks"] = dict(sorted(book["asks"].items())[:depth])
    book["bids"] = dict(sorted(book["bids"].items(), reverse=True)[:depth])


def kraken_truth(sim: Simulator, symbol: str, depth: int) -> dict[str, dict[Decimal, Decimal]]:
    truth = sim.kraken_book(symbol, depth)
    return {side: {Decimal(p): Decimal(q) for p, q in truth[side]} for side in ("bids", "asks")}


def test_checksum_helper_reproduces_the_documented_vector() -> None:
    """§4.3 vector A (BTC/USD, price_precision 1, qty_precision 8): checksum 3310070434."""
    asks = [
        ("45285.2", "0.00100000"),
        ("45286.4", "1.54571953"),
        ("45286.6", "1.54571109"),
        ("45289.6", "1.54560911"),
        ("45290.2", "0.15890660"),
        ("45291.8", "1.54553491"),
        ("45294.7", "0.04454749"),
        ("45296.1", "0.35380000"),
        ("45297.5", "0.09945542"),
        ("45299.5", "0.18772827"),
    ]
    bids = [
        ("45283.5", "0.10000000"),
        ("45283.4", "1.54582015"),
        ("45282.1", "0.10000000"),
        ("45281.0", "0.10000000"),
        ("45280.3", "1.54592586"),
        ("45279.0", "0.07990000"),
        ("45277.6", "0.03310103"),
        ("45277.5", "0.30000000"),
        ("45277.3", "1.54602737"),
        ("45276.6", "0.15445238"),
    ]
    book = {
        "asks": {Decimal(p): Decimal(q) for p, q in asks},
        "bids": {Decimal(p): Decimal(q) for p, q in bids},
    }
    assert kraken_checksum(book, 1, 8) == 3310070434


def sub(req_id: int, channel: str, symbols: list[str] | None = None, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"channel": channel, **params}
    if symbols is not None:
        body["symbol"] = symbols
    return {"method": "subscribe", "params": body, "req_id": req_id}


def strip_times(frame: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in frame.items() if k not in ("time_in", "time_out")}


# ===================================================================================================
# Kraken
# ===================================================================================================


@pytest.mark.asyncio
async def test_kraken_status_is_the_first_frame() -> None:
    """§1.2/§3.6: ``status`` on connect (before anything is asked), system online, api_version v2, an
    integer connection_id that differs per connection."""
    async with (
        Simulator(options()) as sim,
        kraken(sim, read_status=False) as one,
        kraken(sim, read_status=False) as two,
    ):
        first, second = await one.recv(), await two.recv()
        for status in (first, second):
            assert (status["channel"], status["type"]) == ("status", "update")
            (data,) = status["data"]
            assert (data["system"], data["api_version"]) == ("online", "v2")
            assert type(data["connection_id"]) is int
        assert first["data"][0]["connection_id"] != second["data"][0]["connection_id"]
        await one.expect_silence()


@pytest.mark.asyncio
async def test_kraken_connection_id_exceeds_2_pow_53() -> None:
    async with Simulator(options()) as sim, kraken(sim, read_status=False) as kr:
        status = await kr.recv()
        assert status["data"][0]["connection_id"] > 2**53


@pytest.mark.asyncio
async def test_kraken_multi_symbol_subscribe_gets_one_ack_per_symbol() -> None:
    """§2.2: a subscribe listing several symbols gets one ack per symbol (symbol a string, same req_id);
    the ticker snapshot (default on) follows for each, quoting the book's best levels."""
    async with Simulator(options()) as sim, kraken(sim) as kr:
        symbols = ["BTC/USD", "ETH/USD", "SOL/USD"]
        await kr.send(sub(42, "ticker", symbols))
        frames = await kr.drain()
        acks = [f for f in frames if "method" in f]
        assert [strip_times(a) for a in acks] == [
            {
                "method": "subscribe",
                "req_id": 42,
                "success": True,
                "result": {"channel": "ticker", "symbol": s, "event_trigger": "trades", "snapshot": True},
            }
            for s in symbols
        ]
        snapshots = [f for f in frames if f.get("channel") == "ticker"]
        assert [s["type"] for s in snapshots] == ["snapshot"] * 3
        assert [s["data"][0]["symbol"] for s in snapshots] == symbols
        for s in snapshots:
            data = s["data"][0]
            truth = kraken_truth(sim, data["symbol"], 1)
            assert {data["bid"]: data["bid_qty"]} == truth["bids"]
            assert {data["ask"]: data["ask_qty"]} == truth["asks"]


@pytest.mark.parametrize("depth", [10, 25])
@pytest.mark.asyncio
async def test_kraken_book_depth_and_checksums(depth: int) -> None:
    """§3.3/§4: the snapshot holds ``depth`` levels a side, best first, with the checksum computed here;
    every update keeps it (apply, truncate, CRC32) and the final book is the exchange's."""
    async with Simulator(options(seed=6)) as sim, kraken(sim) as kr:
        await kr.load_instruments()
        symbols = ["BTC/USD", "ETH/USD", "DOGE/USD", "ETH/BTC"]
        await kr.send(sub(1, "book", symbols, depth=depth))
        frames = await kr.drain()
        acks = [strip_times(f) for f in frames if "method" in f]
        assert acks == [
            {
                "method": "subscribe",
                "req_id": 1,
                "success": True,
                "result": {"channel": "book", "symbol": s, "depth": depth, "snapshot": True},
            }
            for s in symbols
        ]
        books: dict[str, dict[str, dict[Decimal, Decimal]]] = {}
        for f in frames:
            if f.get("channel") != "book":
                continue
            assert f["type"] == "snapshot"
            data = f["data"][0]
            bids, asks = [b["price"] for b in data["bids"]], [a["price"] for a in data["asks"]]
            assert len(bids) == len(asks) == depth
            assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
            book = {"bids": {}, "asks": {}}
            apply_book(book, data, depth)
            assert book == kraken_truth(sim, data["symbol"], depth)
            assert data["checksum"] == kraken_checksum(book, *kr.precision[data["symbol"]])
            books[data["symbol"]] = book
        assert list(books) == symbols
        sim.step(1500)
        updates = await kr.drain()
        assert {(f["channel"], f["type"]) for f in updates} == {("book", "update")}
        counts: Counter[str] = Counter()
        for f in updates:
            data = f["data"][0]
            book = books[data["symbol"]]
            apply_book(book, data, depth)
            assert data["checksum"] == kraken_checksum(book, *kr.precision[data["symbol"]]), data
            counts[data["symbol"]] += 1
        assert all(counts[s] >= 20 for s in symbols), counts
        for symbol in symbols:
            assert books[symbol] == kraken_truth(sim, symbol, depth)


ERROR_CASES = [
    (
        sub(3, "book", ["BTC/USD"], depth=27),
        {"method": "subscribe", "req_id": 3, "success": False, "error": "Subscription depth not supported"},
    ),
    (
        sub(4, "book", ["XBT/USD"]),
        {
            "method": "subscribe",
            "req_id": 4,
            "success": False,
            "error": "Currency pair not supported XBT/USD",
            "symbol": "XBT/USD",
        },
    ),
    (
        sub(5, "bookz", ["BTC/USD"]),
        {"method": "subscribe", "req_id": 5, "success": False, "error": "Subscription name invalid"},
    ),
    (
        {"method": "unsubscribe", "params": {"channel": "ticker", "symbol": ["SOL/USD"]}, "req_id": 6},
        {
            "method": "subscribe",
            "req_id": 6,
            "success": False,
            "error": "Subscription Not Found",
            "symbol": "SOL/USD",
        },
    ),
    (
        {"method": "ping", "params": {}, "req_id": 7},
        {
            "method": "ping",
            "req_id": 7,
            "success": False,
            "error": "Unsupported field: 'params' for the given msg type: ping",
        },
    ),
    ("{not json", {"method": "error", "success": False, "error": "Malformed request"}),
]


@pytest.mark.asyncio
async def test_kraken_errors_are_worded_as_documented() -> None:
    """§2.2/§2.4/§6: exact error strings, ``success: false``, a top-level symbol only on per-symbol
    failures, the unsubscribe-not-found quirk (method ``subscribe``) and ``method: error`` for non-JSON;
    nothing is subscribed and the socket stays up."""
    async with Simulator(options()) as sim, kraken(sim) as kr:
        for request, expected in ERROR_CASES:
            await kr.send(request)
            (reply,) = await kr.drain()
            assert "result" not in reply and "channel" not in reply
            if expected["error"] == "Subscription depth not supported":
                assert reply.pop("symbol", "BTC/USD") == "BTC/USD"  # §2.4 does not say whether it names it
            assert strip_times(reply) == expected
        await kr.send({"method": "ping", "req_id": 8})
        (pong,) = await kr.drain()
        assert strip_times(pong) == {"method": "pong", "req_id": 8}
        await kr.expect_silence(1.3)  # no heartbeat either: nothing got subscribed


@pytest.mark.asyncio
async def test_kraken_repeat_subscribe_is_already_subscribed_without_a_snapshot() -> None:
    """§2.4/G8/G9: a repeat subscribe, or another depth for the same symbol, is ``Already subscribed`` and
    sends no snapshot; unsubscribe must repeat the depth, then a new subscribe gets a fresh snapshot."""
    async with Simulator(options()) as sim, kraken(sim) as kr:
        await kr.send(sub(1, "book", ["BTC/USD"], depth=10))
        assert len(await kr.drain()) == 2
        for req_id, depth in ((2, 10), (3, 25)):
            await kr.send(sub(req_id, "book", ["BTC/USD"], depth=depth))
            assert [strip_times(f) for f in await kr.drain()] == [
                {
                    "method": "subscribe",
                    "req_id": req_id,
                    "success": False,
                    "error": "Already subscribed",
                    "symbol": "BTC/USD",
                }
            ]
        unsub = {
            "method": "unsubscribe",
            "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 25},
            "req_id": 4,
        }
        await kr.send(unsub)
        (wrong,) = await kr.drain()
        assert (wrong["method"], wrong["error"], wrong["req_id"]) == (
            "subscribe",
            "Subscription Not Found",
            4,
        )
        unsub["params"]["depth"], unsub["req_id"] = 10, 5
        await kr.send(unsub)
        assert [strip_times(f) for f in await kr.drain()] == [
            {
                "method": "unsubscribe",
                "req_id": 5,
                "success": True,
                "result": {"channel": "book", "symbol": "BTC/USD", "depth": 10},
            }
        ]
        await kr.send(sub(6, "book", ["BTC/USD"], depth=25))
        ack, snapshot = await kr.drain()
        assert ack["result"] == {"channel": "book", "symbol": "BTC/USD", "depth": 25, "snapshot": True}
        assert snapshot["type"] == "snapshot" and len(snapshot["data"][0]["bids"]) == 25


@pytest.mark.asyncio
async def test_kraken_ping_gets_pong_with_req_id() -> None:
    """§3.8: ``{"method":"ping","req_id":N}`` → ``{"method":"pong","req_id":N,"time_in","time_out"}``."""
    async with Simulator(options()) as sim, kraken(sim) as kr:
        for req_id in (101, 102):
            await kr.send({"method": "ping", "req_id": req_id})
            (pong,) = await kr.drain()
            assert set(pong) == {"method", "req_id", "time_in", "time_out"}
            assert (pong["method"], pong["req_id"]) == ("pong", req_id)
            assert pong["time_in"] <= pong["time_out"]


@pytest.mark.asyncio
async def test_kraken_heartbeats_about_once_a_second_only_once_subscribed() -> None:
    """§1.2/§3.7: ``{"channel":"heartbeat"}`` about once a second when nothing else is sent, and only
    after subscribing to something."""
    async with Simulator(options()) as sim, kraken(sim) as kr:
        await kr.expect_silence(1.6)
        await kr.send(sub(1, "ticker", ["BTC/USD"]))
        assert [f.get("method", f.get("channel")) for f in await kr.drain()] == ["subscribe", "ticker"]
        beats: list[float] = []
        start = time.monotonic()
        while time.monotonic() - start < 3.3:
            with contextlib.suppress(TimeoutError):
                frame = await kr.recv(0.2)
                assert frame == {"channel": "heartbeat"}
                beats.append(time.monotonic())
        assert 2 <= len(beats) <= 4, beats
        gaps = [b - a for a, b in itertools.pairwise(beats)]
        assert all(0.7 <= g <= 1.4 for g in gaps), gaps


@pytest.mark.asyncio
async def test_kraken_instrument_snapshot_and_ack() -> None:
    """§3.5/G13: the instrument ack has no symbol and a ``warnings`` list; the snapshot's ``data`` is an
    object listing every pair with its price_precision and qty_precision."""
    async with Simulator(options()) as sim, kraken(sim) as kr:
        await kr.send(sub(9, "instrument"))
        ack, snapshot = await kr.drain()
        assert strip_times(ack) == {
            "method": "subscribe",
            "req_id": 9,
            "success": True,
            "result": {
                "channel": "instrument",
                "snapshot": True,
                "warnings": ["tick_size is deprecated, use price_increment"],
            },
        }
        assert (snapshot["channel"], snapshot["type"]) == ("instrument", "snapshot")
        pairs = {p["symbol"]: p for p in snapshot["data"]["pairs"]}
        assert list(pairs) == list(sim.market.kraken)
        for symbol, state in sim.market.kraken.items():
            p = pairs[symbol]
            assert (p["price_precision"], p["qty_precision"]) == (
                state.pair.price_precision,
                state.pair.qty_precision,
            )
            assert (p["base"], p["quote"], p["status"]) == (*symbol.split("/"), "online")
        assert {a["id"] for a in snapshot["data"]["assets"]} >= {"BTC", "ETH", "USD"}


@pytest.mark.asyncio
async def test_kraken_trade_snapshot_defaults_off_and_ticker_snapshot_on() -> None:
    """§2.4: trade ``snapshot`` defaults to false, ticker to true; with snapshot true the trade snapshot
    holds the most recent trades (at most 50, §3.2)."""
    async with Simulator(options(seed=2)) as sim, kraken(sim) as kr:
        while len(sim.market.kraken["BTC/USD"].recent) < 50 or not sim.market.kraken["ETH/USD"].recent:
            sim.step(50)
        await kr.send(sub(1, "trade", ["BTC/USD"]))
        (ack,) = await kr.drain()
        assert ack["result"] == {"channel": "trade", "symbol": "BTC/USD", "snapshot": False}
        await kr.send(sub(2, "ticker", ["BTC/USD"]))
        ack, ticker = await kr.drain()
        assert ack["result"] == {
            "channel": "ticker",
            "symbol": "BTC/USD",
            "event_trigger": "trades",
            "snapshot": True,
        }
        assert (ticker["channel"], ticker["type"]) == ("ticker", "snapshot")
        state = sim.market.kraken["BTC/USD"]
        assert ticker["data"][0]["last"] == Decimal(state.recent[-1]["price"]).scaleb(
            -state.pair.price_precision
        )
        await kr.send(sub(3, "trade", ["ETH/USD", "BTC/USD"], snapshot=True))
        frames = await kr.drain()
        assert [strip_times(f) for f in frames if "method" in f] == [
            {
                "method": "subscribe",
                "req_id": 3,
                "success": True,
                "result": {"channel": "trade", "symbol": "ETH/USD", "snapshot": True},
            },
            {
                "method": "subscribe",
                "req_id": 3,
                "success": False,
                "error": "Already subscribed",
                "symbol": "BTC/USD",
            },
        ]
        (snapshot,) = [f for f in frames if "channel" in f]
        assert (snapshot["channel"], snapshot["type"]) == ("trade", "snapshot")
        recent = list(sim.market.kraken["ETH/USD"].recent)
        assert [t["trade_id"] for t in snapshot["data"]] == [t["trade_id"] for t in recent]
        assert 0 < len(snapshot["data"]) <= 50
        assert {t["symbol"] for t in snapshot["data"]} == {"ETH/USD"}


@pytest.mark.asyncio
async def test_kraken_ohlc_candles_follow_the_trades() -> None:
    """§3.4: the ohlc ack echoes the interval; the snapshot ends on the current candle; each trade message
    is followed by an update whose candle closes at the last trade price and counts the trades."""
    async with Simulator(options(seed=2)) as sim, kraken(sim) as kr:
        symbol = "BTC/USD"
        while not sim.market.kraken[symbol].recent:
            sim.step(20)
        await kr.send(sub(1, "ohlc", [symbol], interval=60))
        ack, snapshot = await kr.drain()
        assert ack["result"] == {"channel": "ohlc", "symbol": symbol, "interval": 60, "snapshot": True}
        assert (snapshot["channel"], snapshot["type"]) == ("ohlc", "snapshot")
        candle = snapshot["data"][-1]
        state = sim.market.kraken[symbol]
        scale = Decimal(1).scaleb(-state.pair.price_precision)
        assert candle["interval"] == 60 and candle["symbol"] == symbol
        assert candle["close"] == Decimal(state.recent[-1]["price"]) * scale
        assert (
            candle["low"] <= candle["close"] <= candle["high"]
            and candle["low"] <= candle["open"] <= candle["high"]
        )
        await kr.send(sub(2, "trade", [symbol]))
        await kr.drain()
        sim.step(1500)
        frames = await kr.drain()
        trades = [f for f in frames if f["channel"] == "trade"]
        ohlcs = [f for f in frames if f["channel"] == "ohlc"]
        assert len(trades) == len(ohlcs) >= 5
        assert [f["channel"] for f in frames] == ["trade", "ohlc"] * len(trades)
        previous = candle
        for trade, ohlc in zip(trades, ohlcs, strict=True):
            (c,) = ohlc["data"]
            assert (ohlc["type"], c["interval"], c["symbol"]) == ("update", 60, symbol)
            assert c["close"] == trade["data"][-1]["price"]
            same = c["interval_begin"] == previous["interval_begin"]
            assert c["trades"] == (previous["trades"] if same else 0) + len(trade["data"])
            volume = sum(t["qty"] for t in trade["data"])
            assert c["volume"] == (previous["volume"] if same else 0) + volume
            assert c["high"] == max(
                [*([previous["high"]] if same else []), *(t["price"] for t in trade["data"])]
            )
            previous = c


@pytest.mark.asyncio
async def test_kalshi_cfbenchmarks_value_ticks_once_a_second_near_the_kraken_mid() -> None:
    """``cfbenchmarks_value`` (authenticated): error 24 without index_ids; then about one value a second per
    index asked for, sequenced, in the documented example's shape (the value inside ``data``), within a few
    basis points of the simulated Kraken mid."""
    async with Simulator(SimOptions(rate=50)) as sim, kalshi(sim) as k:
        await k.send(subscribe(1, ["cfbenchmarks_value"]))
        (error,) = await k.drain()
        assert error["type"] == "error" and error["msg"]["code"] == 24
        await k.send(subscribe(2, ["cfbenchmarks_value"], index_ids=["BRTI"]))
        frames = []  # read raw (the strict models leave the index channels out of scope), for 2.6 s
        deadline = time.monotonic() + 2.6
        with contextlib.suppress(TimeoutError):
            while (left := deadline - time.monotonic()) > 0:
                frames.append(json.loads(await asyncio.wait_for(k.ws.recv(), left)))
        for frame in frames:
            frame.pop("sending_ts_ms", None)
    assert frames[0] == {"type": "subscribed", "id": 2, "msg": {"channel": "cfbenchmarks_value", "sid": 1}}
    values = [f for f in frames[1:] if f["type"] == "cfbenchmarks_value"]
    assert 2 <= len(values) <= 4 and [f["seq"] for f in values] == list(range(1, len(values) + 1))
    # The shape of Kalshi's documented example (tests/data/kalshi.jsonl); the 15-minute average is left out.
    example = next(
        json.loads(line)["raw"]["msg"]
        for line in Path("tests/data/kalshi.jsonl").read_text(encoding="utf-8").splitlines()
        if '"type": "cfbenchmarks_value"' in line
    )
    for frame in values:
        msg = frame["msg"]
        assert set(msg) == set(example) - {"last_60s_windowed_average_15min"}
        assert msg["index_id"] == "BRTI"
        data = json.loads(msg["data"])
        assert data["id"] == "BRTI" and data["time"] == msg["received_at"]
        assert set(msg["avg_60s_data"]) == {
            "value",
            "window_size",
            "window_start_ts_ms",
            "window_end_ts_exclusive",
        }
    book = sim.kraken_book("BTC/USD", 1)
    mid = (Decimal(book["bids"][0][0]) + Decimal(book["asks"][0][0])) / 2
    assert abs(Decimal(data["value"]) - mid) <= mid * Decimal("0.002")
