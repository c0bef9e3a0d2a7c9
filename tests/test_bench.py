"""The codec benchmark runs and its own correctness checks pass (figures are printed, not asserted)."""

from __future__ import annotations

from app.cli.bench.codecs import run


def test_bench_runs_and_checks_itself() -> None:
    figures = run(3000, 20, echo=False)
    assert set(figures) == {
        "kalshi_decode_only",
        "kalshi_deltas_1_market",
        "kalshi_deltas_spread",
        "kraken_book_1_symbol",
        "kraken_book_spread",
    }
    assert all(rate > 0 for rate in figures.values())


def test_stream_bench_runs_every_case_with_every_check_passing() -> None:
    """bench --stream, short: each case streams the simulator's blast to a live, checksummed book,
    and the bare loop on the same Kraken blast reports its figure beside the engine's."""
    from app.cli.bench.stream import run as run_stream

    figures = run_stream(messages=3000, spread_markets=5, echo=False)
    cases = {c["case"]: c for c in figures["cases"]}
    assert list(cases) == ["kalshi, 1 market", "kraken, 1 market", "kraken, bare loop", "kalshi, 5 markets"]
    for name, case in cases.items():
        assert case["per_s"] and case["per_s"] > 0, name
        if name != "kraken, bare loop":
            assert case["books_live"] and case["gaps"] == 0 and case["checksum_failures"] == 0, case


def test_stream_bench_with_armed_alert_rules_runs_each_case_twice() -> None:
    """``bench --stream --alerts 100``: every case without rules, then with 100 armed over its markets (all
    on their grids), the books still live; the rates are printed for a quiet machine, not asserted."""
    from app.cli.bench.stream import run as run_stream

    figures = run_stream(2000, 5, echo=False, alerts=100)
    cases = [c for c in figures["cases"] if "alert_rules" in c]  # not the bare loop
    assert [c["alert_rules"] for c in cases] == [0, 100] * 3
    assert all(c["books_live"] and c["gaps"] == 0 and c["checksum_failures"] == 0 for c in cases)
    assert all(c["vs_no_rules"] is not None for c in cases[1::2])
    assert sum(c["alerts_fired"] for c in cases) > 0
