"""``market-monitor bench``: decode+apply throughput of the venue sessions on in-memory frames.

Frames are built first (not timed) by a small exchange model that is independent of the code under test:
plain dicts, with Kraken checksums computed from the model's own text. The timed loop is exactly what the
stream engine runs per received frame: ``session.on_frame(text)`` (parse, decode, seq or checksum check,
book apply). Every case then checks the result (no gaps, no checksum failures, books equal the model),
so a fast wrong codec cannot post a figure.
"""

from __future__ import annotations

import gc
import random
import time
import zlib
from collections.abc import Callable
from typing import Any

from app.core.numbers import format_scaled
from app.venues import wire
from app.venues.kalshi.decode import KalshiDecoder
from app.venues.kalshi.session import KalshiSession
from app.venues.kraken.session import KrakenSession

KRAKEN_PD, KRAKEN_QD = 1, 8


def kalshi_frames(
    n: int, markets: int, seed: int = 7
) -> tuple[list[str], dict[str, dict[str, dict[int, int]]]]:
    """A snapshot per market, then ``n`` deltas spread over the markets on one sid (seq 1, 2, ...)."""
    rng = random.Random(seed)
    tickers = [f"KXBENCH-26NOV21-T{100 + i}" for i in range(markets)]
    model: dict[str, dict[str, dict[int, int]]] = {}
    frames: list[str] = []
    seq = 0
    for t in tickers:
        yes = {p: rng.randint(1, 500) * 100 for p in range(100, 4900, 100)}
        no = {p: rng.randint(1, 500) * 100 for p in range(100, 4900, 100)}
        model[t] = {"yes": yes, "no": no}
        seq += 1
        yes_fp = ",".join(
            f'["{format_scaled(p, 4)}","{format_scaled(q, 2)}"]' for p, q in sorted(yes.items())
        )
        no_fp = ",".join(f'["{format_scaled(p, 4)}","{format_scaled(q, 2)}"]' for p, q in sorted(no.items()))
        frames.append(
            f'{{"type":"orderbook_snapshot","sid":1,"seq":{seq},"msg":{{"market_ticker":"{t}",'
            f'"market_id":"","yes_dollars_fp":[{yes_fp}],"no_dollars_fp":[{no_fp}]}}}}'
        )
    for _ in range(n):
        t = tickers[rng.randrange(markets)]
        side = "yes" if rng.random() < 0.5 else "no"
        levels = model[t][side]
        price = rng.randrange(100, 4900, 100)
        old = levels.get(price, 0)
        delta = rng.randint(-old, 300 * 100) if old else rng.randint(1, 300 * 100)
        if old + delta:
            levels[price] = old + delta
        else:
            levels.pop(price, None)
        seq += 1
        frames.append(
            f'{{"type":"orderbook_delta","sid":1,"seq":{seq},"msg":{{"market_ticker":"{t}",'
            f'"market_id":"9b0f6b43-5b68-4f96-9a3f-2d9f2f1f5c3a","price_dollars":"{format_scaled(price, 4)}",'
            f'"delta_fp":"{format_scaled(delta, 2)}","side":"{side}","ts_ms":1763740000000}}}}'
        )
    return frames, model


def _kraken_text(levels: list[tuple[int, int]]) -> str:
    return ",".join(
        f'{{"price":{format_scaled(p, KRAKEN_PD)},"qty":{format_scaled(q, KRAKEN_QD)}}}' for p, q in levels
    )


