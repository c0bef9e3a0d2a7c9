"""Alert rules in the settings file and in export files: round trips, a damaged rule set aside with its
reason while the rest load (and kept in the file), imports that never replace a rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.alerts.grammar import parse
from app.alerts.saved import export_text, import_text
from app.user import settings as s
from app.user.alert_files import AlertFileError, export_alerts, import_alerts, read_alerts
from app.user.settings import Settings

RULES = (
    "kalshi:KXCPI-26NOV21-T0.1 bid above 55c once",
    "kraken:BTC/USD last below 95000 band 50 cooldown 30s expires 2h",
    "kalshi:* spread above 3 ticks",
    "kraken down",
)


def _rules() -> list:
    out = [parse(text, now=1_000.0) for text in RULES]
    out[0].fired, out[0].last_fired_at, out[0].done = 1, 1_500.5, True
    out[2].enabled, out[3].sound = False, False
    return out


def test_rules_round_trip_through_the_settings_file(tmp_path: Path) -> None:
    st = Settings()
    st.alerts = _rules()
    s.save(st, tmp_path)
    back = s.load(tmp_path)
    assert [r.text for r in back.alerts] == list(RULES)
    assert [r.state_json() for r in back.alerts] == [r.state_json() for r in st.alerts]
    # A relative expiry counts from when the rule was made, not from when the file was read.
    assert back.alerts[1].expires_at == 1_000.0 + 7_200
    assert back.alerts_aside == [] and back.problem is None


def test_a_damaged_rule_is_set_aside_with_its_reason_and_the_rest_load(tmp_path: Path) -> None:
    st = Settings()
    st.alerts = _rules()
    path = s.save(st, tmp_path)
    obj = json.loads(path.read_text())
    obj["alerts"][1]["rule"] = "kraken:BTC/USD last below 95000c"
    obj["alerts"][2]["fired"] = "many"
    obj["alerts"].append(42)
    path.write_text(json.dumps(obj))
    back = s.load(tmp_path)
    assert back.problem is None  # the file itself is fine: nothing else is lost
    assert [r.text for r in back.alerts] == [RULES[0], RULES[3]]
    assert [a["reason"] for a in back.alerts_aside] == [
        "Kraken prices are plain numbers in the quote currency, not '95000c'",
        "fired must be a whole number",
        "a rule must be an object or its text, not int",
    ]
    # Saved again, the set-aside rules stay in the file as they were, so a hand fix can bring them back.
    s.save(back, tmp_path)
    again = s.load(tmp_path)
    assert [r.text for r in again.alerts] == [RULES[0], RULES[3]]
    assert [a.get("rule", a.get("raw")) for a in again.alerts_aside] == [
        "kraken:BTC/USD last below 95000c",
        RULES[2],
        42,
    ]


def test_alerts_that_are_not_a_list_are_set_aside(tmp_path: Path) -> None:
    path = s.save(Settings(), tmp_path)
    obj = json.loads(path.read_text())
    obj["alerts"] = {"oops": True}
    path.write_text(json.dumps(obj))
    back = s.load(tmp_path)
    assert back.alerts == [] and back.alerts_aside == [
        {"raw": {"oops": True}, "reason": "the alerts must be a list"}
    ]
    assert back.problem is None and back.watchlists  # the rest of the settings load


def test_export_and_import_files(tmp_path: Path) -> None:
    rules = _rules()
    path = tmp_path / "mine.json"
    assert export_alerts(rules, path) == 4
    st = Settings()
    st.alerts = [parse(RULES[0])]
    st.alerts[0].id = rules[0].id  # the same id already in use: the import gets a new one
    added, aside = import_alerts(st, path)
    assert [r.text for r in added] == list(RULES) and aside == []
    assert len(st.alerts) == 5 and len({r.id for r in st.alerts}) == 5
    assert added[0].fired == 1 and added[2].enabled is False
    # One rule per line (hand-written), a bad one reported and the rest imported.
    lines = tmp_path / "lines.txt"
    lines.write_text("# my alerts\nkalshi fill\nkalshi:X bid above 0.97\nkraken down 5\n")
    rules_in, problems = read_alerts(lines)
    assert [r.text for r in rules_in] == ["kalshi fill", "kraken down 5"]
    assert problems == [
        {
            "raw": "kalshi:X bid above 0.97",
            "reason": "'0.97' is ambiguous: Kalshi prices are in cents; write 0.97c for cents or $0.97 "
            "for dollars",
        }
    ]
    assert [r.text for r in import_text(export_text(rules))[0]] == list(RULES)
    with pytest.raises(AlertFileError, match="could not read"):
        read_alerts(tmp_path / "missing.json")
    with pytest.raises(AlertFileError, match="could not write"):
        export_alerts(rules, tmp_path / "no-such-dir" / "x.json")
