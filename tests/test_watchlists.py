"""The watchlist controller (app/user/watchlists.py) without a window: every edit the menus offer, what it
tells the window to redo, the refusals and their words, and the watchlist file formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.instruments import Venue
from app.sim.market import SimConfig, SimMarket
from app.user import settings as settings_mod
from app.user.settings import MarketRef, Settings, Watchlist
from app.user.watchlists import (
    Edit,
    Rejected,
    WatchlistError,
    Watchlists,
    export_watchlist,
    import_watchlist,
    parse_watchlist,
)

BTC, ETH, SOL = (MarketRef(Venue.KRAKEN, p) for p in ("BTC/USD", "ETH/USD", "SOL/USD"))
CPI = MarketRef(Venue.KALSHI, "KXCPI-26NOV21-T0.1")


def controller(*refs: MarketRef) -> Watchlists:
    settings = Settings()
    settings.watchlist().markets.extend(refs)
    return Watchlists(settings)


def test_new_rename_delete_and_their_refusals() -> None:
    wl = controller(BTC)
    assert wl.new("  Crypto ") == Edit()  # resubscribe: the new list has other markets (none)
    assert wl.settings.active_watchlist == "Crypto" and wl.current.markets == []
    with pytest.raises(WatchlistError, match="already exists"):
        wl.new("Default")
    with pytest.raises(WatchlistError, match="needs a name"):
        wl.new("   ")
    assert wl.names() == ["Default", "Crypto"]

    assert wl.rename("Crypto ") is None  # the same name: nothing to do
    assert wl.rename("Coins") == Edit(resubscribe=False)  # same markets: the venues need not hear of it
    assert wl.names() == ["Default", "Coins"] and wl.settings.active_watchlist == "Coins"
    with pytest.raises(WatchlistError, match="'Default' already exists"):
        wl.rename("Default")
    assert wl.settings.active_watchlist == "Coins"  # a refusal changes nothing

    assert wl.delete() == Edit()
    assert wl.names() == ["Default"] and wl.settings.active_watchlist == "Default"
    with pytest.raises(WatchlistError, match="the last watchlist cannot be deleted"):
        wl.delete()
    assert wl.current.markets == [BTC]


def test_switch_and_cycle_select_the_new_lists_first_market() -> None:
    wl = controller(BTC)
    wl.new("Two")
    wl.new("Three")
    assert wl.switch("Three") is None  # already there
    assert wl.switch("Default") == Edit(keep_selection=False)
    assert wl.settings.active_watchlist == "Default"
    with pytest.raises(WatchlistError, match="no watchlist named 'Gone'"):
        wl.switch("Gone")
    seen = []
    for _ in range(3):
        assert wl.cycle() == Edit(keep_selection=False)
        seen.append(wl.settings.active_watchlist)
    assert seen == ["Two", "Three", "Default"]  # round and back to the start
    assert controller().cycle() is None  # one list: nowhere to go


def test_add_remove_and_move_say_what_to_select() -> None:
    wl = controller(BTC, ETH)
    assert wl.add([ETH]) is None  # already there: nothing changes
    assert wl.add([SOL, BTC, CPI]) == Edit(select=CPI)  # the last one added
    assert wl.current.markets == [BTC, ETH, SOL, CPI]

    assert wl.move(SOL, -1) == Edit(resubscribe=False, select=SOL, reordered=True)
    assert wl.current.markets == [BTC, SOL, ETH, CPI]
    assert wl.move(BTC, -1) is None and wl.move(CPI, 1) is None  # at the ends
    assert wl.move(MarketRef(Venue.KRAKEN, "XRP/USD"), 1) is None  # not in the list

    # Removing selects the neighbour below, or the new last market at the bottom.
    assert wl.remove(SOL) == Edit(keep_selection=False, select=ETH)
    assert wl.remove(CPI) == Edit(keep_selection=False, select=ETH)
    assert wl.remove(SOL) is None
    assert wl.remove(BTC) == Edit(keep_selection=False, select=ETH)
    assert wl.remove(ETH) == Edit(keep_selection=False, select=None)
    assert wl.current.markets == []


def test_export_and_import_keep_the_list_and_name_bad_lines(tmp_path: Path) -> None:
    wl = Watchlist("Mine", [MarketRef.parse("BTC/USD"), MarketRef.parse("KXFED-26NOV21-T4.00")])
    path = tmp_path / "mine.txt"
    export_watchlist(wl, path)
    assert path.read_text().splitlines() == ["# Mine", "kraken:BTC/USD", "kalshi:KXFED-26NOV21-T4.00"]
    assert import_watchlist(path) == wl
    (tmp_path / "j.json").write_text(json.dumps({"name": "J", "markets": ["eth/usd"]}))
    assert import_watchlist(tmp_path / "j.json") == Watchlist("J", [MarketRef(Venue.KRAKEN, "ETH/USD")])
    (tmp_path / "bad.txt").write_text("BTC/USD\n\nnot a market\n")
    with pytest.raises(ValueError, match="line 3"):
        import_watchlist(tmp_path / "bad.txt")


def test_import_and_export_through_the_controller(tmp_path: Path) -> None:
    wl = controller(BTC, CPI)
    out = tmp_path / "export.txt"
    assert wl.export_file(out) == f"Exported “Default” to {out}"
    assert out.read_text().startswith("# Default") and "kraken:BTC/USD" in out.read_text()

    # A taken name gets a number; the imported list becomes the active one.
    assert wl.import_file(out) == Edit(message="Imported “Default (2)”: 2 markets")
    assert wl.import_file(out).message == "Imported “Default (3)”: 2 markets"
    assert wl.settings.active_watchlist == "Default (3)"
    assert wl.current.markets == wl.settings.watchlist("Default").markets == [BTC, CPI]

    bad = tmp_path / "bad.txt"
    bad.write_text("BTC/USD\nnot a market\n")
    with pytest.raises(WatchlistError) as refused:
        wl.import_file(bad)
    assert str(refused.value).startswith("Could not import bad.txt:\n") and "line 2" in str(refused.value)
    with pytest.raises(WatchlistError, match=r"Could not import missing\.txt:\nNo such file or directory"):
        wl.import_file(tmp_path / "missing.txt")
    (tmp_path / "nolist.json").write_text('{"name": "X"}')
    with pytest.raises(WatchlistError, match=r'nolist\.json has no "markets" list; a JSON watchlist is'):
        wl.import_file(tmp_path / "nolist.json")
    assert len(wl.settings.watchlists) == 3  # nothing half-imported

    with pytest.raises(WatchlistError, match=r"Could not write .*:\nNo such file or directory"):
        wl.export_file(tmp_path / "no" / "such" / "dir.txt")


def test_edits_are_what_settings_save(tmp_path: Path) -> None:
    wl = controller(BTC)
    wl.new("Coins")
    wl.add([ETH, SOL])
    wl.move(SOL, -1)
    settings_mod.save(wl.settings, tmp_path)
    again = settings_mod.load(tmp_path)
    assert again.active_watchlist == "Coins" and again.watchlist().markets == [SOL, ETH]
    assert again.watchlist("Default").markets == [BTC]


def _sim_listing() -> dict[Venue, set[str]]:
    """What the simulator lists (the catalogue its REST serves; the window reads the same over HTTP)."""
    sim = SimMarket(SimConfig(seed=1))
    return {Venue.KALSHI: set(sim.kalshi), Venue.KRAKEN: set(sim.kraken)}


def test_import_refuses_bad_lines_by_name_and_keeps_the_good_ones(tmp_path: Path) -> None:
    listed = _sim_listing()
    kalshi = sorted(listed[Venue.KALSHI])[0]
    path = tmp_path / "mixed.txt"
    path.write_text(
        f"# Mixed\nkalshi:{kalshi}\nbinance:BTCUSDT\nkalshi:NOT-A-MARKET\nkraken:DOGE/USD\n"
        "kraken:BTCUSD\nkraken:FOO/USD\nnot a market\nkraken:doge/usd\n"
    )
    wl = controller(BTC)
    parsed = wl.read_file(path, listed)
    assert parsed.name == "Mixed"
    assert parsed.markets == [MarketRef(Venue.KALSHI, kalshi), MarketRef(Venue.KRAKEN, "DOGE/USD")]
    assert parsed.rejected == [
        Rejected(
            "line 3", "binance:BTCUSDT", "binance is not a venue this app streams (kalshi and kraken are)"
        ),
        Rejected("line 4", "kalshi:NOT-A-MARKET", "Kalshi lists no open market by that name"),
        Rejected("line 6", "kraken:BTCUSD", "Kraken pairs are written BASE/QUOTE, e.g. kraken:BTC/USD"),
        Rejected("line 7", "kraken:FOO/USD", "Kraken lists no pair by that name"),
        Rejected("line 8", "not a market", "not a market name: 'not a market'"),
    ]
    # Nothing is added until asked; then the good lines only, and the status line counts the rest.
    assert len(wl.settings.watchlists) == 1
    assert wl.add_imported(parsed).message == "Imported “Mixed”: 2 markets, 5 lines left out"
    assert wl.current.markets == parsed.markets
    # All or nothing through import_file: the refusal names every bad line.
    with pytest.raises(WatchlistError) as refused:
        wl.import_file(path, listed)
    assert "binance is not a venue" in str(refused.value) and "NOT-A-MARKET" in str(refused.value)
    # Without a listing (the venue's list not known yet) a well-formed name is kept.
    assert MarketRef(Venue.KALSHI, "NOT-A-MARKET") in wl.read_file(path).markets


def test_files_that_are_not_watchlists_say_so_in_words(tmp_path: Path) -> None:
    wl = controller(BTC)
    cases = {
        "pic.png": (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "pic.png is not a text file (it holds binary data)",
        ),
        "latin.txt": (
            "kraken:BTC/USD\n# caf\u00e9\n".encode("latin-1"),
            "latin.txt is not UTF-8 text (line 2 cannot be read)",
        ),
        "broken.json": (
            b'{"markets": ["kraken:BTC/USD",]}',
            "broken.json is not valid JSON (line 1, column 31)",
        ),
        "list.json": (b'["kraken:BTC/USD"]', 'list.json has no "markets" list'),
        "empty.txt": (b"# Nothing here\n\n", "empty.txt holds no markets"),
        "big.txt": (b"kraken:BTC/USD\n" * 80_000, "big.txt is over 1 MB: too large to be a watchlist"),
    }
    for name, (data, words) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(WatchlistError) as refused:
            wl.read_file(tmp_path / name)
        assert str(refused.value) == f"Could not import {name}:\n" + str(refused.value).split("\n", 1)[1]
        assert words in str(refused.value), (name, str(refused.value))
        assert "codec" not in str(refused.value) and "Errno" not in str(refused.value)
    with pytest.raises(WatchlistError, match="is a folder, not a watchlist file"):
        wl.read_file(tmp_path)
    # A BOM (Windows Notepad) and JSON entries that are not text.
    parsed = parse_watchlist(b"\xef\xbb\xbf# Win\r\nkraken:ETH/USD\r\n", "x")
    assert (parsed.name, parsed.markets) == ("Win", [ETH])
    parsed = parse_watchlist(json.dumps({"name": "J" * 61, "markets": ["eth/usd", 7]}).encode(), "jfile")
    assert parsed.name == "jfile" and parsed.markets == [ETH]
    assert [r.where for r in parsed.rejected] == ["name", "entry 2"]
    assert parsed.rejected[1].reason == "not a venue:market text"
    with pytest.raises(WatchlistError, match="holds no market that can be imported"):
        wl.add_imported(parse_watchlist(b"binance:X\n", "b"))