def kraken_frames(n: int, symbols: int, depth: int = 10, seed: int = 11) -> list[str]:
    """Per symbol a snapshot, then ``n`` updates as Kraken sends them: changed levels of the visible
    top ``depth`` only (with refills after deletes, no deletes for levels pushed out), each with the
    CRC32 of the visible top 10 computed from the model's own text."""
    rng = random.Random(seed)
    names = [f"B{i}/USD" for i in range(symbols)]
    books: dict[str, tuple[dict[int, int], dict[int, int]]] = {}

    def visible(bids: dict[int, int], asks: dict[int, int]) -> tuple[list[tuple[int, int]], ...]:
        vb = sorted(bids.items(), reverse=True)[:depth]
        va = sorted(asks.items())[:depth]
        return vb, va

    def checksum(vb: list[tuple[int, int]], va: list[tuple[int, int]]) -> int:
        text = "".join(
            format_scaled(p, KRAKEN_PD).replace(".", "").lstrip("0")
            + format_scaled(q, KRAKEN_QD).replace(".", "").lstrip("0")
            for p, q in va[:10] + vb[:10]
        )
        return zlib.crc32(text.encode()) & 0xFFFFFFFF

    frames: list[str] = []
    for s in names:
        mid = 452850
        bids = {mid - i * 3 - 1: rng.randint(1, 2_000_000_000) for i in range(depth * 3)}
        asks = {mid + i * 3 + 1: rng.randint(1, 2_000_000_000) for i in range(depth * 3)}
        books[s] = (bids, asks)
        vb, va = visible(bids, asks)
        frames.append(
            f'{{"channel":"book","type":"snapshot","data":[{{"symbol":"{s}","bids":[{_kraken_text(vb)}],'
            f'"asks":[{_kraken_text(va)}],"checksum":{checksum(vb, va)}}}]}}'
        )
    for _ in range(n):
        s = names[rng.randrange(symbols)]
        bids, asks = books[s]
        before_b, before_a = visible(bids, asks)
        for _change in range(rng.randint(1, 3)):
            side, best = (bids, max(bids)) if rng.random() < 0.5 else (asks, min(asks))
            sign = -1 if side is bids else 1
            price = best + sign * rng.randrange(0, depth * 3)
            roll = rng.random()
            if roll < 0.2 and len(side) > depth + 2 and price in side:
                del side[price]
            else:
                side[price] = rng.randint(1, 2_000_000_000)
        vb, va = visible(bids, asks)
        db = [lvl for lvl in vb if lvl not in before_b]
        da = [lvl for lvl in va if lvl not in before_a]
        # Levels deleted inside the window are sent with qty 0; levels pushed out are not sent.
        db += [(p, 0) for p, _ in before_b if p not in bids]
        da += [(p, 0) for p, _ in before_a if p not in asks]
        frames.append(
            f'{{"channel":"book","type":"update","data":[{{"symbol":"{s}","bids":[{_kraken_text(db)}],'
            f'"asks":[{_kraken_text(da)}],"checksum":{checksum(vb, va)},'
            f'"timestamp":"2026-11-21T10:00:00.000000Z"}}]}}'
        )
    return frames


def _time(label: str, frames: list[str], handle: Callable[[str], Any], echo: bool) -> float:
    gc.collect()
    start = time.perf_counter()
    for f in frames:
        handle(f)
    elapsed = time.perf_counter() - start
    rate = len(frames) / elapsed
    if echo:
        print(f"  {label:<52} {rate:>11,.0f} msg/s  {elapsed / len(frames) * 1e6:6.2f} us/msg")
    return rate


def run(messages: int, markets: int, echo: bool = True) -> dict[str, float]:
    figures: dict[str, float] = {}
    if echo:
        print(f"codec benchmark: {messages:,} frames per case, in memory, one core")

    frames, model = kalshi_frames(messages, 1)
    decoder = KalshiDecoder()
    figures["kalshi_decode_only"] = _time(
        "Kalshi deltas, parse+decode only", frames, lambda f: decoder.decode_obj(wire.parse(f)), echo
    )
    session = KalshiSession()
    figures["kalshi_deltas_1_market"] = _time(
        "Kalshi deltas, 1 market (seq+book)", frames, session.on_frame, echo
    )
    _check_kalshi(session, model)

    frames, model = kalshi_frames(messages, markets)
    session = KalshiSession()
    figures["kalshi_deltas_spread"] = _time(
        f"Kalshi deltas, {markets} markets (seq+book)", frames, session.on_frame, echo
    )
    _check_kalshi(session, model)

    frames = kraken_frames(messages, 1)
    ks = KrakenSession()
    figures["kraken_book_1_symbol"] = _time(
        "Kraken book updates, 1 symbol (apply+checksum)", frames, ks.on_frame, echo
    )
    _check_kraken(ks, len(frames))

    frames = kraken_frames(messages, markets)
    ks = KrakenSession()
    figures["kraken_book_spread"] = _time(
        f"Kraken book updates, {markets} symbols (apply+checksum)", frames, ks.on_frame, echo
    )
    _check_kraken(ks, len(frames))
    if echo:
        print("  checks: no seq gaps, no checksum failures, final books equal the model")
    return figures


def _check_kalshi(session: KalshiSession, model: dict[str, dict[str, dict[int, int]]]) -> None:
    for ticker, sides in model.items():
        book = session.books[ticker]
        want_bids = sorted(sides["yes"].items(), reverse=True)
        want_asks = sorted((10_000 - p, q) for p, q in sides["no"].items())
        if book.stale or book.top_bids() != want_bids or book.top_asks() != want_asks:
            raise AssertionError(f"Kalshi book {ticker} differs from the model")


def _check_kraken(session: KrakenSession, frames: int) -> None:
    failed = sum(session.checksum_failed.values())
    ok = sum(session.checksum_ok.values())
    if failed or ok != frames:
        raise AssertionError(f"Kraken checksums: {ok} ok, {failed} failed of {frames}")
