"""The alert rule grammar: what each form means, and one sentence naming what is wrong with a bad rule
(``stream --alert`` prints it and exits 2). Grid checks use the simulator's real listings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.alerts.grammar import GRAMMAR, RuleError, parse
from app.alerts.rules import ALL, Kind, Mode, Op, PriceField, Target
from app.core.instruments import Venue
from app.launch.grids import sim_ticks
from app.sim.market import SimConfig, SimMarket

SIM = SimMarket(SimConfig(seed=1))
TICKS = sim_ticks(SIM)


def _market(structure_step: int) -> str:
    """A simulator market whose grid is one range of this step (units of $0.0001)."""
    return next(t for t, m in SIM.kalshi.items() if [r.step for r in m.listing.ranges] == [structure_step])


CENT_MARKET = _market(100)
DECI_MARKET = _market(10)


def test_price_rules_in_each_venues_units() -> None:
    r = parse(f"kalshi:{CENT_MARKET} bid above 97c once", now=100.0)
    assert (r.kind, r.field, r.op, r.value, r.mode) == (
        Kind.PRICE,
        PriceField.BID,
        Op.ABOVE,
        Decimal("0.97"),
        Mode.ONCE,
    )
    assert r.target == Target(Venue.KALSHI, CENT_MARKET) and r.created_at == 100.0
    assert parse("kalshi:X ask below 97.5c").value == Decimal("0.975")
    assert parse("kalshi:X last above 97").value == Decimal("0.97")  # plain Kalshi numbers are cents
    assert parse("kalshi:X mid below $0.42").value == Decimal("0.42")
    assert parse("kalshi:X prob above 40%").value == Decimal("0.4")
    k = parse("kraken:btc/usd last below 95000.5 band 50 cooldown 2m expires 1h", now=1000.0)
    assert k.target == Target(Venue.KRAKEN, "BTC/USD") and k.value == Decimal("95000.5")
    assert (k.band, k.cooldown_s, k.expires_at, k.mode) == (Decimal(50), 120.0, 4600.0, Mode.EVERY)
    assert parse("kalshi:X bid above 50c initial").initial


def test_the_other_kinds() -> None:
    s = parse("kalshi:* spread above 3 ticks")
    assert (s.kind, s.ticks, s.value, s.target) == (Kind.SPREAD, True, Decimal(3), Target(Venue.KALSHI, ALL))
    assert parse("kalshi:X spread above 2c").value == Decimal("0.02")
    assert parse("* spread above 2ticks").ticks
    i = parse("kraken:ETH/USD imbalance top 3 beyond 2.5")
    assert (i.kind, i.levels, i.op, i.value) == (Kind.IMBALANCE, 3, Op.BEYOND, Decimal("2.5"))
    assert parse("kalshi:X imbalance below 0.5").levels == 5
    v = parse("kalshi:X volume above 1000 in 5m")
    assert (v.kind, v.value, v.window_s) == (Kind.VOLUME, Decimal(1000), 300.0)
    mv = parse("kraken:* move down 1.5% in 30s")
    assert (mv.kind, mv.direction, mv.value, mv.window_s) == (Kind.MOVE, "down", Decimal("1.5"), 30.0)
    assert parse("kraken:BTC/USD stale 10").window_s == 10.0 and parse("kraken stale 5").target.market is None
    assert parse("kraken down").window_s == 0.0 and parse("* down 30").window_s == 30.0
    assert parse("kalshi fill").kind is Kind.FILL and parse("kraken:BTC/USD position").kind is Kind.POSITION
    st = parse("kalshi:* status closed,settled")
    assert st.kind is Kind.STATUS and st.statuses == {"closed", "settled"}
    assert parse("kalshi status once").statuses == frozenset()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "an empty rule"),
        ("BTC bid above 5", "'BTC' is not a market"),
        ("nyse:IBM bid above 5", "'nyse:IBM' is not a market"),
        ("kalshi: bid above 5c", "no market after kalshi"),
        ("kalshi:X", "expected a condition at the end"),
        ("kalshi:X bid", "expected 'above' or 'below' at the end"),
        ("kalshi:X bid over 5c", "expected 'above' or 'below', not 'over'"),
        ("kalshi:X bid above", "expected a price after 'above' at the end"),
        ("kalshi:X bid above cheap", "expected a price in cents, not 'cheap'"),
        ("kalshi:X bid above 0.97", "'0.97' is ambiguous: Kalshi prices are in cents; write 0.97c"),
        ("kalshi:X bid above 100c", "'100c' is not below 100c"),
        ("kalshi:X bid above 0c", "a price must be more than 0"),
        ("kalshi:X bid above 97.555c", "finer than Kalshi's smallest tick"),
        ("kraken:BTC/USD bid above 97c", "Kraken prices are plain numbers"),
        ("kalshi:* bid above 50c", "a bid level is one market's"),
        ("kraken:BTC/USD prob above 40%", "prob is a Kalshi market's YES probability"),
        ("* spread above 2c", "a price needs one venue's units"),
        ("kalshi spread above 2 ticks", "a spread rule is on markets"),
        ("kalshi:X spread above 0 ticks", "a number of ticks must be more than 0"),
        ("kalshi:X imbalance beyond 0.5", "'beyond' takes a ratio over 1"),
        ("kalshi:X imbalance top 0 above 2", "top takes a number of levels from 1 to 100"),
        ("kalshi:X volume above 10", "expected 'in' or 'within' at the end"),
        ("kalshi:X volume above 10 in soon", "volume takes a time like 30, 30s, 5m or 2h, not 'soon'"),
        ("kalshi:X move 2 in 0s", "move takes a time over 0"),
        ("kalshi:X stale", "expected seconds after 'stale' at the end"),
        ("kalshi:X down", "'down' is about a venue's connection"),
        ("kraken status", "status is a Kalshi market's lifecycle"),
        ("kalshi:X status broken", "unknown status broken"),
        ("kalshi:X frob", "unknown condition 'frob'"),
        ("kalshi:X bid above 5c twice", "unexpected 'twice'; options are"),
        ("kalshi:X bid above 5c once every", "'every' given twice"),
        ("kalshi:X bid above 5c expires never", "expires takes a time like 2h"),
        ("kalshi fill band 2", "a fill rule has no band"),
        ("kalshi fill initial", "'initial' is for price, spread and imbalance rules"),
        ("kalshi:X bid above 5c " + "x" * 600, "a rule is at most 500 characters"),
    ],
)
def test_a_bad_rule_says_what_is_wrong_in_one_line(text: str, says: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse(text)
    message = str(caught.value)
    assert says in message and "\n" not in message


def test_levels_are_checked_against_the_markets_grid() -> None:
    assert TICKS.problem(parse(f"kalshi:{CENT_MARKET} bid above 97c"), Venue.KALSHI, CENT_MARKET) is None
    off = TICKS.problem(parse(f"kalshi:{CENT_MARKET} bid above 97.5c"), Venue.KALSHI, CENT_MARKET)
    assert off == f"97.5c is not a price {CENT_MARKET} can show: its tick there is 1c"
    # A mid may sit half a tick between two prices; a spread must be whole ticks where the grid is even.
    assert TICKS.problem(parse(f"kalshi:{CENT_MARKET} mid above 97.5c"), Venue.KALSHI, CENT_MARKET) is None
    assert TICKS.problem(parse(f"kalshi:{DECI_MARKET} bid above 97.5c"), Venue.KALSHI, DECI_MARKET) is None
    assert "not a whole number" in str(
        TICKS.problem(parse(f"kalshi:{CENT_MARKET} spread above 1.5c"), Venue.KALSHI, CENT_MARKET)
    )
    increment = SIM.kraken["BTC/USD"].pair.price_increment  # units of the pair's price precision
    assert increment == 1
    assert TICKS.problem(parse("kraken:BTC/USD bid above 95000.1"), Venue.KRAKEN, "BTC/USD") is None
    assert "is not a price BTC/USD can show: its tick there is 0.1" in str(
        TICKS.problem(parse("kraken:BTC/USD bid above 95000.15"), Venue.KRAKEN, "BTC/USD")
    )
    # An unknown grid is no reason to refuse: the stream teaches it (and a rule off it is set aside then).
    assert TICKS.problem(parse("kalshi:UNLISTED bid above 97.5c"), Venue.KALSHI, "UNLISTED") is None


def test_the_help_summary_names_every_condition() -> None:
    for word in (
        "last",
        "bid",
        "ask",
        "mid",
        "prob",
        "spread",
        "imbalance",
        "volume",
        "move",
        "stale",
        "down",
    ):
        assert word in GRAMMAR
    for word in ("fill", "position", "status", "once", "every", "band", "cooldown", "expires", "initial"):
        assert word in GRAMMAR
    assert all(len(line) <= 110 for line in GRAMMAR.splitlines())
