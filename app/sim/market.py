"""The seeded random market behind both simulated venues.

``SimMarket(seed=...)`` builds the listings and initial books; each ``step()`` applies one random
action (add or cancel liquidity, a trade, a lifecycle change) to one Kalshi market or Kraken pair and
returns what happened as ``events``. The same seed gives the same sequence of steps: nothing here
reads the clock except timestamps, which are stamped on but never decide anything.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.sim.catalog import (
    EDGE,
    SERIES,
    KalshiCatalog,
    KrakenPair,
    board_close,
    board_fair,
    kraken_pairs,
    snap_down,
    tick_at,
    valid_price,
)
from app.sim.events import (
    KalshiDelta,
    KalshiEventCreated,
    KalshiFill,
    KalshiIndexValue,
    KalshiLifecycle,
    KalshiPositionChanged,
    KalshiTickerChanged,
    KalshiTrade,
    KalshiUserOrder,
    KrakenBbo,
    KrakenBook,
    KrakenExecution,
    KrakenLedger,
    KrakenTrade,
    SimEvent,
)
from app.sim.history import Bar, walk
from app.sim.kalshi.market import CLOSED, DETERMINED, OPEN, PAUSED, SETTLED, KalshiMarket
from app.sim.kraken.market import KrakenPairState
from app.sim.units import CONTRACT, DOLLAR

USER_FILL_SHARE = 0.08  # share of trades the simulated account takes part in
LIFECYCLE_SHARE = 0.0003  # share of Kalshi steps that pause or close an open market
FOLLOW_UP_STEPS = (
    300,
    3000,
)  # a paused market resumes, a closed one determines/settles, this many steps later
KRAKEN_LEVELS = 1000  # levels per side on the real pairs (a depth-1000 subscription fills)
SYNTHETIC_LEVELS = 100
# Blast mode's Kraken shape (issue 17's measured stream): a second side in 40 % of updates, each
# change at the top of book 40 % of the time -> ~1.7 levels an update, the top changing on ~half.
BLAST_BOTH_SIDES = 0.4
BLAST_AT_TOP = 0.4
KALSHI_LEVELS = 40
CENT = DOLLAR // 100
# The CF Benchmarks real-time indices the crypto boards settle on, and the Kraken pair each follows here.
INDICES = {"BRTI": "BTC/USD", "ETHUSD_RTI": "ETH/USD"}
INDEX_WINDOW = 60  # values in the 60 s average (one a second)
BOARD_STEPS = 2  # board markets stepped each time their pair steps


def ledger_decimals(asset: str) -> int:
    """Decimals the simulated account keeps an asset's balance in (USD to 4, coins to 8)."""
    return 4 if asset == "USD" else 8


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _fee_rate(is_taker: bool) -> int:
    """Kraken's spot fee in 1/10 000: 0.40 % taker, 0.25 % maker."""
    return 40 if is_taker else 25


def rfc3339(ns: int | None = None) -> str:
    ns = time.time_ns() if ns is None else ns
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac // 1000:06d}Z"


@dataclass(slots=True)
class KrakenAccount:
    balances: dict[str, int] = field(default_factory=dict)  # v2 asset id -> units at ledger decimals
    executions: list[dict[str, Any]] = field(default_factory=list)  # newest last
    # The user's resting orders (the level3 endpoint places them among its orders): reports as the
    # executions snapshot lists open orders, keyed by order id.
    open_orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_ledger: int = 1


@dataclass(slots=True)
class SimConfig:
    seed: int = 1
    kalshi_markets: int = 24
    kraken_pairs: int = 10
    legacy_kalshi: bool = False
    kalshi_share: float = 0.5  # share of steps that go to Kalshi
    lifecycle_share: float = LIFECYCLE_SHARE
    history: bool = True  # a day of bars before the start (app/sim/history.py)
    strike_boards: bool = True  # the BTC and ETH strike events, besides ``kalshi_markets``


