"""The simulated market on its own: seeded and reproducible, books that never cross, prices on each
market's grid, real Kraken precisions, lifecycle over time, and fault specs that parse or say why not."""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal

import pytest

from app.sim.catalog import STRUCTURES, valid_price
from app.sim.events import KalshiFill, KalshiIndexValue, KalshiLifecycle, KrakenExecution, KrakenLedger
from app.sim.faults import FaultSpec, FaultSpecError
from app.sim.kalshi.market import KalshiMarket
from app.sim.market import SimConfig, SimMarket
from app.sim.units import contracts, dollars, fixed, parse_fixed


def _truth(market: SimMarket) -> tuple[object, ...]:
    kalshi = {t: (m.status, m.yes.top(), m.no.top(), m.volume) for t, m in market.kalshi.items()}
    kraken = {s: (p.bids.top(), p.asks.top(), p.last) for s, p in market.kraken.items()}
    fills = [(f.trade_id, f.count, f.post_position) for f in market.kalshi_fills]
    return kalshi, kraken, fills


def test_same_seed_same_market_different_seed_different_market() -> None:
    a, b, c = (SimMarket(SimConfig(seed=s)) for s in (42, 42, 43))
    for m in (a, b, c):
        for _ in range(20_000):
            m.step()
    assert _truth(a) == _truth(b)
    assert _truth(a) != _truth(c)


def test_books_never_cross_and_prices_sit_on_each_markets_grid() -> None:
    market = SimMarket(SimConfig(seed=9))
    for i in range(30_000):
        market.step()
        if i % 1000:
            continue
        for m in market.kalshi.values():
            ranges = m.listing.ranges
            assert all(valid_price(ranges, p) and s > 0 for p, s in m.yes.top() + m.no.top()), m.ticker
            if m.yes.best() is not None and m.no.best() is not None:
                assert m.yes.best() + m.no.best() < 10_000, m.ticker  # best YES bid < best YES ask
        for p in market.kraken.values():
            assert p.bids.best() < p.asks.best(), p.symbol
            assert all(q >= 1 for _, q in p.bids.top(50) + p.asks.top(50))


def test_listings_mix_series_and_tick_structures() -> None:
    market = SimMarket(SimConfig(seed=1, kalshi_markets=40))
    series = Counter(m.listing.series_ticker for m in market.kalshi.values())
    structures = Counter(m.listing.structure for m in market.kalshi.values())
    assert set(series) == {
        "KXGDP",
        "KXCPI",
        "KXHIGHNY",
        "KXFED",
        "KXRAINNYC",
        "KXBTCD",
        "KXBTC",
        "KXETHD",
        "KXETH",
    }
    assert set(structures) <= set(STRUCTURES) and len(structures) >= 2, structures  # sub-cent markets exist
    assert len({m.listing.event_ticker for m in market.kalshi.values()}) >= 5
    legacy = SimMarket(SimConfig(seed=1, kalshi_markets=40, legacy_kalshi=True))
    assert {m.listing.structure for m in legacy.kalshi.values()} == {"linear_cent"}


def test_kraken_pairs_carry_real_precisions() -> None:
    pairs = {p.symbol: p.pair for p in SimMarket(SimConfig(kraken_pairs=12)).kraken.values()}
    assert (pairs["BTC/USD"].price_precision, pairs["BTC/USD"].qty_precision, pairs["BTC/USD"].rest_key) == (
        1,
        8,
        "XXBTZUSD",
    )
    assert pairs["DOGE/USD"].price_precision == 7 and pairs["ETH/BTC"].price_precision == 6
    assert pairs["SIM011/USD"].price_precision == 4  # synthetic pairs beyond the ten real ones
    assert len(pairs) == 12


def test_lifecycle_account_and_user_activity_over_a_long_run() -> None:
    market = SimMarket(SimConfig(seed=2))
    seen: Counter[str] = Counter()
    for _ in range(120_000):
        for event in market.step():
            if isinstance(event, KalshiLifecycle):
                seen[event.event_type] += 1
            else:
                seen[type(event).__name__] += 1
    for kind in ("deactivated", "activated", "close_date_updated", "determined", "settled", "created"):
        assert seen[kind] >= 1, seen
    assert seen[KalshiFill.__name__] == len(market.kalshi_fills) > 0
    assert seen[KrakenExecution.__name__] == len(market.kraken_account.executions) > 0
    assert seen[KrakenLedger.__name__] == seen[KrakenExecution.__name__]
    settled = [m for m in market.kalshi.values() if m.status == "finalized"]
    assert settled and all(len(m.yes) == len(m.no) == 0 and m.result in ("yes", "no") for m in settled)
    # A market's position is the sum of its fills' signed counts.
    for ticker, m in market.kalshi.items():
        fills = [f for f in market.kalshi_fills if f.market == ticker]
        if fills:
            assert fills[-1].post_position == m.position.position


