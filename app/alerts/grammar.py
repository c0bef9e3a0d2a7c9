"""The rule grammar: one line of text -> a ``Rule``, or a ``RuleError`` saying in one sentence what is wrong.

    kalshi:KXCPI-26NOV21-T0.1 bid above 55c once
    kraken:BTC/USD last below 95000 every band 50 cooldown 30s
    kalshi:* spread above 3 ticks                 (every watched Kalshi market)
    kraken down                                   (the venue's connection)

``GRAMMAR`` is the summary ``--help`` prints. Checks that need the market's tick size are in
``alerts.ticks``; everything that can be checked from the text alone is checked here.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from decimal import Decimal, InvalidOperation

from app.alerts.rules import ALL, Kind, Mode, Op, PriceField, Rule, Target
from app.core.instruments import Venue

GRAMMAR = """\
RULE is one string: TARGET CONDITION [OPTION ...]
  TARGET     VENUE:MARKET (kalshi:TICKER, kraken:BTC/USD); VENUE:* or * for every watched market;
             VENUE alone (kalshi, kraken) for the venue as a whole
  CONDITION  last|bid|ask|mid|prob above|below VALUE     a price crosses (reaches) VALUE; one market
             spread above VALUE | spread above N ticks    the spread is wider than VALUE or N ticks
             imbalance [top N] above|below|beyond RATIO   bid size / ask size over the top N levels (5)
             volume above V in T                          traded size over the last T seconds above V
             move [up|down] P% in T                       the last trade moved over P % within T
             stale SECONDS                                no live data for SECONDS, then back
             down [SECONDS]                               a venue's connection drops (for SECONDS), then back
             fill | position                              a fill of yours arrives | a position changes
             status [paused,closed,determined,settled,open]   a Kalshi market changes lifecycle
  VALUE      in the market's units: Kalshi cents (97c, 97.5c, or $0.97), prob in percent (40%),
             Kraken in the quote currency (95000.5); checked against the market's tick size
  OPTION     once | every (default: every, re-armed one tick back past the level)
             band VALUE (the re-arm band) | cooldown T | expires T|ISO-TIME
             initial (also fire when a (re)connect's snapshot finds it already true)
  T, SECONDS 30, 30s, 5m, 2h, 1d"""

PRICE_FIELDS = {f.value: f for f in PriceField}
STATUSES = ("open", "paused", "closed", "determined", "settled")
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)\Z")
_UNIT_S = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
MAX_RULE = 500  # characters: a rule is a line, not a document


class RuleError(ValueError):
    """A rule that can't be understood; the message says what is wrong in one line."""


class _Words:
    def __init__(self, text: str) -> None:
        self.words = text.split()
        self.i = 0

    def peek(self) -> str | None:
        return self.words[self.i].lower() if self.i < len(self.words) else None

    def take(self, what: str) -> str:
        if self.i >= len(self.words):
            raise RuleError(f"expected {what} at the end")
        word = self.words[self.i]
        self.i += 1
        return word

    def expect(self, *choices: str) -> str:
        word = self.take(" or ".join(repr(c) for c in choices)).lower()
        if word not in choices:
            raise RuleError(f"expected {' or '.join(repr(c) for c in choices)}, not {word!r}")
        return word

    def accept(self, *choices: str) -> str | None:
        word = self.peek()
        if word in choices:
            self.i += 1
            return word
        return None


def parse(text: str, now: float | None = None) -> Rule:
    """``text`` as a rule; ``now`` (Unix seconds) is when it was made (a relative expiry counts from it)."""
    if len(text) > MAX_RULE:
        raise RuleError(f"a rule is at most {MAX_RULE} characters")
    words = _Words(text)
    if not words.words:
        raise RuleError("an empty rule")
    target = _target(words.take("a market"))
    word = words.take("a condition").lower()
    rule = Rule(text.strip(), Kind.PRICE, target, created_at=time.time() if now is None else now)
    if word in PRICE_FIELDS:
        _price_rule(rule, PRICE_FIELDS[word], words)
    elif word == "spread":
        _spread_rule(rule, words)
    elif word == "imbalance":
        _imbalance_rule(rule, words)
    elif word == "volume":
        _volume_rule(rule, words)
    elif word == "move":
        _move_rule(rule, words)
    elif word == "stale":
        rule.kind = Kind.STALE
        rule.window_s = _duration(words.take("seconds after 'stale'"), "stale")
    elif word == "down":
        rule.kind = Kind.DOWN
        rule.window_s = 0.0
        if words.peek() is not None and _DURATION.match(words.peek() or ""):
            rule.window_s = _duration(words.take("seconds"), "down", zero=True)
    elif word in ("fill", "fills"):
        rule.kind = Kind.FILL
    elif word in ("position", "balance"):
        rule.kind = Kind.POSITION
    elif word == "status":
        _status_rule(rule, words)
    else:
        raise RuleError(
            f"unknown condition {word!r}; expected last, bid, ask, mid, prob, spread, imbalance, volume, "
            "move, stale, down, fill, position or status"
        )
    _options(rule, words)
    _check_target(rule)
    return rule


def _target(word: str) -> Target:
    if word == ALL:
        return Target(None, ALL)
    name, sep, market = word.partition(":")
    try:
        venue = Venue(name.lower())
    except ValueError:
        raise RuleError(
            f"{word!r} is not a market: write VENUE:MARKET (kalshi:TICKER, kraken:BTC/USD), VENUE:* or *"
        ) from None
    if not sep:
        return Target(venue, None)
    if not market:
        raise RuleError(f"no market after {name}: in {word!r}")
    return Target(venue, market if venue is Venue.KALSHI or market == ALL else market.upper())


def _price_rule(rule: Rule, price_field: PriceField, words: _Words) -> None:
    rule.kind, rule.field = Kind.PRICE, price_field
    if not rule.target.single:
        raise RuleError(
            f"a {price_field} level is one market's: write VENUE:MARKET, not {rule.target.text()!r}"
        )
    if price_field is PriceField.PROB and rule.target.venue is not Venue.KALSHI:
        raise RuleError("prob is a Kalshi market's YES probability")
    rule.op = Op(words.expect("above", "below"))
    rule.value = _price(rule, words.take(f"a price after {rule.op.value!r}"), price_field)


def _spread_rule(rule: Rule, words: _Words) -> None:
    rule.kind, rule.op = Kind.SPREAD, Op.ABOVE
    words.expect("above", "wider")
    words.accept("than")
    text = words.take("a spread after 'above'")
    if text.lower().endswith(("ticks", "tick")):
        text = text.lower().removesuffix("ticks").removesuffix("tick")
        rule.ticks = True
    elif words.accept("ticks", "tick"):
        rule.ticks = True
    if rule.ticks:
        rule.value = _positive(text, "a number of ticks")
    else:
        rule.value = _price(rule, text, None)


def _imbalance_rule(rule: Rule, words: _Words) -> None:
    rule.kind = Kind.IMBALANCE
    if words.accept("top"):
        text = words.take("a number of levels after 'top'")
        if not text.isdigit() or not 1 <= int(text) <= 100:
            raise RuleError(f"top takes a number of levels from 1 to 100, not {text!r}")
        rule.levels = int(text)
    rule.op = Op(words.expect("above", "below", "beyond"))
    rule.value = _positive(words.take("a ratio"), "a ratio (bid size over ask size)")
    if rule.op is Op.BEYOND and rule.value <= 1:
        raise RuleError(
            f"'beyond' takes a ratio over 1 (it fires above it or below its inverse), not {rule.value}"
        )


def _volume_rule(rule: Rule, words: _Words) -> None:
    rule.kind, rule.op = Kind.VOLUME, Op.ABOVE
    words.expect("above")
    rule.value = _number(words.take("a size after 'above'"), "a size")
    if rule.value < 0:
        raise RuleError("a volume can't be negative")
    words.expect("in", "within")
    rule.window_s = _duration(words.take("a time window after 'in'"), "volume")


def _move_rule(rule: Rule, words: _Words) -> None:
    rule.kind, rule.op = Kind.MOVE, Op.ABOVE
    rule.direction = words.accept("up", "down")
    words.accept("above", "over", "by")
    rule.value = _percent(words.take("a percentage"))
    words.expect("in", "within")
    rule.window_s = _duration(words.take("a time window after 'in'"), "move")


def _status_rule(rule: Rule, words: _Words) -> None:
    rule.kind = Kind.STATUS
    word = words.peek()
    if word is not None and word not in _OPTION_WORDS:
        wanted = {w for w in words.take("statuses").lower().split(",") if w}
        unknown = sorted(wanted - set(STATUSES))
        if unknown:
            raise RuleError(f"unknown status {', '.join(unknown)}; known: {', '.join(STATUSES)}")
        rule.statuses = frozenset(wanted)


_OPTION_WORDS = ("once", "every", "band", "cooldown", "expires", "initial")


def _options(rule: Rule, words: _Words) -> None:
    seen: set[str] = set()
    while (word := words.peek()) is not None:
        words.take("an option")
        if word not in _OPTION_WORDS:
            raise RuleError(f"unexpected {word!r}; options are {', '.join(_OPTION_WORDS)}")
        key = "mode" if word in ("once", "every") else word
        if key in seen:
            raise RuleError(f"{word!r} given twice")
        seen.add(key)
        if word in ("once", "every"):
            rule.mode = Mode(word)
        elif word == "initial":
            rule.initial = True
        elif word == "cooldown":
            rule.cooldown_s = _duration(words.take("a time after 'cooldown'"), "cooldown", zero=True)
        elif word == "expires":
            rule.expires_at = _expiry(words.take("a time after 'expires'"), rule.created_at)
        elif word == "band":
            rule.band = _band(rule, words.take("a band after 'band'"))


def _band(rule: Rule, text: str) -> Decimal:
    if rule.kind in (Kind.PRICE, Kind.SPREAD) and not rule.ticks:
        value = _price(rule, text, rule.field, band=True)
    elif rule.kind is Kind.MOVE:
        value = _percent(text)
    elif rule.kind in (Kind.SPREAD, Kind.IMBALANCE, Kind.VOLUME):
        value = _number(text, "a band")
    else:
        raise RuleError(f"a {rule.kind.value} rule has no band (it re-arms when the condition ends)")
    if value < 0:
        raise RuleError("a band can't be negative")
    return value


def _check_target(rule: Rule) -> None:
    t, kind = rule.target, rule.kind
    if kind is Kind.PRICE and not t.single:
        raise RuleError(f"a {rule.field} level is one market's: write VENUE:MARKET, not {t.text()!r}")
    if rule.field is PriceField.PROB and t.venue is not Venue.KALSHI:
        raise RuleError("prob is a Kalshi market's YES probability")
    if kind is Kind.SPREAD and not rule.ticks and t.venue is None:
        raise RuleError("a spread as a price needs one venue's units: use VENUE:* or write it in ticks")
    if kind in (Kind.SPREAD, Kind.IMBALANCE, Kind.VOLUME, Kind.MOVE) and t.market is None:
        raise RuleError(f"a {kind.value} rule is on markets: write VENUE:MARKET or VENUE:*")
    if kind is Kind.DOWN and t.market is not None and t != Target(None, ALL):
        raise RuleError("'down' is about a venue's connection: write kalshi down, kraken down or * down")
    if kind is Kind.STATUS and t.venue is not Venue.KALSHI:
        raise RuleError("status is a Kalshi market's lifecycle: write kalshi:TICKER status, or kalshi:*")
    if rule.initial and kind not in (Kind.PRICE, Kind.SPREAD, Kind.IMBALANCE):
        raise RuleError(f"'initial' is for price, spread and imbalance rules, not {kind.value}")


# ---------------------------------------------------------------------- numbers


def _number(text: str, what: str) -> Decimal:
    if not re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)", text):
        raise RuleError(f"expected {what}, not {text!r}")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        raise RuleError(f"expected {what}, not {text!r}") from None


