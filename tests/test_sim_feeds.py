"""The foundation codecs against the simulator over real sockets: books equal the simulator's truth
after the market freezes, with every fault kind forcing its recovery path, and every frame the
simulator sends matches the protocol documents' shapes (tests/protocol_models.py, written from the
docs independently of both the simulator and the codecs)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest

from app.cli.bench.truth import kalshi_truth_in_yes_terms, kraken_truth
from app.sim.faults import FaultSpec
from app.sim.kalshi.ws import NON_JSON_NOTICE as KALSHI_NOTICE
from app.sim.kraken.ws import NON_JSON_NOTICE as KRAKEN_NOTICE
from app.sim.server import SimOptions, Simulator
from tests.protocol_models import ShapeError, validate_kalshi, validate_kraken
from tests.simclient import FeedResult, run_kalshi, run_kraken

KALSHI_ALL = (
    "orderbook_delta",
    "ticker",
    "trade",
    "fill",
    "market_positions",
    "user_orders",
    "market_lifecycle_v2",
)
KRAKEN_SYMBOLS = ["BTC/USD", "ETH/USD", "DOGE/USD", "ETH/BTC"]


async def _run(
    options: SimOptions,
    kalshi_markets: int = 8,
    depth: int = 10,
    kalshi_channels: tuple[str, ...] = ("orderbook_delta", "ticker", "trade"),
    use_yes_price: bool = True,
) -> tuple[Simulator, FeedResult, FeedResult]:
    async with Simulator(options) as sim:
        markets = list(sim.market.kalshi)[:kalshi_markets]
        kalshi, kraken = await asyncio.gather(
            run_kalshi(sim, markets, channels=kalshi_channels, use_yes_price=use_yes_price),
            run_kraken(sim, KRAKEN_SYMBOLS, depth=depth),
        )
        for market in markets:
            assert kalshi.books[market].levels_as_decimals() == kalshi_truth_in_yes_terms(sim, market), market
            assert not kalshi.books[market].stale, kalshi.books[market].stale_reason
        for symbol in KRAKEN_SYMBOLS:
            assert kraken.books[symbol].levels_as_decimals() == kraken_truth(sim, symbol, depth), symbol
            assert not kraken.books[symbol].stale
        return sim, kalshi, kraken


@pytest.mark.asyncio
@pytest.mark.parametrize("use_yes_price", [True, False])
async def test_books_equal_truth_without_faults(use_yes_price: bool) -> None:
    sim, kalshi, kraken = await _run(SimOptions(seed=3, rate=1500, duration=2), use_yes_price=use_yes_price)
    assert sim.market.steps > 2000
    assert kalshi.counts == Counter(connects=1) and kraken.counts == Counter(connects=1)
    assert sim.faults.log == []


@pytest.mark.asyncio
@pytest.mark.parametrize("depth", [25, 100])
async def test_kraken_deeper_books_equal_truth(depth: int) -> None:
    await _run(SimOptions(seed=4, rate=1500, duration=1.5), depth=depth)


# Each fault, the recovery it must force in the client, and how the simulator logs it.
FAULT_CASES = {
    "skip-seq:every=40,venue=kalshi": lambda k, r: k["gaps"] >= 1 and k["resnapshot"] >= 1,
    "bad-checksum:every=25,venue=kraken": lambda k, r: r["resubscribe"] >= 1,
    "drop:every=2": lambda k, r: k["dropped"] >= 1 and r["dropped"] >= 1,
    "malformed:every=30": lambda k, r: k["malformed"] >= 1 and r["malformed"] >= 1,
    "non-json:every=30": lambda k, r: k["malformed"] >= 1 and r["malformed"] >= 1,
    "unknown-type:every=30": lambda k, r: k["unknown"] >= 1 and r["unknown"] >= 1,
    "stall:every=0.8,seconds=0.4": lambda k, r: k["connects"] == 1 and r["connects"] == 1,
    "refuse:status=503,count=2": lambda k, r: k["refused_503"] + r["refused_503"] == 2,
    "refuse:status=401,count=2": lambda k, r: k["refused_401"] + r["refused_401"] == 2,
    "throttle:rate=4000": lambda k, r: k["connects"] == 1,
    "burst:size=1500,every=0.5": lambda k, r: True,
}


@pytest.mark.asyncio
@pytest.mark.parametrize("fault", list(FAULT_CASES))
async def test_books_equal_truth_through_each_fault(fault: str) -> None:
    spec = FaultSpec.parse(fault)
    sim, kalshi, kraken = await _run(SimOptions(seed=5, rate=1500, duration=2, faults=[spec]))
    fired = sim.faults.count(spec.kind)
    assert fired >= 1, f"{fault} never fired"
    assert FAULT_CASES[fault](kalshi.counts, kraken.counts), (kalshi.counts, kraken.counts)
    # What the client saw is what the simulator logged, one for one.
    if spec.kind in ("malformed", "non-json"):
        assert kalshi.counts["malformed"] == sim.faults.count(spec.kind, "kalshi")
        assert kraken.counts["malformed"] == sim.faults.count(spec.kind, "kraken")
    if spec.kind == "unknown-type":
        assert kalshi.counts["unknown"] == sim.faults.count(spec.kind, "kalshi")
        assert kraken.counts["unknown"] == sim.faults.count(spec.kind, "kraken")
    if spec.kind == "skip-seq":
        assert kalshi.counts["gaps"] == sim.faults.count("skip-seq", "kalshi")
    if spec.kind == "bad-checksum":
        assert kraken.counts["resubscribe"] == sim.faults.count("bad-checksum", "kraken")
    if spec.kind == "drop":
        assert kalshi.counts["dropped"] == sim.faults.count("drop", "kalshi")
        assert kraken.counts["dropped"] == sim.faults.count("drop", "kraken")


@pytest.mark.asyncio
async def test_legacy_kalshi_books_equal_truth() -> None:
    await _run(
        SimOptions(
            seed=6,
            rate=1500,
            duration=2,
            legacy_kalshi=True,
            faults=[FaultSpec.parse("skip-seq:every=60,venue=kalshi")],
        ),
        kalshi_channels=("orderbook_delta", "ticker", "trade", "fill"),
        use_yes_price=False,
    )


def _truncated(frame: str) -> str:
    """'malformed' when the frame is the front part of a JSON object cut short."""
    try:
        json.loads(frame)
    except json.JSONDecodeError:
        return "malformed" if frame.startswith('{"') else "other"
    return "other"


def _kinds(frames: list[str], validate: object) -> tuple[Counter[str], list[str]]:
    kinds: Counter[str] = Counter()
    bad: list[str] = []
    for frame in frames:
        try:
            kinds[validate(frame)] += 1  # type: ignore[operator]
        except ShapeError:
            bad.append(frame)
    return kinds, bad


@pytest.mark.asyncio
@pytest.mark.parametrize("legacy", [False, True])
async def test_every_frame_matches_the_documented_shapes(legacy: bool) -> None:
    """A long seeded run with every frame fault on: the only frames that fail the documented shapes
    are exactly the ones the simulator logged as injected faults."""
    faults = [
        FaultSpec.parse(f)
        for f in (
            "malformed:every=97",
            "non-json:every=89",
            "unknown-type:every=83",
            "skip-seq:every=71,venue=kalshi",
            "bad-checksum:every=67,venue=kraken",
            "drop:every=2.2",
            "stall:every=0.9,seconds=0.2",
            "refuse:status=503,count=1",
            "burst:size=800,every=0.7",
        )
    ]
    # Lifecycle changes are rare by default (one in 3,000 Kalshi steps): raised tenfold so a 3 s
    # run always carries some, however the wall clock paces the steps.
    options = SimOptions(
        seed=8, rate=2500, duration=3, faults=faults, legacy_kalshi=legacy, lifecycle_share=0.003
    )
    channels = ("orderbook_delta", "ticker", "trade", "fill") if legacy else KALSHI_ALL
    async with Simulator(options) as sim:
        markets = list(sim.market.kalshi)
        kalshi, kraken = await asyncio.gather(
            run_kalshi(sim, markets, channels=channels, use_yes_price=not legacy),
            run_kraken(sim, list(sim.market.kraken), depth=25, channels=("book", "ticker", "trade", "ohlc")),
        )
    k_kinds, k_bad = _kinds(kalshi.frames, lambda t: validate_kalshi(t, legacy=legacy))
    r_kinds, r_bad = _kinds(kraken.frames, validate_kraken)
    # Every failing frame is one the simulator injected (frames queued when a drop hit are lost, so
    # the per-fault tests above check exact counts; here each kind must show up, and no more often).
    for venue, bad, notice, mood in (
        ("kalshi", k_bad, KALSHI_NOTICE, '"market_mood"'),
        ("kraken", r_bad, KRAKEN_NOTICE, '"channel":"mood"'),
    ):
        seen = Counter(
            "non-json" if f == notice else "unknown-type" if mood in f else _truncated(f) for f in bad
        )
        assert set(seen) == {"non-json", "unknown-type", "malformed"}, (venue, seen, bad[:3])
        for kind, n in seen.items():
            assert n <= sim.faults.count(kind, venue), (venue, kind, n)
    for kind in ("skip-seq", "bad-checksum", "drop", "stall", "refuse", "burst"):
        assert sim.faults.count(kind) >= 1, kind
    expected_kalshi = {"subscribed", "orderbook_snapshot", "orderbook_delta", "ticker", "trade", "fill"}
    if not legacy:
        expected_kalshi |= {"market_position", "user_order", "market_lifecycle_v2"}
    assert expected_kalshi <= set(k_kinds), k_kinds
    assert {
        "status.update",
        "subscribe.ack",
        "instrument.snapshot",
        "book.snapshot",
        "book.update",
        "ticker.update",
        "trade.update",
        "ohlc.update",
        "unsubscribe.ack",
    } <= set(r_kinds), r_kinds
