"""What the simulated exchanges list: Kalshi series/events/markets and Kraken pairs.

Kraken pairs carry their real precisions (``price_precision`` / ``qty_precision`` on the v2
``instrument`` channel, ``pair_decimals`` / ``lot_decimals`` on REST) and their REST names, which for
the old pairs differ from the v2 symbol (``BTC/USD`` is ``XXBTZUSD`` / ``XBTUSD`` / ``XBT/USD``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from app.sim.units import DOLLAR, parse_fixed


@dataclass(frozen=True, slots=True)
class PriceRange:
    """Valid Kalshi prices ``start <= p <= end`` on a grid of ``step`` (units of $0.0001)."""

    start: int
    end: int
    step: int


# price_level_structure -> ranges (protocol/kalshi.md §3: valid prices come from price_ranges).
STRUCTURES: dict[str, tuple[PriceRange, ...]] = {
    "linear_cent": (PriceRange(0, DOLLAR, 100),),
    "deci_cent": (PriceRange(0, DOLLAR, 10),),
    "center_deci_edge_centi_cent": (
        PriceRange(0, 100, 1),
        PriceRange(100, 9900, 10),
        PriceRange(9900, DOLLAR, 1),
    ),
}


def valid_price(ranges: tuple[PriceRange, ...], price: int) -> bool:
    return 0 < price < DOLLAR and any(
        r.start <= price <= r.end and (price - r.start) % r.step == 0 for r in ranges
    )


def tick_at(ranges: tuple[PriceRange, ...], price: int) -> int:
    """The grid step that applies at ``price`` (the finest when two ranges meet)."""
    steps = [r.step for r in ranges if r.start <= price <= r.end]
    return min(steps) if steps else ranges[0].step


def snap_down(ranges: tuple[PriceRange, ...], price: int) -> int:
    """The highest valid price <= ``price`` (0 when none)."""
    best = 0
    for r in ranges:
        if price < r.start:
            continue
        top = min(price, r.end)
        best = max(best, top - (top - r.start) % r.step)
    return best if best < DOLLAR else best - tick_at(ranges, best - 1)


@dataclass(frozen=True, slots=True)
class KalshiSeries:
    ticker: str
    title: str
    category: str
    event_title: str  # with {n}: the event's ordinal in the series; {day}: its date in November
    strike_label: str
    strikes: tuple[str, ...]


SERIES: tuple[KalshiSeries, ...] = (
    KalshiSeries(
        "KXBTCD",
        "Bitcoin price",
        "Crypto",
        "Bitcoin price on Nov {day}, 2026 at 5pm EST?",
        "BTC above ${s}",
        tuple(str(96_000 + 500 * i) for i in range(16)),
    ),
    KalshiSeries(
        "KXCPI",
        "CPI",
        "Economics",
        "CPI month-over-month in release {n}?",
        "CPI above {s}%",
        ("0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6"),
    ),
    KalshiSeries(
        "KXHIGHNY",
        "Highest temperature in NYC",
        "Climate",
        "Highest temperature in NYC on Nov {day}?",
        "{s}° or above",
        tuple(str(40 + 2 * i) for i in range(10)),
    ),
    KalshiSeries(
        "KXFED",
        "Fed funds rate",
        "Economics",
        "Fed funds upper bound after meeting {n}?",
        "Above {s}%",
        ("3.25", "3.50", "3.75", "4.00", "4.25"),
    ),
    KalshiSeries(
        "KXETHD",
        "Ethereum price",
        "Crypto",
        "Ethereum price on Nov {day}, 2026 at 5pm EST?",
        "ETH above ${s}",
        tuple(str(2_900 + 50 * i) for i in range(10)),
    ),
)


@dataclass(frozen=True, slots=True)
class KalshiListing:
    """One Kalshi market as listed: identity, wording and price grid."""

    ticker: str
    market_id: str
    event_ticker: str
    series_ticker: str
    title: str
    yes_sub_title: str
    no_sub_title: str
    category: str
    structure: str
    ranges: tuple[PriceRange, ...]
    strike: str
    fair: int  # the market's initial fair YES price, in units


@dataclass(frozen=True, slots=True)
class KrakenPair:
    symbol: str  # v2 name, e.g. "BTC/USD"
    rest_key: str  # REST result key, e.g. "XXBTZUSD"
    altname: str  # e.g. "XBTUSD"
    wsname: str  # the v1 name, e.g. "XBT/USD"
    base: str
    quote: str
    base_asset: str  # REST asset key, e.g. "XXBT"
    quote_asset: str
    price_precision: int
    qty_precision: int
    price_increment: int  # in price units
    qty_min: int  # in qty units
    cost_precision: int
    mid: int  # initial mid, price units


# BTC, ETH, SOL, DOGE and ETH/BTC precisions and minimums are from live REST captures (2026-09);
# the others follow the same pattern and are unconfirmed.
_PAIRS: tuple[tuple[str, str, str, str, str, str, int, int, int, str, str], ...] = (
    # symbol, rest_key, altname, wsname, base_asset, quote_asset, pd, qd, increment, qty_min, mid
    ("BTC/USD", "XXBTZUSD", "XBTUSD", "XBT/USD", "XXBT", "ZUSD", 1, 8, 1, "0.00005", "97000"),
    ("ETH/USD", "XETHZUSD", "ETHUSD", "ETH/USD", "XETH", "ZUSD", 2, 8, 1, "0.002", "3100"),
    ("SOL/USD", "SOLUSD", "SOLUSD", "SOL/USD", "SOL", "ZUSD", 2, 8, 1, "0.06", "140"),
    ("XRP/USD", "XXRPZUSD", "XRPUSD", "XRP/USD", "XXRP", "ZUSD", 5, 8, 1, "2", "2.2"),
    ("DOGE/USD", "XDGUSD", "XDGUSD", "XDG/USD", "XXDG", "ZUSD", 7, 8, 1, "50", "0.16"),
    ("ADA/USD", "ADAUSD", "ADAUSD", "ADA/USD", "ADA", "ZUSD", 6, 8, 1, "5", "0.45"),
    ("LTC/USD", "XLTCZUSD", "LTCUSD", "LTC/USD", "XLTC", "ZUSD", 2, 8, 1, "0.05", "90"),
    ("DOT/USD", "DOTUSD", "DOTUSD", "DOT/USD", "DOT", "ZUSD", 4, 8, 1, "0.6", "3.1"),
    ("LINK/USD", "LINKUSD", "LINKUSD", "LINK/USD", "LINK", "ZUSD", 5, 8, 1, "0.2", "13"),
    ("ETH/BTC", "XETHXXBT", "ETHXBT", "ETH/XBT", "XETH", "XXBT", 6, 8, 1, "0.001", "0.032"),
)

# REST asset keys -> (v2 id, ledger decimals, display decimals)
ASSETS: dict[str, tuple[str, int, int]] = {
    "XXBT": ("BTC", 10, 5),
    "XETH": ("ETH", 10, 5),
    "SOL": ("SOL", 10, 5),
    "XXRP": ("XRP", 8, 5),
    "XXDG": ("DOGE", 8, 2),
    "ADA": ("ADA", 8, 6),
    "XLTC": ("LTC", 10, 5),
    "DOT": ("DOT", 10, 8),
    "LINK": ("LINK", 10, 5),
    "ZUSD": ("USD", 4, 2),
}


def kraken_pairs(count: int) -> list[KrakenPair]:
    """The real pairs first; beyond them synthetic ``SIMnnn/USD`` pairs for wide benchmarks."""
    pairs = []
    for symbol, key, alt, ws, b_asset, q_asset, pd, qd, inc, qmin, mid in _PAIRS[:count]:
        base, quote = symbol.split("/")
        pairs.append(
            KrakenPair(
                symbol,
                key,
                alt,
                ws,
                base,
                quote,
                b_asset,
                q_asset,
                pd,
                qd,
                inc,
                parse_fixed(qmin, qd),
                5,
                parse_fixed(mid, pd),
            )
        )
    for n in range(len(pairs), count):
        base = f"SIM{n:03d}"
        pairs.append(
            KrakenPair(
                f"{base}/USD",
                f"{base}USD",
                f"{base}USD",
                f"{base}/USD",
                base,
                "USD",
                base,
                "ZUSD",
                4,
                8,
                1,
                10**8,
                5,
                (10 + n) * 10**4,
            )
        )
    return pairs


@dataclass(slots=True)
class KalshiCatalog:
    """Allocates market listings across series and events, deterministically from the seed."""

    rng: random.Random
    legacy: bool = False
    _event_counts: dict[str, int] = field(default_factory=dict)

    def uuid(self) -> str:
        value = self.rng.getrandbits(128)
        value = (value & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4
        value = (value & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _structure(self) -> str:
        if self.legacy:  # the integer-cent format cannot carry sub-cent prices
            return "linear_cent"
        roll = self.rng.random()
        return "deci_cent" if roll < 0.2 else "center_deci_edge_centi_cent" if roll < 0.3 else "linear_cent"

    def new_event(self, series: KalshiSeries) -> str:
        n = self._event_counts.get(series.ticker, 0) + 1
        self._event_counts[series.ticker] = n
        return f"{series.ticker}-26NOV{20 + n:02d}"

    def listing(self, series: KalshiSeries, event_ticker: str, index: int) -> KalshiListing:
        strike = series.strikes[index % len(series.strikes)]
        n = int(event_ticker.rsplit("NOV", 1)[1]) - 20
        structure = self._structure()
        ranges = STRUCTURES[structure]
        # Lower strikes are likelier to resolve YES: fair value falls across the strike ladder.
        share = (index % len(series.strikes) + 0.5) / len(series.strikes)
        fair = int(DOLLAR * (0.92 - 0.84 * share) + self.rng.randint(-300, 300))
        fair = snap_down(ranges, max(300, min(DOLLAR - 300, fair)))
        return KalshiListing(
            ticker=f"{event_ticker}-T{strike}",
            market_id=self.uuid(),
            event_ticker=event_ticker,
            series_ticker=series.ticker,
            title=series.event_title.format(n=n, day=20 + n),  # the ticker says 26NOV{20+n}
            yes_sub_title=series.strike_label.format(s=strike),
            no_sub_title=series.strike_label.format(s=strike).replace("above", "not above"),
            category=series.category,
            structure=structure,
            ranges=ranges,
            strike=strike,
            fair=fair,
        )

    def initial(self, count: int) -> list[KalshiListing]:
        """``count`` markets spread over the series, one event per series, strikes in order."""
        listings: list[KalshiListing] = []
        per_series = [0] * len(SERIES)
        for i in range(count):
            per_series[i % len(SERIES)] += 1
        for series, n in zip(SERIES, per_series, strict=True):
            event = self.new_event(series)
            for j in range(n):
                if j and j % len(series.strikes) == 0:
                    event = self.new_event(series)
                listings.append(self.listing(series, event, j))
        return listings