def test_units_are_exact_text() -> None:
    assert dollars(1) == "0.0001" and dollars(10_000) == "1.0000" and contracts(-5) == "-0.05"
    assert fixed(452852, 1) == "45285.2" and fixed(100000, 8) == "0.00100000" and fixed(7, 0) == "7"
    assert parse_fixed("0.0500", 4) == 500 and parse_fixed("-1.5", 2) == -150
    with pytest.raises(ValueError, match="at most 2 decimals"):
        parse_fixed("1.234", 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("drop", FaultSpec("drop", every=10.0)),
        ("drop:p=0.01", FaultSpec("drop", p=0.01)),
        ("skip-seq:every=5,venue=kalshi", FaultSpec("skip-seq", venue="kalshi", every=5.0)),
        ("refuse:status=401", FaultSpec("refuse", status=401, count=1)),
        ("refuse:status=503,p=0.5", FaultSpec("refuse", status=503, p=0.5)),
        ("stall:every=4,seconds=2", FaultSpec("stall", every=4.0, seconds=2.0)),
        ("burst", FaultSpec("burst", every=10.0, size=2000)),
    ],
)
def test_fault_specs_parse(text: str, expected: FaultSpec) -> None:
    assert FaultSpec.parse(text) == expected
    assert FaultSpec.parse(FaultSpec.parse(text).text()) == expected  # the logged text round-trips


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("explode", "unknown fault 'explode'"),
        ("drop:every", "bad option 'every'"),
        ("drop:often=3", "bad option 'often=3'"),
        ("drop:every=soon", "every must be a number"),
        ("drop:p=1.5", "out of range"),
        ("drop:every=0", "every must be positive"),
        ("refuse:status=418", "refuse status must be"),
        ("malformed:venue=binance", "venue must be kalshi or kraken"),
    ],
)
def test_bad_fault_specs_say_why(text: str, why: str) -> None:
    with pytest.raises(FaultSpecError, match=why):
        FaultSpec.parse(text)


def test_the_kraken_account_never_sells_what_it_does_not_hold() -> None:
    """Issue 19 item 12: every ledger entry's balance and the account's balances stay at or above zero,
    coins the account started without are only ever bought first, and both sides still trade."""
    market = SimMarket(SimConfig(seed=3, kalshi_share=0.0))
    started_with = set(market.kraken_account.balances)
    sides: Counter[tuple[str, str]] = Counter()
    for _ in range(60_000):
        for event in market.step():
            if isinstance(event, KrakenLedger):
                for entry in event.entries:
                    units, _decimals = entry["balance"]
                    assert units >= 0, entry
            elif isinstance(event, KrakenExecution):
                sides[(event.report["symbol"], event.report["side"])] += 1
        assert all(units >= 0 for units in market.kraken_account.balances.values())
    assert sum(n for (_, side), n in sides.items() if side == "sell") > 0
    assert sum(n for (_, side), n in sides.items() if side == "buy") > 0
    # A coin the account did not start with was bought before any of it was sold.
    for symbol in market.kraken:
        base = symbol.split("/")[0]
        if base not in started_with and sides[(symbol, "sell")]:
            first = next(r for r in market.kraken_account.executions if r["symbol"] == symbol)
            assert first["side"] == "buy", symbol


def test_strike_boards_are_coherent_with_their_kraken_pair() -> None:
    """BTC and ETH threshold and range events with many strikes around the Kraken price: "above K" falls
    as K rises, the range bands partition every outcome, and the fair values follow the pair's price."""
    from app.sim.catalog import board_fair

    market = SimMarket(SimConfig(seed=3))
    events: dict[str, list[KalshiMarket]] = {}
    for m in market.kalshi.values():
        if m.listing.underlying:
            events.setdefault(m.listing.event_ticker, []).append(m)
    by_series = {e.split("-")[0]: ms for e, ms in events.items()}
    assert set(by_series) == {"KXBTCD", "KXBTC", "KXETHD", "KXETH"}
    for series, markets in by_series.items():
        assert 15 <= len(markets) <= 25, series
        listings = [m.listing for m in markets]
        if series in ("KXBTCD", "KXETHD"):
            assert {ls.strike_type for ls in listings} == {"greater"}
            floors = [float(ls.floor_strike or "nan") for ls in listings]
            assert floors == sorted(floors)
            fairs = [ls.fair for ls in listings]
            assert fairs == sorted(fairs, reverse=True) and fairs[0] > 9000 and fairs[-1] < 1000
        else:
            kinds = [ls.strike_type for ls in listings]
            assert kinds[0] == "less" and kinds[-1] == "greater" and set(kinds[1:-1]) == {"between"}
            bands = [
                (Decimal(ls.floor_strike or "nan"), Decimal(ls.cap_strike or "nan")) for ls in listings[1:-1]
            ]
            for (_, cap), (floor, _) in itertools.pairwise(bands):  # bands touch to the cent
                assert floor - cap == Decimal("0.01")
            assert listings[0].cap_strike == listings[1].floor_strike
    spot = {"KXBTCD": 97_000, "KXETHD": 3_100}
    for series, price in spot.items():  # the strike at the spot opens near 50c
        (middle,) = [m for m in by_series[series] if m.listing.floor_strike == f"{price - 1}.99"]
        assert 4_000 <= middle.listing.fair <= 6_000
    btc = market.kraken["BTC/USD"]
    for _ in range(40_000):
        market.step()
    spot_now = btc.fair / 10
    gaps = []
    for m in by_series["KXBTCD"]:
        listing = m.listing
        fair = board_fair(spot_now, listing.sigma, "greater", listing.floor_strike, None)
        assert abs(market.board_fair(m) - fair) <= 100  # the target: the pair's price now, on a 1c grid
        gaps.append(abs(m.fair - fair))  # where it stands: set at its last step, a little behind
    assert sorted(gaps)[len(gaps) // 2] <= 300 and max(gaps) <= 1500, gaps


def test_index_ticks_follow_kraken_within_basis_points() -> None:
    market = SimMarket(SimConfig(seed=5))
    for second in range(90):
        for _ in range(50):
            market.step()
        ticks = {t.index_id: t for t in market.index_tick(1_000 * second) if isinstance(t, KalshiIndexValue)}
        assert set(ticks) == {"BRTI", "ETHUSD_RTI"}
        btc = market.kraken["BTC/USD"]
        mid = ((btc.bids.best() or 0) + (btc.asks.best() or 0)) * 10 / 2  # cents (1 decimal on the pair)
        assert abs(ticks["BRTI"].value - mid) <= mid * 0.001
    assert ticks["BRTI"].window == 60  # the 60 s average is over the last 60 values