def _positive(text: str, what: str) -> Decimal:
    value = _number(text, what)
    if value <= 0:
        raise RuleError(f"{what} must be more than 0, not {text!r}")
    return value


def _percent(text: str) -> Decimal:
    value = _positive(text.removesuffix("%"), "a percentage")
    if value >= 1000:
        raise RuleError(f"{text!r} is not a plausible move")
    return value


def _price(rule: Rule, text: str, price_field: PriceField | None, band: bool = False) -> Decimal:
    """A price in the market's units -> wire units (Kalshi dollars, Kraken quote currency)."""
    venue = rule.target.venue
    if venue is None:  # both venues: only ticks make sense, which _check_target says
        raise RuleError("a price needs one venue's units: write kalshi:... or kraken:...")
    if venue is Venue.KRAKEN:
        if text.endswith(("c", "%")) or text.startswith("$"):
            raise RuleError(f"Kraken prices are plain numbers in the quote currency, not {text!r}")
        value = _number(text, "a price")
    else:
        value = _kalshi_price(text, price_field)
    if value <= 0 and not (band and value == 0):
        raise RuleError(f"a price must be more than 0, not {text!r}")
    if venue is Venue.KALSHI:
        if value.as_tuple().exponent < -4:  # type: ignore[operator]
            raise RuleError(f"{text!r} is finer than Kalshi's smallest tick ($0.0001, 0.01c)")
        if value >= 1 and not band:
            raise RuleError(f"{text!r} is not below 100c (Kalshi prices run from 0 to 100c)")
    return value


