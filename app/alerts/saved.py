"""Rules as JSON, for the settings file and for export and import: the text as written plus what the
window keeps (id, on/off, sound, firings). No I/O here (``user.alert_files`` reads and writes files).

    {"format": 1, "alerts": [{"id": "3f2a…", "rule": "kalshi:KX… bid above 55c once", "enabled": true,
                             "sound": true, "created_at": 1795000000.0, "fired": 2, ...}]}

Reading is per rule: a rule that can't be read is set aside with its reason, and the rest load.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from app.alerts.grammar import RuleError, parse
from app.alerts.rules import Rule

FORMAT = 1
Aside = dict[str, Any]  # a rule as found, plus "reason"


def rule_from_json(obj: Any) -> Rule:
    """One saved rule (an object, or the bare rule text); ``ValueError`` saying what is wrong."""
    if isinstance(obj, str):
        return parse(obj)
    if not isinstance(obj, dict):
        raise ValueError(f"a rule must be an object or its text, not {type(obj).__name__}")
    text = obj.get("rule")
    if not isinstance(text, str):
        raise ValueError("no rule text (the 'rule' key)")
    created = obj.get("created_at", 0.0)
    if not _number(created):
        raise ValueError("created_at must be a number")
    try:
        rule = parse(text, now=float(created))
    except RuleError as exc:
        raise ValueError(str(exc)) from None
    rid = obj.get("id", rule.id)
    if not isinstance(rid, str) or not rid.strip():
        raise ValueError("id must be a non-empty string")
    rule.id = rid
    for key in ("enabled", "sound", "done"):
        value = obj.get(key, getattr(rule, key))
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
        setattr(rule, key, value)
    fired = obj.get("fired", 0)
    if type(fired) is not int or fired < 0:
        raise ValueError("fired must be a whole number")
    rule.fired = fired
    last = obj.get("last_fired_at")
    if last is not None and not _number(last):
        raise ValueError("last_fired_at must be a number or null")
    rule.last_fired_at = None if last is None else float(last)
    return rule


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def rules_from_json(items: Any) -> tuple[list[Rule], list[Aside]]:
    """Every rule that reads, and the rest set aside (each as found, with its ``reason``)."""
    if not isinstance(items, list):
        return [], [{"raw": items, "reason": "the alerts must be a list"}]
    rules: list[Rule] = []
    aside: list[Aside] = []
    ids: set[str] = set()
    for item in items:
        try:
            rule = rule_from_json(item)
        except ValueError as exc:
            entry = dict(item) if isinstance(item, dict) else {"raw": item}
            entry["reason"] = str(exc)
            aside.append(entry)
            continue
        if rule.id in ids:  # two rules with one id (a hand-edited file): keep both
            rule.id = uuid.uuid4().hex[:12]
        ids.add(rule.id)
        rules.append(rule)
    return rules, aside


def rules_to_json(rules: list[Rule]) -> list[dict[str, object]]:
    return [rule.state_json() for rule in rules]


def export_text(rules: list[Rule]) -> str:
    return json.dumps({"format": FORMAT, "alerts": rules_to_json(rules)}, indent=2) + "\n"


def import_text(text: str) -> tuple[list[Rule], list[Aside]]:
    """An export (or a bare list of rules or rule texts, or one rule text per line)."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
        return rules_from_json(lines)
    if isinstance(obj, dict):
        obj = obj.get("alerts")
    return rules_from_json(obj)
