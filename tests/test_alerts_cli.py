"""``market-monitor stream --alert RULE`` as a user runs it: firings as JSON lines (or one line each)
alongside --record, checked against the recorded frames themselves; a bad rule is one line and exit 2."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path

from app.sim.market import SimConfig, SimMarket
from app.venues import wire
from tests.command import COMMAND

SIM = SimMarket(SimConfig(seed=1))
CENT_MARKET = next(t for t, m in SIM.kalshi.items() if [r.step for r in m.listing.ranges] == [100])
BTC_MID = Decimal(SIM.kraken["BTC/USD"].pair.mid).scaleb(-SIM.kraken["BTC/USD"].pair.price_precision)


def _run(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, "stream", *args], capture_output=True, text=True, check=False, timeout=timeout
    )


def _recorded(path: Path) -> list[dict]:
    out = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if "frame" not in row:  # the header line and the commands sent (app/core/recording.py)
            continue
        frame = wire.parse(row["frame"])
        if isinstance(frame, dict):
            out.append({"venue": row["venue"], **frame})
    return out


def test_firings_as_json_lines_match_the_recording(tmp_path: Path) -> None:
    record = tmp_path / "frames.jsonl"
    above = f"kraken:BTC/USD last above {BTC_MID}"
    below = f"kraken:BTC/USD last below {BTC_MID} once"
    fills = "kalshi fill"
    result = _run(
        "--sim", "--duration", "5", "--rate", "1500", "--json", "--record", str(record),
        "--markets", "BTC/USD", CENT_MARKET,
        "--alert", above, "--alert", below, "--alert", fills,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    alerts = [x for x in lines if x.get("type") == "alert"]
    rest = lines[len(alerts) :]
    assert all(x.get("type") != "alert" for x in rest) and "health" in rest[-1]  # firings, then the report
    for a in alerts:
        assert set(a) == {"type", "rule", "market", "value", "ts_ms", "received_ms", "trade_id"}
        assert isinstance(a["received_ms"], int) and isinstance(a["ts_ms"], int) and a["trade_id"]
    # The recording's own trades walked by the rule's meaning: the ticker's last is where it starts.
    frames = _recorded(record)
    level = BTC_MID
    last: Decimal | None = None
    armed_above = armed_below = True
    want_above: list[tuple[str, str]] = []
    want_below: list[tuple[str, str]] = []
    tick = Decimal("0.1")  # BTC/USD's price increment: the default re-arm band
    for f in frames:
        if f.get("channel") == "ticker" and last is None:
            text = f["data"][0].get("last")
            if text is not None:
                last = Decimal(text)
                armed_above, armed_below = last < level, last > level
        elif f.get("channel") == "trade":
            for t in f["data"]:
                price = Decimal(t["price"])
                if last is None:
                    last = price
                    armed_above, armed_below = price < level, price > level
                    continue
                if price >= level and armed_above:
                    armed_above = False
                    want_above.append((str(t["trade_id"]), t["price"]))
                elif price <= level - tick:
                    armed_above = True
                if price <= level and armed_below:
                    armed_below = False
                    want_below.append((str(t["trade_id"]), t["price"]))
                elif price >= level + tick:
                    armed_below = True
                last = price
    assert [(a["trade_id"], a["value"]) for a in alerts if a["rule"] == above] == want_above
    assert [(a["trade_id"], a["value"]) for a in alerts if a["rule"] == below] == want_below[:1]
    assert want_above or want_below, "BTC/USD never crossed its starting mid in 5 s"
    assert {a["market"] for a in alerts if a["rule"] != fills} <= {"kraken:BTC/USD"}
    # Every fill the WebSocket brought fired once (one from the connect's REST catch-up may come too).
    recorded = [f["msg"]["trade_id"] for f in frames if f["venue"] == "kalshi" and f.get("type") == "fill"]
    fired = [a["trade_id"] for a in alerts if a["rule"] == fills]
    assert recorded and set(recorded) <= set(fired) and len(fired) == len(set(fired))
    assert len(set(fired) - set(recorded)) <= 2


def test_firings_as_lines_beside_the_live_view() -> None:
    result = _run("--duration", "3", "--rate", "1500", "--markets", CENT_MARKET, "--alert", "kalshi fill")
    assert result.returncode == 0, result.stderr
    fired = [line for line in result.stdout.splitlines() if " ALERT " in line]
    assert fired
    for line in fired:
        assert line.endswith("  [kalshi fill]") and " ALERT kalshi:" in line and " fill: " in line


def test_a_bad_rule_is_one_line_and_exit_2() -> None:
    cases = {
        "kalshi:X bid abve 55c": "expected 'above' or 'below', not 'abve'",
        f"kalshi:{CENT_MARKET} bid above 55.5c": (
            f"55.5c is not a price {CENT_MARKET} can show: its tick there is 1c"
        ),
        "kraken:BTC/USD ask below 97c": "Kraken prices are plain numbers in the quote currency, not '97c'",
        "kalshi:NOPE-1 bid above 55c": None,  # not a simulator market: the stream's own one-line error
    }
    for rule, says in cases.items():
        result = _run("--duration", "1", "--alert", rule, timeout=30)
        assert result.returncode == 2, (rule, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and result.stdout == "", (rule, result.stderr)
        if says is not None:
            assert lines[0] == f"market-monitor stream: error: --alert {rule!r}: {says}"
        else:
            assert lines[0] == "market-monitor stream: error: the simulator lists no market NOPE-1"
    result = _run("--venue", "kraken", "--alert", "kalshi fill", timeout=30)
    assert result.returncode == 2 and "kalshi is not streamed" in result.stderr


def test_help_lists_the_grammar() -> None:
    result = subprocess.run(
        [COMMAND, "stream", "--help"], capture_output=True, text=True, check=True, timeout=30
    )
    for words in (
        "--alert RULE",
        "above|below",
        "spread above",
        "stale SECONDS",
        "imbalance",
        "volume above",
        "move [up|down]",
        "down [SECONDS]",
        "fill | position",
        "status",
        "once | every",
        "cooldown",
    ):
        assert words in result.stdout, words