def _kalshi_price(text: str, price_field: PriceField | None) -> Decimal:
    if text.startswith("$"):
        return _number(text[1:], "a dollar price")
    if text.endswith(("c", "%")):
        return _number(text[:-1], "a price") / 100
    value = _number(text, "a price in cents")
    if value < 1 and value != value.to_integral_value():
        unit = "%" if price_field is PriceField.PROB else "c"
        raise RuleError(
            f"{text!r} is ambiguous: Kalshi prices are in cents; write {text}{unit} for cents or ${text} "
            "for dollars"
        )
    return value / 100


def _duration(text: str, what: str, zero: bool = False) -> float:
    m = _DURATION.match(text.lower())
    if m is None:
        raise RuleError(f"{what} takes a time like 30, 30s, 5m or 2h, not {text!r}")
    seconds = float(m.group(1)) * _UNIT_S[m.group(2)]
    if seconds <= 0 and not zero:
        raise RuleError(f"{what} takes a time over 0, not {text!r}")
    return seconds


def _expiry(text: str, now: float) -> float:
    if _DURATION.match(text.lower()):
        return now + _duration(text, "expires")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RuleError(f"expires takes a time like 2h or 2026-11-22T17:00, not {text!r}") from None
    return when.timestamp()  # a time without a zone is local time, as the user reads a clock
