"""``bench --chaos`` and ``bench --fuzz`` as a user runs them. Chaos: every fault kind at once, then off; it
must converge and lose nothing, and say so in its exit status and JSON (CI also runs a longer one with a
seed that changes over time: scripts/test.sh). Fuzz: no exception may escape a session or the store."""

from __future__ import annotations

import json
import subprocess

from tests.command import COMMAND


def test_chaos_converges_loses_nothing_and_reports_every_figure() -> None:
    result = subprocess.run(
        [COMMAND, "bench", "--chaos", "--seconds", "8", "--seed", "5", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["faults_total"] >= 300  # ~130 a second of the whole mix
    for kind in (
        "drop",
        "skip-seq",
        "bad-checksum",
        "malformed",
        "non-json",
        "unknown-type",
        "stall",
        "burst",
    ):
        assert report["faults"].get(kind, 0) >= 1, kind
    assert report["converge_s"] is not None and report["converge_s"] <= 10
    assert report["books_watched"] == 17 and report["books_wrong"] == {}
    for venue in ("kalshi", "kraken"):
        fills = report["fills"][venue]
        assert fills["expected"] > 0 and fills["missing"] == 0 and fills["unexpected"] == 0
        assert fills["held"] == fills["expected"]
    assert report["reconnects"]["kalshi"] >= 1


def test_a_bad_fault_is_a_usage_error() -> None:
    result = subprocess.run(
        [COMMAND, "bench", "--chaos", "--fault", "flood:every=1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown fault 'flood'" in result.stderr


def test_fuzz_lets_no_exception_escape() -> None:
    """A small run of ``bench --fuzz`` (the full one feeds 1,000,000 frames; see the README)."""
    result = subprocess.run(
        [COMMAND, "bench", "--fuzz", "--messages", "30000", "--seed", "11", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    found = json.loads(result.stdout)
    assert found["frames"] == 30_000 and found["unhandled"] == 0 and found["by_type"] == {}
    assert found["corpus"] > 500 and found["per_s"] > 0