class SimMarket:
    """Both venues' state and the random order flow that moves it."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.rng = random.Random(self.config.seed)
        start_s = int(time.time())
        self.catalog = KalshiCatalog(
            random.Random(self.config.seed * 7919 + 1), legacy=self.config.legacy_kalshi, start_s=start_s
        )
        self.size_unit = CONTRACT if self.config.legacy_kalshi else 1  # legacy: whole contracts only
        self.steps = 0
        history = random.Random(self.config.seed * 104_729 + 3)  # its own stream: the steps stay the same
        history_end = start_s - start_s % 60
        self.kalshi: dict[str, KalshiMarket] = {}
        self._kalshi_list: list[KalshiMarket] = []
        for listing in self.catalog.initial(self.config.kalshi_markets):
            # Listed two days ago (a day of history before the start), closing a day after it.
            opened = start_s - 2 * 86_400
            market = KalshiMarket(listing, open_ts=opened, close_ts=start_s + 86_400, fair=listing.fair)
            self._add_kalshi(market)
            if self.config.history:
                market.backfill(self._kalshi_history(history, market, history_end))
        self.kraken: dict[str, KrakenPairState] = {}
        self._kraken_list: list[KrakenPairState] = []
        pair_bars: dict[str, list[Bar]] = {}
        for pair in kraken_pairs(self.config.kraken_pairs):
            state = KrakenPairState(pair, open_price=pair.mid)
            self._seed_kraken_book(state)
            if self.config.history:
                pair_bars[pair.symbol] = bars = self._kraken_history(history, pair, history_end)
                state.backfill(bars)
            self.kraken[pair.symbol] = state
            self._kraken_list.append(state)
        # The strike boards' markets step when their pair does (so the rest keep their pace and their
        # seeded order) and have no random lifecycle: they follow their Kraken pair until they close.
        self._boards: dict[str, list[KalshiMarket]] = {}
        self._board_rng = board_rng = random.Random(self.config.seed * 15_485_863 + 5)
        self._board_ids = random.Random(self.config.seed * 15_485_863 + 6)
        board_day = random.Random(self.config.seed * 15_485_863 + 8)  # history on or off: the same steps
        if self.config.strike_boards:
            close_s = board_close(start_s)
            saved_ids, self.catalog.rng = self.catalog.rng, self._board_ids
            listings = self.catalog.boards(close_s)
            self.catalog.rng = saved_ids
            for listing in listings:
                market = KalshiMarket(
                    listing, open_ts=start_s - 2 * 86_400, close_ts=close_s, fair=listing.fair
                )
                self.kalshi[market.ticker] = market
                self._boards.setdefault(listing.underlying, []).append(market)
                saved, self.rng = self.rng, board_rng
                for _ in range(KALSHI_LEVELS):
                    self._kalshi_add(market, quiet=True)
                self.rng = saved
                day = pair_bars.get(listing.underlying)
                if day:
                    market.backfill(
                        self._board_history(board_day, market, day, self.kraken[listing.underlying])
                    )
        self.kraken_account = KrakenAccount(
            balances={"USD": 250_000 * 10**4, "BTC": 15 * 10**9, "ETH": 40 * 10**9, "SOL": 500 * 10**9}
        )
        self.kalshi_fills: list[KalshiFill] = []  # newest last
        self.kalshi_orders: dict[str, KalshiUserOrder] = {}
        self._order_seq = 0
        self._due: dict[int, str] = {}  # step number -> market whose lifecycle moves on then
        # The index is an average over several exchanges: it sits a few basis points off Kraken's mid,
        # the offset wandering on its own stream (the market's steps stay the same for a seed).
        self._index_rng = random.Random(self.config.seed * 32_452_843 + 7)
        self._index_offset: dict[str, float] = dict.fromkeys(INDICES, 0.0)
        self._index_values: dict[str, list[tuple[int, int]]] = {i: [] for i in INDICES}  # (ts_ms, cents)

    # ------------------------------------------------------------------ set-up

    def _add_kalshi(self, market: KalshiMarket) -> None:
        self.kalshi[market.ticker] = market
        self._kalshi_list.append(market)
        for _ in range(KALSHI_LEVELS):
            self._kalshi_add(market, quiet=True)

    def _seed_kraken_book(self, state: KrakenPairState) -> None:
        pair = state.pair
        levels = KRAKEN_LEVELS if not pair.symbol.startswith("SIM") else SYNTHETIC_LEVELS
        spread = self._gap(pair)
        for i in range(levels):
            gap = spread * (1 + i)
            state.bids.set(pair.mid - gap, self._kraken_qty(pair))
            state.asks.set(pair.mid + gap, self._kraken_qty(pair))
        state.last = state.fair = pair.mid
        state.low = state.high = pair.mid

    @staticmethod
    def _kalshi_history(rng: random.Random, market: KalshiMarket, end_s: int) -> list[Bar]:
        ranges = market.listing.ranges
        resting = market.listing.underlying and market.fair in (EDGE, DOLLAR - EDGE)
        return walk(
            rng,
            end_price=market.fair,
            end_s=end_s,
            step=0.35 * CENT,
            low=2 * CENT,
            high=DOLLAR - 2 * CENT,
            snap=lambda p: snap_down(ranges, p),
            size=lambda: max(1, int(10 ** rng.uniform(0, 2.5))) * CONTRACT,
            trade_share=0.0 if resting else 0.5,  # a board's deep tail: no print all day
            outlier=0 if resting else 25 * CENT,
        )

    @staticmethod
    def _board_history(
        rng: random.Random, market: KalshiMarket, pair_bars: list[Bar], pair: KrakenPairState
    ) -> list[Bar]:
        """A board market's day follows its pair's day: each minute's price is the fair value at the
        pair's close then (cheap, and coherent: a day ago the whole board stood where the coin stood).
        Prints in a quarter of the minutes, none while the market rests at 1c or 99c."""
        listing = market.listing
        scale = 10**pair.pair.price_precision
        bars: list[Bar] = []
        prev: int | None = None
        for bar in pair_bars:
            fair = board_fair(
                bar.close / scale,
                listing.sigma,
                listing.strike_type,
                listing.floor_strike,
                listing.cap_strike,
            )
            price = max(EDGE, snap_down(listing.ranges, fair))
            open_ = price if prev is None else prev
            trades = 1 if rng.random() < 0.25 and price not in (EDGE, DOLLAR - EDGE) else 0
            volume = max(1, int(10 ** rng.uniform(0, 2.5))) * CONTRACT if trades else 0
            bars.append(Bar(bar.begin_s, open_, max(open_, price), min(open_, price), price, volume, trades))
            prev = price
        if bars:  # the day ends where the market opens
            last = bars[-1]
            last.close = market.fair
            last.high, last.low = max(last.high, market.fair), min(last.low, market.fair)
        return bars

    @staticmethod
    def _kraken_history(rng: random.Random, pair: KrakenPair, end_s: int) -> list[Bar]:
        inc = pair.price_increment
        return walk(
            rng,
            end_price=pair.mid,
            end_s=end_s,
            step=pair.mid * 0.0007,
            low=max(inc, pair.mid * 85 // 100),
            high=pair.mid * 115 // 100,
            snap=lambda p: max(inc, p - p % inc),
            size=lambda: max(pair.qty_min, int(pair.qty_min * 10 ** rng.uniform(0, 2.5))),
            outlier=pair.mid * 0.1,
        )

    def _kraken_qty(self, pair: KrakenPair) -> int:
        # Log-spread sizes from the minimum order up, at full qty precision.
        return max(pair.qty_min, int(pair.qty_min * 10 ** self.rng.uniform(0, 3.5)))

    # ------------------------------------------------------------------ stepping

    def step(self) -> list[SimEvent]:
        self.steps += 1
        due = self._due.pop(self.steps, None)
        if due is not None:
            return self._lifecycle(self.kalshi[due])
        if self._kraken_list and (not self._kalshi_list or self.rng.random() >= self.config.kalshi_share):
            state = self.rng.choice(self._kraken_list)
            events = self._kraken_step(state)
            boards = self._boards.get(state.symbol)
            return events + self._board_steps(boards) if boards else events
        for _ in range(8):  # closed and paused markets don't trade; pick another
            market = self.rng.choice(self._kalshi_list)
            if market.trading:
                break
        else:
            return []
        if self.rng.random() < self.config.lifecycle_share:
            return self._lifecycle(market)
        return self._kalshi_step(market)

    def _schedule(self, market: KalshiMarket) -> None:
        when = self.steps + self.rng.randint(*FOLLOW_UP_STEPS)
        while when in self._due:
            when += 1
        self._due[when] = market.ticker

    # ------------------------------------------------------------------ Kalshi flow

    def _kalshi_step(self, market: KalshiMarket) -> list[SimEvent]:
        roll = self.rng.random()
        events: list[SimEvent] = []
        if market.listing.underlying:
            market.fair = self.board_fair(market)
            events = self._requote(market)
            if market.fair in (EDGE, DOLLAR - EDGE) and roll >= 0.78:
                roll = 0.0  # nobody trades a tail resting at 1c or 99c: it only gets quotes
        else:
            # A random walk pulled back towards the listing's fair value, kept off the edges.
            drift = self.rng.randint(-40, 40) + (market.listing.fair - market.fair) // 100
            market.fair = max(200, min(DOLLAR - 200, market.fair + drift))
        if roll < 0.45:
            rest = self._kalshi_add(market)
        elif roll < 0.78:
            rest = self._kalshi_cancel(market)
        else:
            rest = self._kalshi_trade(market)
        if events and not any(isinstance(e, KalshiTickerChanged) for e in rest):
            rest.append(KalshiTickerChanged(market.ticker))  # one ticker, after every change of the step
        return events + rest

    def _board_steps(self, boards: list[KalshiMarket]) -> list[SimEvent]:
        """When a board's pair moves, some of its markets step too, on the board's own random streams, so
        every other market's steps (and so a seed's history) stay what they were without the boards."""
        saved = self.rng, self.catalog.rng
        self.rng, self.catalog.rng = self._board_rng, self._board_ids
        try:
            events: list[SimEvent] = []
            # Distinct markets: a ticker is rendered when sent, so one market's ticker must end its step.
            for market in self.rng.sample(boards, min(BOARD_STEPS, len(boards))):
                events.extend(self._kalshi_step(market))
            return events
        finally:
            self.rng, self.catalog.rng = saved

    def board_fair(self, market: KalshiMarket) -> int:
        """A strike board market's fair YES value at its Kraken pair's current fair price."""
        listing = market.listing
        pair = self.kraken.get(listing.underlying)
        if pair is None:
            return listing.fair
        spot = pair.fair / 10**pair.pair.price_precision
        fair = board_fair(spot, listing.sigma, listing.strike_type, listing.floor_strike, listing.cap_strike)
        return max(EDGE, snap_down(listing.ranges, fair))

    def _requote(self, market: KalshiMarket) -> list[SimEvent]:
        """The spot moved: bids now through the fair value move to just below it (a quoter following the
        underlying), so the board's quotes track Kraken instead of waiting to be traded through."""
        events: list[SimEvent] = []
        ranges = market.listing.ranges
        for side, limit in (("yes", market.fair), ("no", DOLLAR - market.fair)):
            book = market.book(side)
            for _ in range(5):
                best = book.best()
                if best is None or best < limit:
                    break
                size = book.get(best)
                book.set(best, 0)
                events.append(KalshiDelta(market.ticker, side, best, -size, now_ms()))
                other = market.book("no" if side == "yes" else "yes").best()
                ceiling = min(limit, DOLLAR - other) if other is not None else limit
                price = snap_down(ranges, ceiling - tick_at(ranges, ceiling))
                if price > 0 and valid_price(ranges, price):
                    book.set(price, book.get(price) + size)
                    events.append(KalshiDelta(market.ticker, side, price, size, now_ms()))
        return events

    def _kalshi_size(self) -> int:
        contracts = int(10 ** self.rng.uniform(0, 2.7))
        if self.size_unit == 1 and self.rng.random() < 0.25:  # fractional trading is universal
            return contracts * CONTRACT + self.rng.randrange(1, CONTRACT)
        return max(1, contracts) * CONTRACT

    def _kalshi_add(self, market: KalshiMarket, quiet: bool = False) -> list[SimEvent]:
        side = "yes" if self.rng.random() < 0.5 else "no"
        ranges = market.listing.ranges
        # YES bids sit below fair; NO bids (NO-leg) sit below 1 - fair. Never cross the other side.
        anchor = market.fair if side == "yes" else DOLLAR - market.fair
        other = market.no.best() if side == "yes" else market.yes.best()
        reference = min(anchor, DOLLAR - other) if other is not None else anchor  # the opposite ask
        step = tick_at(ranges, reference) * (1 + int(self.rng.expovariate(0.35)))
        price = snap_down(ranges, reference - step)
        if price <= 0 or not valid_price(ranges, price):
            return []
        size = self._kalshi_size()
        book = market.book(side)
        book.set(price, book.get(price) + size)
        if quiet:
            return []
        return [KalshiDelta(market.ticker, side, price, size, now_ms()), KalshiTickerChanged(market.ticker)]

    def _kalshi_cancel(self, market: KalshiMarket) -> list[SimEvent]:
        side = "yes" if self.rng.random() < 0.5 else "no"
        book = market.book(side)
        if len(book) < 3:
            return self._kalshi_add(market)
        price = book.price_at(min(len(book) - 1, int(self.rng.expovariate(0.25))))
        held = book.get(price)
        take = (
            held
            if self.rng.random() < 0.5
            else max(self.size_unit, (held // 2) // self.size_unit * self.size_unit)
        )
        take = min(take, held)
        book.set(price, held - take)
        return [KalshiDelta(market.ticker, side, price, -take, now_ms()), KalshiTickerChanged(market.ticker)]

    def _kalshi_trade(self, market: KalshiMarket) -> list[SimEvent]:
        # A YES taker lifts the YES ask, i.e. hits the best NO bid; a NO taker hits the best YES bid.
        taker = "yes" if self.rng.random() < 0.5 else "no"
        book = market.no if taker == "yes" else market.yes
        best = book.best()
        if best is None:
            return self._kalshi_add(market)
        held = book.get(best)
        count = min(held, self._kalshi_size())
        yes_price = DOLLAR - best if taker == "yes" else best
        book.set(best, held - count)
        ts = now_ms()
        market.last_price = yes_price
        market.last_trade_size = count
        market.volume += count
        market.open_interest = max(0, market.open_interest + (count if self.rng.random() < 0.6 else -count))
        market.dollar_volume += yes_price * count // (DOLLAR * CONTRACT)
        market.record_trade(yes_price, count, ts // 1000)
        trade = KalshiTrade(market.ticker, self.catalog.uuid(), yes_price, count, taker, ts)
        events: list[SimEvent] = [
            KalshiDelta(market.ticker, "no" if taker == "yes" else "yes", best, -count, ts),
            trade,
            KalshiTickerChanged(market.ticker),
        ]
        if self.rng.random() < USER_FILL_SHARE:
            events.extend(self._kalshi_user_fill(market, trade))
        return events

    def _kalshi_user_fill(self, market: KalshiMarket, trade: KalshiTrade) -> list[SimEvent]:
        is_taker = self.rng.random() < 0.5
        # outcome = the user's direction: the taker's, or the other one for the maker. Reducing a
        # position is reported as selling the held contract ("sell yes" is a NO-ward trade).
        outcome = trade.taker_outcome if is_taker else ("no" if trade.taker_outcome == "yes" else "yes")
        pos = market.position
        signed = trade.count if outcome == "yes" else -trade.count
        closing = pos.position and (pos.position > 0) != (signed > 0)
        action = "sell" if closing and self.rng.random() < 0.5 else "buy"
        price = trade.yes_price if outcome == "yes" else DOLLAR - trade.yes_price
        cost = price * trade.count  # 1e-6 dollars
        fee_cents = -(-7 * trade.count * price * (DOLLAR - price) // 10**10)  # 0.07*C*P*(1-P), rounded up
        fee = fee_cents * 10**4
        if closing:
            closed = min(abs(signed), abs(pos.position))
            avg = pos.cost_micros // abs(pos.position) if pos.position else 0
            pos.realized_micros += (DOLLAR - price) * closed - avg * closed
            pos.cost_micros -= avg * closed
            pos.position += closed if signed > 0 else -closed
            rest = abs(signed) - closed
            if rest:
                pos.position += rest if signed > 0 else -rest
                pos.cost_micros += price * rest
        else:
            pos.position += signed
            pos.cost_micros += cost
        pos.fees_micros += fee
        pos.volume += trade.count
        pos.traded_micros += cost
        self._order_seq += 1
        order_id = self.catalog.uuid()
        client_id = f"mm-sim-{self._order_seq}"
        fill = KalshiFill(
            trade.trade_id,
            order_id,
            market.ticker,
            is_taker,
            outcome,
            action,
            trade.yes_price,
            trade.count,
            fee,
            pos.position,
            trade.ts_ms,
            client_id,
        )
        self.kalshi_fills.append(fill)
        order = KalshiUserOrder(
            order_id,
            market.ticker,
            "executed",
            outcome,
            action,
            trade.yes_price,
            trade.count,
            trade.count,
            cost if is_taker else 0,
            0 if is_taker else cost,
            fee if is_taker else 0,
            0 if is_taker else fee,
            client_id,
            trade.ts_ms - self.rng.randint(0, 60_000),
            trade.ts_ms,
        )
        self.kalshi_orders[order_id] = order
        return [fill, order, KalshiPositionChanged(market.ticker)]

    def _lifecycle(self, market: KalshiMarket) -> list[SimEvent]:
        ts = int(time.time())
        events: list[SimEvent] = []
        if market.status == OPEN:
            if self.rng.random() < 0.5:
                market.status = PAUSED
                self._schedule(market)
                return [KalshiLifecycle(market.ticker, "deactivated", {"is_deactivated": True})]
            # Early close: resting orders are cancelled, which empties the book.
            market.status = CLOSED
            market.close_ts = ts
            for side in ("yes", "no"):
                book = market.book(side)
                for price, size in book.top():
                    events.append(KalshiDelta(market.ticker, side, price, -size, now_ms()))
                book.clear()
            events.append(KalshiTickerChanged(market.ticker))
            events.append(KalshiLifecycle(market.ticker, "close_date_updated", {"close_ts": ts}))
            self._schedule(market)
            return events
        if market.status == PAUSED:
            market.status = OPEN
            return [KalshiLifecycle(market.ticker, "activated", {"is_deactivated": False})]
        if market.status == CLOSED:
            market.status = DETERMINED
            market.result = "yes" if self.rng.random() * DOLLAR < market.fair else "no"
            market.settlement_value = DOLLAR if market.result == "yes" else 0
            market.determination_ts = ts
            self._schedule(market)
            return [
                KalshiLifecycle(
                    market.ticker,
                    "determined",
                    {
                        "determination_ts": ts,
                        "result": market.result,
                        "settlement_value": market.settlement_value,
                    },
                )
            ]
        if market.status == DETERMINED:
            market.status = SETTLED
            market.settled_ts = ts
            events.append(KalshiLifecycle(market.ticker, "settled", {"settled_ts": ts}))
            events.extend(self._list_successor(market))
            return events
        return []

    def _list_successor(self, market: KalshiMarket) -> list[SimEvent]:
        """A settled market's series lists the next event's market at the same strike."""
        series = next(s for s in SERIES if s.ticker == market.listing.series_ticker)
        event = self.catalog.new_event(series)
        listing = self.catalog.listing(series, event, series.strikes.index(market.listing.strike))
        now_s = int(time.time())
        successor = KalshiMarket(listing, open_ts=now_s, close_ts=now_s + 86_400, fair=listing.fair)
        self._add_kalshi(successor)
        return [
            KalshiEventCreated(event),
            KalshiLifecycle(successor.ticker, "created", {}),
            KalshiTickerChanged(successor.ticker),
        ]

    # ------------------------------------------------------------------ settlement indices

    def index_tick(self, ts_ms: int) -> list[SimEvent]:
        """One value of each CF Benchmarks index whose Kraken pair is listed (the server calls this once
        a second, as Kalshi's ``cfbenchmarks_value`` channel ticks about once a second)."""
        out: list[SimEvent] = []
        for index_id, symbol in INDICES.items():
            state = self.kraken.get(symbol)
            bid, ask = (state.bids.best(), state.asks.best()) if state is not None else (None, None)
            if state is None or bid is None or ask is None:
                continue
            offset = self._index_offset[index_id] + self._index_rng.gauss(0.0, 0.00003)
            offset = max(-0.0008, min(0.0008, offset * 0.98))  # pulled back: within 8 bp of Kraken
            self._index_offset[index_id] = offset
            mid_cents = (bid + ask) * 100 / (2 * 10**state.pair.price_precision)
            value = round(mid_cents * (1.0 + offset))
            values = self._index_values[index_id]
            values.append((ts_ms, value))
            del values[:-INDEX_WINDOW]
            avg = sum(v for _, v in values) * 10**6 // len(values)  # cents -> 1e-8 dollars
            out.append(KalshiIndexValue(index_id, value, avg, len(values), values[0][0], ts_ms))
        return out

    def index_value(self, index_id: str) -> int | None:
        """The last value of an index sent, in cents (None before the first)."""
        values = self._index_values.get(index_id)
        return values[-1][1] if values else None

    # ------------------------------------------------------------------ Kraken flow

    def _kraken_step(self, state: KrakenPairState) -> list[SimEvent]:
        bounds = state.bounds()
        touched: list[tuple[str, int, int]] = []
        old_bbo = (
            state.bids.best(),
            state.asks.best(),
            state.bids.get(state.bids.best() or 0),
            state.asks.get(state.asks.best() or 0),
        )
        roll = self.rng.random()
        events: list[SimEvent] = []
        ts_ns = time.time_ns()
        state.fair = max(self._gap(state.pair), state.fair + self.rng.randint(-1, 1) * self._gap(state.pair))
        if roll < 0.45:
            self._kraken_add(state, touched)
        elif roll < 0.82:
            self._kraken_cancel(state, touched)
        else:
            events.extend(self._kraken_trade(state, touched, ts_ns))
        if not touched:
            return events
        out: list[SimEvent] = [KrakenBook(state.symbol, touched, bounds, rfc3339(ts_ns))]
        out.extend(events)
        new_bbo = (
            state.bids.best(),
            state.asks.best(),
            state.bids.get(state.bids.best() or 0),
            state.asks.get(state.asks.best() or 0),
        )
        if new_bbo != old_bbo:
            out.append(KrakenBbo(state.symbol))
        return out

    def _touch(
        self, state: KrakenPairState, touched: list[tuple[str, int, int]], side: str, price: int, qty: int
    ) -> None:
        ladder = state.side(side)
        touched.append((side, price, ladder.get(price)))
        ladder.set(price, qty)

    def _kraken_add(self, state: KrakenPairState, touched: list[tuple[str, int, int]]) -> None:
        pair = state.pair
        side = "bids" if self.rng.random() < 0.5 else "asks"
        ladder, other = state.side(side), state.side("asks" if side == "bids" else "bids")
        opposite = other.best()
        spread = self._gap(pair)
        # Liquidity arrives around a drifting fair price, mostly near the top of the book.
        offset = (1 + int(self.rng.expovariate(0.12))) * spread
        price = state.fair - offset if side == "bids" else state.fair + offset
        if opposite is not None and (
            (side == "bids" and price >= opposite) or (side == "asks" and price <= opposite)
        ):
            return
        if price <= 0:
            return
        if len(ladder) >= self._levels(state) + 20 and ladder.get(price) == 0:
            return self._kraken_cancel(state, touched)
        self._touch(state, touched, side, price, ladder.get(price) + self._kraken_qty(pair))
        if self.rng.random() < 0.15:  # a second level in the same message, now and then
            second = price - spread if side == "bids" else price + spread
            if second > 0:
                self._touch(state, touched, side, second, ladder.get(second) + self._kraken_qty(pair))

    @staticmethod
    def _gap(pair: KrakenPair) -> int:
        return max(pair.price_increment, pair.mid // 20_000)

    def _levels(self, state: KrakenPairState) -> int:
        return SYNTHETIC_LEVELS if state.symbol.startswith("SIM") else KRAKEN_LEVELS

    def _kraken_cancel(self, state: KrakenPairState, touched: list[tuple[str, int, int]]) -> None:
        side = "bids" if self.rng.random() < 0.5 else "asks"
        ladder = state.side(side)
        if len(ladder) <= self._levels(state) - 20:
            # Keep the book deep: replenish just beyond its worst level instead.
            worst = ladder.price_at(len(ladder) - 1)
            gap = self._gap(state.pair)
            self._touch(
                state,
                touched,
                side,
                worst - gap if side == "bids" else worst + gap,
                self._kraken_qty(state.pair),
            )
            return
        price = ladder.price_at(min(len(ladder) - 1, int(self.rng.expovariate(0.1))))
        held = ladder.get(price)
        new = 0 if self.rng.random() < 0.55 else max(state.pair.qty_min, held // 2)
        self._touch(state, touched, side, price, new if new < held else 0)

    def _kraken_trade(
        self, state: KrakenPairState, touched: list[tuple[str, int, int]], ts_ns: int
    ) -> list[SimEvent]:
        taker = "buy" if self.rng.random() < 0.5 else "sell"
        ladder = state.asks if taker == "buy" else state.bids
        side = "asks" if taker == "buy" else "bids"
        remaining = self._kraken_qty(state.pair) * (1 + int(self.rng.expovariate(1.0)))
        trades: list[dict[str, Any]] = []
        stamp = rfc3339(ts_ns)
        ord_type = "market" if self.rng.random() < 0.6 else "limit"
        while remaining > 0 and len(ladder) > 1 and len(trades) < 4:
            price = ladder.best()
            assert price is not None
            held = ladder.get(price)
            qty = min(held, remaining)
            remaining -= qty
            self._touch(state, touched, side, price, held - qty)
            trade_id = state.next_trade_id
            state.next_trade_id += 1
            state.record_trade(price, qty, ts_ns // 1_000_000_000)
            trade = {
                "side": taker,
                "price": price,
                "qty": qty,
                "ord_type": ord_type,
                "trade_id": trade_id,
                "timestamp": stamp,
            }
            trades.append(trade)
            state.recent.append(trade)
        if not trades:
            return []
        events: list[SimEvent] = [KrakenTrade(state.symbol, trades)]
        if self.rng.random() < USER_FILL_SHARE * 2:
            events.extend(self._kraken_user_fill(state, trades[0], stamp))
        return events

    def _kraken_user_fill(self, state: KrakenPairState, trade: dict[str, Any], stamp: str) -> list[SimEvent]:
        qty, price = trade["qty"], trade["price"]
        # A spot account sells only what it holds and buys only what it can pay for: the role that
        # cannot be afforded gives way to the other one (the other side of the trade), else no fill.
        first = self.rng.random() < 0.5
        for is_taker in (first, not first):
            side = trade["side"] if is_taker else ("sell" if trade["side"] == "buy" else "buy")
            if self.kraken_affordable(state, side, qty, price, is_taker=is_taker):
                break
        else:
            return []
        order_id = self._kraken_id("O")
        return self.kraken_execution(
            state,
            order_id,
            side=side,
            qty=qty,
            price=price,
            stamp=stamp,
            trade_id=trade["trade_id"],
            is_taker=is_taker,
        )

    def kraken_affordable(
        self, state: KrakenPairState, side: str, qty: int, price: int, *, is_taker: bool
    ) -> bool:
        """Whether the account holds what a fill needs: the base it sells, or the quote it pays (fee in)."""
        pair = state.pair
        balances = self.kraken_account.balances
        quote_dec, base_dec = ledger_decimals(pair.quote), ledger_decimals(pair.base)
        if side == "sell":
            return bool(balances.get(pair.base, 0) >= qty * 10**base_dec // 10**pair.qty_precision)
        cost_q = price * qty // 10 ** (pair.price_precision + pair.qty_precision - quote_dec)
        return bool(balances.get(pair.quote, 0) >= cost_q + cost_q * _fee_rate(is_taker) // 10_000)

    def kraken_execution(
        self,
        state: KrakenPairState,
        order_id: str,
        *,
        side: str,
        qty: int,
        price: int,
        stamp: str,
        trade_id: int,
        is_taker: bool,
        order_qty: int | None = None,
        cum_qty: int | None = None,
        new_id: Callable[[str], str] | None = None,
    ) -> list[SimEvent]:
        """One fill of the user's order: its ``executions`` trade report and the two ledger entries.
        ``order_qty``/``cum_qty`` for a resting order filled in parts (the level3 endpoint's)."""
        pair = state.pair
        account = self.kraken_account
        cost = price * qty  # units: 10^-(pd+qd) of quote
        quote_dec, base_dec = ledger_decimals(pair.quote), ledger_decimals(pair.base)
        to_ledger = 10 ** (pair.price_precision + pair.qty_precision - quote_dec)
        cost_q = cost // to_ledger  # quote ledger units
        base_amount = qty * 10**base_dec // 10**pair.qty_precision
        fee_q = cost_q * _fee_rate(is_taker) // 10_000
        order_qty = qty if order_qty is None else order_qty
        cum_qty = qty if cum_qty is None else cum_qty
        # The level3 endpoint names its fills with its own ids, leaving this market's random flow as it was.
        new_id = new_id or self._kraken_id
        exec_id = new_id("T")
        report: dict[str, Any] = {
            "order_id": order_id,
            "exec_id": exec_id,
            "exec_type": "trade",
            "trade_id": trade_id,
            "symbol": pair.symbol,
            "side": side,
            "order_type": "limit" if not is_taker else "market",
            "order_qty": (order_qty, pair.qty_precision),
            "last_qty": (qty, pair.qty_precision),
            "last_price": (price, pair.price_precision),
            "liquidity_ind": "t" if is_taker else "m",
            "cost": (cost_q, quote_dec),
            "order_status": "filled" if cum_qty >= order_qty else "partially_filled",
            "cum_qty": (cum_qty, pair.qty_precision),
            # a resting limit order fills at its own price: every part at the same price
            "cum_cost": (price * cum_qty // to_ledger, quote_dec),
            "avg_price": (price, pair.price_precision),
            "fees": [{"asset": pair.quote, "qty": (fee_q, quote_dec)}],
            "timestamp": stamp,
            "order_userref": 0,
        }
        account.executions.append(report)
        entries = []
        for asset, amount, fee, dec in (
            (pair.base, base_amount if side == "buy" else -base_amount, 0, base_dec),
            (pair.quote, -cost_q if side == "buy" else cost_q, fee_q, quote_dec),
        ):
            balance = account.balances.get(asset, 0) + amount - fee
            account.balances[asset] = balance
            entries.append(
                {
                    "ledger_id": new_id("L"),
                    "ref_id": exec_id,
                    "timestamp": stamp,
                    "type": "trade",
                    "subtype": "",
                    "category": "trade",
                    "asset": asset,
                    "asset_class": "currency",
                    "wallet_type": "spot",
                    "wallet_id": "main",
                    "amount": (amount, dec),
                    "fee": (fee, dec),
                    "balance": (balance, dec),
                }
            )
        return [KrakenExecution(report), KrakenLedger(entries)]

    def _kraken_id(self, prefix: str) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        chars = "".join(self.rng.choice(alphabet) for _ in range(16))
        return f"{prefix}{chars[:5]}-{chars[5:10]}-{chars[10:16]}"

    # ------------------------------------------------------------------ blast mode

    def blast_kalshi(self, tickers: list[str], count: int) -> list[KalshiDelta]:
        """``count`` book changes on ``tickers`` (adds and cancels), applied to the books now."""
        markets = [self.kalshi[t] for t in tickers if t in self.kalshi] or self._kalshi_list[:1]
        out: list[KalshiDelta] = []
        while len(out) < count:
            market = markets[len(out) % len(markets)]
            events = self._kalshi_add(market) if self.rng.random() < 0.55 else self._kalshi_cancel(market)
            out.extend(e for e in events if isinstance(e, KalshiDelta))
        return out[:count]

    def blast_kraken(self, symbol: str, count: int, depth: int) -> Iterator[KrakenBook]:
        """``count`` changes near the top of one pair's book (inside a depth-``depth`` window), shaped
        like a busy real book: about 1.7 levels an update, the top of book changing on about half.

        A generator: each change is applied as it is yielded, so render it before asking for the next.
        """
        state = self.kraken[symbol]
        stamp = rfc3339()
        gap = self._gap(state.pair)
        rng = self.rng
        for _ in range(count):
            bounds = {depth: (self._bound(state, "bids", depth), self._bound(state, "asks", depth))}
            touched: list[tuple[str, int, int]] = []
            side = "bids" if rng.random() < 0.5 else "asks"
            self._blast_touch(state, touched, side, gap, depth)
            if rng.random() < BLAST_BOTH_SIDES:
                self._blast_touch(state, touched, "asks" if side == "bids" else "bids", gap, depth)
            yield KrakenBook(state.symbol, touched, bounds, stamp)

    @staticmethod
    def _bound(state: KrakenPairState, side: str, depth: int) -> int | None:
        ladder = state.side(side)
        return ladder.price_at(depth - 1) if len(ladder) >= depth else None

    def _blast_touch(
        self, state: KrakenPairState, touched: list[tuple[str, int, int]], side: str, gap: int, depth: int
    ) -> None:
        rng = self.rng
        ladder = state.side(side)
        rank = 0 if rng.random() < BLAST_AT_TOP else rng.randrange(1, max(2, min(10, len(ladder) - 1)))
        price = ladder.price_at(min(rank, len(ladder) - 1))
        roll = rng.random()
        if roll < 0.5:  # resize a level
            self._touch(state, touched, side, price, self._kraken_qty(state.pair))
        elif roll < 0.75 and len(ladder) > depth + 1:  # delete one (the next level refills the window)
            self._touch(state, touched, side, price, 0)
        else:  # a new level next to an existing one, if that price is free and doesn't cross
            new = price - gap if side == "bids" else price + gap
            if rank == 0:  # a better price: the new level becomes the top
                new = price + gap if side == "bids" else price - gap
            other = state.side("asks" if side == "bids" else "bids").best()
            crosses = other is not None and (new >= other if side == "bids" else new <= other)
            if new <= 0 or ladder.get(new) or crosses:
                self._touch(state, touched, side, price, self._kraken_qty(state.pair))
            else:
                self._touch(state, touched, side, new, self._kraken_qty(state.pair))
