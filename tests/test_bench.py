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


def test_replay_bench_opens_and_plays_a_recording_it_makes_and_prints_figures() -> None:
    """``bench --replay``, short: a recording made from the simulator opens in the window (checkpoints built,
    then loaded) and plays to its end at max; every figure issue 16 names is there (not asserted on)."""
    import json
    import os
    import subprocess

    from tests.command import COMMAND

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [COMMAND, "bench", "--replay", "--seconds", "3", "--target", "800", "--json"],
        capture_output=True, text=True, check=False, timeout=240, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert figures["frames"] > 500
    for key in ("first_open_s", "open_again_s", "max_frames_per_s", "loop_lag_p99_ms", "hour_first_open_s"):
        assert figures[key] is not None and figures[key] >= 0, key
