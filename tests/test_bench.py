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
