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
