"""MarketDemand: what every view needs streamed, as one set per venue."""

from app.core.instruments import Venue
from app.user.demand import WATCHLIST, MarketDemand
from app.user.settings import MarketRef

BTC = MarketRef(Venue.KRAKEN, "BTC/USD")
ETH = MarketRef(Venue.KRAKEN, "ETH/USD")
K1 = MarketRef(Venue.KALSHI, "KXBTCD-T1")


def test_union_keeps_watchlist_order_first_and_each_market_once() -> None:
    d = MarketDemand()
    assert d.hold("pane:1", [ETH, K1])
    assert d.hold(WATCHLIST, [BTC, ETH])
    assert d.markets(Venue.KRAKEN) == ["BTC/USD", "ETH/USD"]
    assert d.markets(Venue.KALSHI) == ["KXBTCD-T1"]
    assert not d.hold("pane:2", [BTC])  # already streamed: nothing to send
    assert d.release("pane:1")  # K1 had no other holder
    assert d.markets(Venue.KALSHI) == []
    assert not d.release("pane:2")  # BTC is still the watchlist's
    assert d.owners() == [WATCHLIST]


def test_deepest_kraken_depth_wins_and_goes_with_its_holder() -> None:
    d = MarketDemand()
    d.hold(WATCHLIST, [BTC, K1])
    assert d.depths() == {}
    assert d.hold("pane:1", [BTC], depth=100)
    d.hold("pane:2", [BTC, K1], depth=25)
    assert d.depths() == {"BTC/USD": 100}  # Kalshi has no depth choice
    assert d.release("pane:1")
    assert d.depths() == {"BTC/USD": 25}
