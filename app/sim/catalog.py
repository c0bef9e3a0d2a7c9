"""What the simulated exchanges list: Kalshi series/events/markets and Kraken pairs.

Kraken pairs carry their real precisions (``price_precision`` / ``qty_precision`` on the v2
``instrument`` channel, ``pair_decimals`` / ``lot_decimals`` on REST) and their REST names, which for
the old pairs differ from the v2 symbol (``BTC/USD`` is ``XXBTZUSD`` / ``XBTUSD`` / ``XBT/USD``).
"""

from __future__ import annotations

import math
import random
import time
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
    event_title: str  # with {n}: the event's ordinal in the series; {day}: its date ("Dec 4"); {month}
    strike_label: str
    strikes: tuple[str, ...]


# The crypto price series are the strike boards' (BOARDS below): their strikes follow the Kraken pair.
# These keep the strike counts the first and last series had, so a seed lists and steps as it did.
SERIES: tuple[KalshiSeries, ...] = (
    KalshiSeries(
        "KXGDP",
        "GDP growth",
        "Economics",
        "GDP growth in quarter {n}?",
        "GDP above {s}%",
        tuple(f"{0.25 * i:.2f}" for i in range(16)),
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
        "Highest temperature in NYC on {day}?",
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
        "KXRAINNYC",
        "Rain in NYC",
        "Climate",
        "Rain in NYC in {month} (release {n})?",
        "Above {s} inches",
        tuple(f"{0.5 * i:.1f}" for i in range(1, 11)),
    ),
)


@dataclass(frozen=True, slots=True)
class StrikeBoard:
    """A crypto price board: Kalshi events whose strikes sit around a Kraken pair's price."""

    pair: str  # the Kraken pair it follows
    threshold_series: str  # "above K" markets
    range_series: str  # "between floor and cap" markets
    title: str  # with {kind}: "price" or "price range", {day}: the close's date
    spot: int  # whole dollars at the start (the pair's opening mid)
    step: int  # dollars between strikes
    strikes: int  # threshold strikes (odd: one at the spot); the range event has strikes - 2 bands
    sigma: float  # spread of outcomes at close, dollars: about a 1 % day


BOARDS: tuple[StrikeBoard, ...] = (
    StrikeBoard("BTC/USD", "KXBTCD", "KXBTC", "Bitcoin {kind} on {day} at 5pm EST?", 97_000, 250, 21, 1000.0),
    StrikeBoard("ETH/USD", "KXETHD", "KXETH", "Ethereum {kind} on {day} at 5pm EST?", 3_100, 10, 21, 40.0),
)


def board_close(start_s: int) -> int:
    """The boards close at 5pm EST (22:00 UTC), the first one at least two hours after ``start_s``."""
    day = start_s - start_s % 86_400 + 22 * 3600
    return day if day - start_s >= 7200 else day + 86_400


EDGE = 100  # a board market's fair value stays within 1c of 0 and $1 (deep tails rest there)


def _money(dollars: int | str) -> str:
    whole, _, cents = str(dollars).partition(".")
    return f"${int(whole):,}" + (f".{cents}" if cents else "")


def _threshold_rows(board: StrikeBoard) -> list[tuple[str, str, str | None, str | None, str]]:
    """Kalshi writes "above K" as strike_type ``greater`` with ``floor_strike`` K - 0.01 (the ticker too)."""
    half = board.strikes // 2
    rows: list[tuple[str, str, str | None, str | None, str]] = []
    for i in range(board.strikes):
        k = board.spot + board.step * (i - half)
        floor = f"{k - 1}.99"
        rows.append((f"T{floor}", "greater", floor, None, f"{_money(k)} or above"))
    return rows


def _range_rows(board: StrikeBoard) -> list[tuple[str, str, str | None, str | None, str]]:
    """Bands [floor, floor + step - 0.01] between the threshold strikes, a ``less`` tail below the first
    and a ``greater`` tail above the last: the event's markets partition every outcome."""
    half = board.strikes // 2
    low = board.spot - board.step * (half - 1)
    bands = board.strikes - 2
    rows: list[tuple[str, str, str | None, str | None, str]] = [
        (f"T{low - 1}.99", "less", None, str(low), f"{_money(f'{low - 1}.99')} or below")
    ]
    for j in range(bands - 1):
        floor = low + board.step * j
        cap = f"{floor + board.step - 1}.99"
        middle = floor + board.step // 2
        rows.append((f"B{middle}", "between", str(floor), cap, f"{_money(floor)} to {_money(cap)}"))
    top = low + board.step * (bands - 1)
    rows.append((f"T{top - 1}.99", "greater", f"{top - 1}.99", None, f"{_money(top)} or above"))
    return rows


