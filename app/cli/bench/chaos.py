"""``market-monitor bench --chaos``: the engine against the embedded simulator with every fault kind at once,
then every fault off. Prints what fired, how long books were stale, how long the engine took to be right
again, and whether anything was lost; exits non-zero on any loss or on not converging in time.

The engine starts through the same launcher as the window (a simulator profile). The faults run for
``seconds``; then they are switched off (a stall under way ends too) and the market keeps moving, so a gap
in the last frames still shows; the engine must be converged (every link live, every watched book live,
nothing repairing, unverified or unacknowledged) within ``CONVERGE_LIMIT_S``. Then the market freezes and
the books are compared with the simulator's truth and the fills with the simulated account's.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

from app.cli.bench.truth import FillCheck, check_fills, flags, watched, wrong_books
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.launch.launcher import Launch, launch
from app.sim.faults import FaultSpec, FaultSpecError
from app.sim.server import SimOptions
from app.user.secret_store import SecretStore
from app.user.settings import DEFAULT_KRAKEN, SIM_PROFILE, Profile

CONVERGE_LIMIT_S = 10.0
SAMPLE_S = 0.05
DEPTH = 10
PAIRS = (*DEFAULT_KRAKEN, "DOGE/USD")


def fault_mix(seconds: float) -> list[str]:
    """Every fault kind at once. Kalshi is dropped often; Kraken less, so that its connections live long
    enough for a stall longer than its 10 s idle watchdog. Drops are spaced out on long runs to stay inside
    the links' connect budget (a venue dropping a client every few seconds for an hour asks it to stop)."""
    return [
        f"drop:every={max(2.5, seconds / 12):g},venue=kalshi",
        f"drop:every={max(20.0, seconds / 8):g},venue=kraken",
        "skip-seq:every=25,venue=kalshi",
        "bad-checksum:every=20,venue=kraken",
        "malformed:every=15",
        "non-json:every=20",
        "unknown-type:every=12",
        "stall:every=1.5,seconds=0.7",
        "stall:every=5,seconds=11,venue=kraken",  # longer than Kraken's 10 s idle watchdog
        "refuse:status=503,p=0.2",
        "refuse:status=429,p=0.1",
        "burst:size=800,every=3",
    ]


@dataclass(slots=True)
class ChaosReport:
    seed: int
    seconds: float
    kalshi_markets: int
    kraken_pairs: int
    faults: dict[str, int] = field(default_factory=dict)
    faults_total: int = 0
    never_fired: list[str] = field(default_factory=list)
    reconnects: dict[str, int] = field(default_factory=dict)
    repairs_sent: dict[str, int] = field(default_factory=dict)
    longest_stale_s: float = 0.0
    longest_stale_market: str = ""
    stale_share: float = 0.0  # of book-seconds during the chaos
    converge_s: float | None = None
    still_flagged: list[str] = field(default_factory=list)
    books_watched: int = 0
    books_wrong: dict[str, str] = field(default_factory=dict)
    fills: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        converged = self.converge_s is not None and self.converge_s <= CONVERGE_LIMIT_S
        fills_ok = all(f["missing"] == 0 and f["unexpected"] == 0 for f in self.fills.values())
        return converged and not self.books_wrong and fills_ok


class _StaleClock:
    """Per watched market: how long its book has been stale now, and the longest stretch seen."""

    def __init__(self) -> None:
        self.since: dict[tuple[Venue, str], float] = {}
        self.longest = 0.0
        self.longest_market = ""
        self.stale_samples = 0
        self.samples = 0

    def sample(self, running: Launch, now: float, count: bool) -> None:
        books = running.engine.store.books
        for key in watched(running.engine):
            book = books[key[0]].get(key[1])
            if count:
                self.samples += 1
            if book is None or book.stale:
                start = self.since.setdefault(key, now)
                if count:
                    self.stale_samples += 1
                if now - start > self.longest:
                    self.longest, self.longest_market = now - start, f"{key[0].value}:{key[1]}"
            else:
                self.since.pop(key, None)


