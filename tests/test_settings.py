"""Saved watchlists and profiles: round trips, bad input refused with a reason, damaged files set aside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.instruments import Venue
from app.user import settings as s
from app.user.settings import MarketRef, Profile, Settings, Watchlist


def test_market_names_parse_with_and_without_a_venue_prefix() -> None:
    assert MarketRef.parse("kalshi:KXCPI-26NOV21-T0.1") == MarketRef(Venue.KALSHI, "KXCPI-26NOV21-T0.1")
    assert MarketRef.parse("btc/usd") == MarketRef(Venue.KRAKEN, "BTC/USD")
    assert MarketRef.parse("KXFED-26NOV21-T4.00") == MarketRef(Venue.KALSHI, "KXFED-26NOV21-T4.00")
    assert MarketRef.parse(" kraken:eth/usd ").text() == "kraken:ETH/USD"
    for bad in ("", "  ", "kalshi:", "two words"):
        with pytest.raises(ValueError, match="not a market name"):
            MarketRef.parse(bad)
    assert MarketRef.parse("Kraken:btc/usd") == MarketRef(Venue.KRAKEN, "BTC/USD")
    # Another venue's prefix is refused by name, never saved as a Kalshi market called "binance:BTCUSDT".
    with pytest.raises(
        ValueError, match=r"unknown venue 'binance' in 'binance:BTCUSDT' \(known: kalshi, kraken\)"
    ):
        MarketRef.parse("binance:BTCUSDT")


def test_watchlist_edits_keep_order_and_refuse_duplicates() -> None:
    a, b, c = (MarketRef.parse(t) for t in ("BTC/USD", "ETH/USD", "KXCPI-26NOV21-T0.1"))
    wl = Watchlist("x")
    assert wl.add(a) and wl.add(b) and wl.add(c) and not wl.add(a)
    assert wl.move(c, -1) and wl.markets == [a, c, b]
    assert not wl.move(a, -1) and not wl.move(b, 1)
    assert wl.remove(c) and not wl.remove(c)
    assert wl.of(Venue.KRAKEN) == ["BTC/USD", "ETH/USD"] and wl.of(Venue.KALSHI) == []


def test_settings_round_trip_through_the_file(tmp_path: Path) -> None:
    st = Settings()
    assert st.first_run
    st.watchlist().add(MarketRef.parse("BTC/USD"))
    crypto = st.add_watchlist("Crypto")
    crypto.add(MarketRef.parse("kraken:SOL/USD"))
    st.rename_watchlist("Crypto", "Coins")
    st.active_watchlist = "Coins"
    st.put_profile(Profile("Live", "production", "live"))
    st.active_profile = "Live"
    st.theme = "light"
    s.save(st, tmp_path)
    back = s.load(tmp_path)
    assert not back.first_run and back.problem is None
    assert [w.name for w in back.watchlists] == ["Default", "Coins"]
    assert back.watchlist().markets == [MarketRef(Venue.KRAKEN, "SOL/USD")]
    assert back.profile() == Profile("Live", "production", "live") and back.theme == "light"
    assert "secret" not in (tmp_path / "settings.json").read_text().lower()


def test_names_and_environments_are_checked() -> None:
    st = Settings()
    with pytest.raises(ValueError, match="already exists"):
        st.add_watchlist(" Default ")
    with pytest.raises(ValueError, match="needs a name"):
        st.add_watchlist("   ")
    with pytest.raises(ValueError, match="last watchlist"):
        st.delete_watchlist("Default")
    with pytest.raises(ValueError, match="Kalshi environment"):
        Profile("x", kalshi="prod")
    with pytest.raises(ValueError, match="built in"):
        st.delete_profile(s.SIM_PROFILE)
    st.add_watchlist("Two")
    st.active_watchlist = "Two"
    st.delete_watchlist("Two")
    assert st.active_watchlist == "Default"


def test_a_damaged_file_is_set_aside_with_a_reason_and_defaults_are_used(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"watchlists": [{"name": "A", "markets": ["two words"]}], "profiles": []}')
    st = s.load(tmp_path)
    assert st.problem is not None and "settings.json.bad" in st.problem and "not a market name" in st.problem
    assert (tmp_path / "settings.json.bad").exists() and not path.exists()
    assert [w.name for w in st.watchlists] == ["Default"]
    path.write_text("not json")
    assert "damaged" in (s.load(tmp_path).problem or "")


def test_a_file_from_another_machine_without_the_sim_profile_gets_it_back(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text(
        json.dumps(
            {"profiles": [{"name": "Live", "kalshi": "demo", "kraken": "live"}], "active_profile": "Gone"}
        )
    )
    st = s.load(tmp_path)
    assert [p.name for p in st.profiles] == [s.SIM_PROFILE, "Live"] and st.active_profile == s.SIM_PROFILE