def board_fair(spot: float, sigma: float, strike_type: str, floor: str | None, cap: str | None) -> int:
    """The YES fair value (price units) of a board market with the underlying at ``spot``: a normal
    spread of outcomes of ``sigma`` dollars at close, kept 1c off the edges."""

    def above(k: str) -> float:
        return 0.5 * math.erfc((float(k) - spot) / (sigma * math.sqrt(2.0)))

    if strike_type == "greater" and floor is not None:
        p = above(floor)
    elif strike_type == "less" and cap is not None:
        p = 1.0 - above(cap)
    elif floor is not None and cap is not None:
        p = above(floor) - above(cap)
    else:
        p = 0.5
    return max(EDGE, min(DOLLAR - EDGE, round(p * DOLLAR)))


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
    # Kalshi's REST strike fields: "greater" (above floor), "less" (below cap), "between" (floor..cap).
    strike_type: str = "greater"
    floor_strike: str | None = None  # decimal text, served as a JSON number
    cap_strike: str | None = None
    underlying: str = ""  # a strike board's Kraken pair ("BTC/USD"): its fair value follows that price
    sigma: float = 0.0  # the board's spread of outcomes at close, in the underlying's dollars


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


FIXED_START_S = 1_795_132_800  # 2026-11-20 00:00 UTC: a catalog without a clock lists 26NOV21 first


@dataclass(slots=True)
class KalshiCatalog:
    """Allocates market listings across series and events, deterministically from the seed."""

    rng: random.Random
    legacy: bool = False
    # The simulator's start (Unix s): the n-th event of a series closes n days later, and its ticker and
    # title say that date, so they agree with the clock. None: a fixed date (catalogs made without one).
    start_s: int | None = None
    _event_counts: dict[str, int] = field(default_factory=dict)
    _event_days: dict[str, tuple[int, time.struct_time]] = field(default_factory=dict)

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
        base = FIXED_START_S if self.start_s is None else self.start_s
        day = time.gmtime(base + n * 86_400)
        ticker = f"{series.ticker}-{time.strftime('%y%b%d', day).upper()}"
        self._event_days[ticker] = (n, day)
        return ticker

    def listing(self, series: KalshiSeries, event_ticker: str, index: int) -> KalshiListing:
        strike = series.strikes[index % len(series.strikes)]
        n, day = self._event_days[event_ticker]
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
            title=series.event_title.format(
                n=n, day=f"{time.strftime('%b', day)} {day.tm_mday}", month=time.strftime("%B", day)
            ),  # the date the ticker says
            yes_sub_title=series.strike_label.format(s=strike),
            no_sub_title=series.strike_label.format(s=strike).replace("above", "not above"),
            category=series.category,
            structure=structure,
            ranges=ranges,
            strike=strike,
            fair=fair,
            floor_strike=strike,
        )

    def boards(self, close_s: int) -> list[KalshiListing]:
        """The BTC and ETH strike boards closing at ``close_s``: for each, a threshold event ("above K",
        one market a strike) and a range event (one market a band, a "below" and an "above" tail), around
        the pair's opening mid. Event tickers carry the close's date and hour, as Kalshi's do."""
        close = time.gmtime(close_s)
        stamp = time.strftime("%y%b%d", close).upper() + f"{(close.tm_hour - 5) % 24:02d}"  # the EST hour
        day = f"{time.strftime('%b', close)} {close.tm_mday}, {close.tm_year}"
        out: list[KalshiListing] = []
        for board in BOARDS:
            for series, ranged in ((board.threshold_series, False), (board.range_series, True)):
                event = f"{series}-{stamp}"
                title = board.title.format(kind="price range" if ranged else "price", day=day)
                rows = _range_rows(board) if ranged else _threshold_rows(board)
                for suffix, strike_type, floor, cap, label in rows:
                    structure = self._structure()
                    ranges = STRUCTURES[structure]
                    fair = board_fair(board.spot, board.sigma, strike_type, floor, cap)
                    out.append(
                        KalshiListing(
                            ticker=f"{event}-{suffix}",
                            market_id=self.uuid(),
                            event_ticker=event,
                            series_ticker=series,
                            title=title,
                            yes_sub_title=label,
                            no_sub_title=f"Not {label}",
                            category="Crypto",
                            structure=structure,
                            ranges=ranges,
                            strike=floor or cap or "",
                            fair=snap_down(ranges, fair),
                            strike_type=strike_type,
                            floor_strike=floor,
                            cap_strike=cap,
                            underlying=board.pair,
                            sigma=board.sigma,
                        )
                    )
        return out

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