async def _run(seconds: float, seed: int, rate: float, kalshi_markets: int, mix: list[str]) -> ChaosReport:
    options = SimOptions(seed=seed, rate=rate, markets=max(24, kalshi_markets))
    report = ChaosReport(seed, seconds, kalshi_markets, len(PAIRS))
    from app.sim.market import SimConfig, SimMarket

    listed = list(SimMarket(SimConfig(seed=seed, kalshi_markets=options.markets)).kalshi)
    markets = {Venue.KALSHI: listed[:kalshi_markets], Venue.KRAKEN: list(PAIRS)}
    # Every fill is compared with the simulator's account, so the store keeps them all here: a long run
    # makes more than the window keeps (FILLS_LIMIT), and a dropped one must mean lost, not capped.
    store = MarketStore(fills_limit=10**7)
    running = await launch(
        Profile(SIM_PROFILE), SecretStore(), markets, store=store, sim_options=options, depth=DEPTH
    )
    sim = running.sim
    assert sim is not None
    clock = _StaleClock()
    try:
        await running.engine.wait_live(30)
        specs = [FaultSpec.parse(text) for text in mix]
        sim.set_faults(specs)
        end = time.monotonic() + seconds
        while (now := time.monotonic()) < end:
            clock.sample(running, now, count=True)
            await asyncio.sleep(SAMPLE_S)
        counts: Counter[str] = Counter()
        for (kind, _venue), n in sim.faults.counts.items():
            counts[kind] += n
        report.faults = dict(sorted(counts.items()))
        report.faults_total = sum(counts.values())
        report.never_fired = sorted({s.kind for s in specs} - set(counts))
        sim.set_faults([])
        off = time.monotonic()
        while (now := time.monotonic()) - off < 3 * CONVERGE_LIMIT_S:
            clock.sample(running, now, count=False)
            left = flags(running.engine)
            if not left:
                report.converge_s = round(now - off, 2)
                break
            report.still_flagged = left[:10]
            await asyncio.sleep(SAMPLE_S)
        if report.converge_s is not None:
            report.still_flagged = []
        sim.freeze()
        await _drained(running)
        report.books_watched = len(watched(running.engine))
        report.books_wrong = wrong_books(sim, running.engine, DEPTH)
        for venue in Venue:
            check: FillCheck = check_fills(sim, running.engine.store, venue)
            report.fills[venue.value] = asdict(check)
        report.reconnects = {link.name: link.reconnects for link in running.engine.links}
        report.repairs_sent = {
            link.name: link.book_repairs.sent + link.subscription_repairs.sent
            for link in running.engine.links
        }
    finally:
        await running.stop()
    report.longest_stale_s = round(clock.longest, 2)
    report.longest_stale_market = clock.longest_market
    report.stale_share = round(clock.stale_samples / clock.samples, 3) if clock.samples else 0.0
    return report


async def _drained(running: Launch, timeout: float = 15.0) -> None:
    """The frozen market's last frames and the account's fills have reached the store."""
    sim = running.sim
    assert sim is not None
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    frames = -1
    while time.monotonic() < deadline:
        now_frames = sum(link.frames for link in running.engine.links)
        if sim.pending_frames() or now_frames != frames:
            frames, quiet_since = now_frames, time.monotonic()
        elif time.monotonic() - quiet_since > 0.5 and all(
            check_fills(sim, running.engine.store, v).ok for v in Venue
        ):
            return
        await asyncio.sleep(0.1)


def run(
    seconds: float,
    seed: int,
    *,
    faults: list[str] | None = None,
    rate: float = 800.0,
    kalshi_markets: int = 12,
    echo: bool = True,
) -> int:
    """Exit status: 0 when nothing was lost and the engine converged in time, 1 otherwise, 2 for a bad
    ``--fault``."""
    mix = faults or fault_mix(seconds)
    try:
        for text in mix:
            FaultSpec.parse(text)
    except FaultSpecError as exc:
        print(f"market-monitor bench: error: {exc}", file=sys.stderr)
        return 2
    report = asyncio.run(_run(seconds, seed, rate, kalshi_markets, mix))
    if echo:
        _print(report)
    else:
        print(json.dumps({**asdict(report), "ok": report.ok}))
    return 0 if report.ok else 1


def _print(r: ChaosReport) -> None:
    print(
        f"chaos: seed {r.seed}, {r.seconds:g} s of every fault kind at once over {r.kalshi_markets} Kalshi "
        f"markets and {r.kraken_pairs} Kraken pairs, then every fault off"
    )
    print(f"  faults fired: {r.faults_total:,} ({r.faults_total / r.seconds:,.0f}/s)")
    print("    " + "  ".join(f"{kind} {n:,}" for kind, n in r.faults.items()))
    if r.never_fired:
        print(f"    never fired: {', '.join(r.never_fired)}")
    print("  reconnects: " + ", ".join(f"{name} {n}" for name, n in r.reconnects.items()))
    print("  repairs asked: " + ", ".join(f"{name} {n}" for name, n in r.repairs_sent.items()))
    print(
        f"  stale: the longest stretch {r.longest_stale_s:g} s ({r.longest_stale_market or '-'}); "
        f"{r.stale_share:.0%} of book-time during the faults"
    )
    if r.converge_s is None:
        print(
            f"  faults off: NOT converged in {3 * CONVERGE_LIMIT_S:g} s; still: {'; '.join(r.still_flagged)}"
        )
    else:
        verdict = "" if r.converge_s <= CONVERGE_LIMIT_S else f" (over the {CONVERGE_LIMIT_S:g} s limit)"
        print(f"  faults off: converged in {r.converge_s:g} s{verdict}")
    print(f"  books: {r.books_watched} watched, {len(r.books_wrong)} wrong against the simulator's truth")
    for market, why in list(r.books_wrong.items())[:10]:
        print(f"    {market}: {why}")
    for venue, f in r.fills.items():
        print(
            f"  fills {venue}: {f['expected']:,} expected, {f['held']:,} held, {f['missing']} missing, "
            f"{f['unexpected']} unexpected ({f['duplicates_dropped']:,} repeats dropped by the store)"
        )
    print(f"  result: {'OK' if r.ok else 'FAILED'}")
