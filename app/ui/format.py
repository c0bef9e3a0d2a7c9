"""Display text for numbers and times: the only place a view turns a price, size, amount or time into text
(watchlist, ladder and its depth chart, tape, fills, positions, health, the price chart's axis). Pure
functions, no Qt.

Values stay ``Decimal`` until here, so nothing is rounded by accident: Kraken prices and sizes keep the
wire precision they arrived with (``0.10000000`` stays eight decimals, which keeps a column aligned) and
are grouped in thousands everywhere (``67,123.4``), and Kalshi's dollar prices become cents with as many
decimals as the tick needs (``0.875`` -> ``87.5¢``). A missing value is always ``DASH``, never ``None`` or
``"0"``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

from app.core.events import TakerSide
from app.core.instruments import Venue
from app.core.store import Outcome

DASH = "–"
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")
VENUE_NAMES = {Venue.KALSHI: "Kalshi", Venue.KRAKEN: "Kraken"}


def trimmed(value: Decimal) -> Decimal:
    """``value`` without trailing fractional zeros (``87.50`` -> ``87.5``, ``100.00`` -> ``100``)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def decimal_text(value: Decimal | None, *, grouped: bool = False) -> str:
    """The Decimal's own digits, never in exponent form: ``Decimal("0.10000000")`` -> ``0.10000000``."""
    if value is None:
        return DASH
    return format(value, ",f" if grouped else "f")


def places(value: Decimal) -> int:
    """Decimals ``value`` needs, trailing zeros aside: ``87.50`` -> 1, ``100.00`` -> 0."""
    exponent = trimmed(value).as_tuple().exponent
    assert isinstance(exponent, int)  # finite: prices and sizes are never NaN or infinite
    return max(0, -exponent)


def column_places(values: Iterable[Decimal]) -> int:
    """Decimals the longest of ``values`` needs: pass it as ``min_places`` to line up a column."""
    return max((places(v) for v in values), default=0)


def cent_places(dollars: Iterable[Decimal]) -> int:
    """Decimals the cents of a column of Kalshi prices need (0 on a whole-cent book, 1 on a deci-cent one)."""
    return column_places(d * _HUNDRED for d in dollars)


def _at_least(value: Decimal, min_places: int, grouped: bool = False) -> str:
    value = trimmed(value)
    if places(value) < min_places:
        value = value.quantize(Decimal(1).scaleb(-min_places))
    return format(value, ",f" if grouped else "f")


def cents(dollars: Decimal | None, min_places: int = 0) -> str:
    """A Kalshi dollar price as cents, sub-cent ticks kept: ``0.87`` -> ``87¢``, ``0.8750`` -> ``87.5¢``.
    ``min_places`` pads whole cents in a column of sub-cent prices (``87.0¢`` above ``87.5¢``)."""
    if dollars is None:
        return DASH
    return f"{_at_least(dollars * _HUNDRED, min_places)}¢"


def probability(dollars: Decimal | None) -> str:
    """A Kalshi YES price read as a probability, at least one decimal: ``0.87`` -> ``87.0%``."""
    if dollars is None:
        return DASH
    return f"{_at_least(dollars * _HUNDRED, 1)}%"


def price(venue: Venue, value: Decimal | None, min_places: int = 0) -> str:
    """A trade or quote price as the venue's users read it: Kalshi in cents, Kraken at wire precision."""
    if venue is Venue.KALSHI:
        return cents(value, min_places)
    return decimal_text(value, grouped=True)


def size(venue: Venue, value: Decimal | None, min_places: int = 0) -> str:
    """A quantity with thousands separators. Kalshi's ``*_fp`` counts carry ``.00`` for whole contracts,
    which is noise there (unless ``min_places`` asks for a column of fractional counts to line up);
    Kraken's quantities keep the pair's precision so a column lines up by itself."""
    if value is None:
        return DASH
    if venue is Venue.KALSHI:
        return _at_least(value, min_places, grouped=True)
    return format(value, ",f")


def volume(value: Decimal | None) -> str:
    """A 24 h volume at a glance: whole units once large, two decimals below that, four significant
    digits under one (the column's sort key stays exact)."""
    if value is None:
        return DASH
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def change(venue: Venue, value: Decimal | None) -> str:
    """A price change as the venue's price with its sign (``+1¢``); a fall gets a true minus sign (U+2212)."""
    if value is None:
        return DASH
    text = price(venue, abs(value))
    return ("+" if value > 0 else "−" if value < 0 else "") + text


def bps(spread: Decimal, mid: Decimal) -> str:
    """A spread relative to the mid, in basis points: ``1.5 bps``."""
    return f"{spread / mid * 10_000:.1f} bps"


def axis_ticks(values: Iterable[float], spacing: float) -> list[str]:
    """Tick labels for a plot axis of prices or sizes: grouped like the tables (``67,120``), with the
    decimals the tick spacing needs (plot coordinates are floats already; nothing exact is lost here)."""
    decimals = max(0, math.ceil(-math.log10(spacing))) if spacing > 0 else 0
    return [f"{v:,.{decimals}f}" for v in values]


def chart_price(venue: Venue, value: float, span: float) -> str:
    """A price read off a chart (a float already), as precise as the visible ``span`` makes sense of:
    ``108,322.4`` on a 500-wide BTC scale, ``97.5¢`` on a Kalshi one (chart units are cents there)."""
    decimals = max(0, math.ceil(-math.log10(span / 1000))) if span > 0 else 2
    text = f"{value:,.{decimals}f}"
    return f"{text}¢" if venue is Venue.KALSHI else text


def axis_times(values: Iterable[float], spacing: float) -> list[str]:
    """Time-axis labels (local time): seconds when ticks are seconds apart, ``HH:MM`` otherwise, and on
    a long axis (ticks an hour or more apart) the day (``21 Nov``) on the first label and wherever the
    date changes, so a day-long chart says which day each hour belongs to."""
    out: list[str] = []
    previous_day = None
    for value in values:
        moment = time.localtime(value)
        if spacing >= 86_400:
            out.append(time.strftime("%d %b", moment))
            continue
        text = time.strftime("%H:%M:%S" if spacing < 60 else "%H:%M", moment)
        day = moment.tm_yday
        if spacing >= 3600 and day != previous_day:
            text = time.strftime("%d %b ", moment) + text
        previous_day = day
        out.append(text)
    return out


def clock_short(unix_s: float) -> str:
    """A moment today as ``14:32``; an older one with its day, ``20 Nov 14:32``."""
    moment = time.localtime(unix_s)
    if time.localtime().tm_yday == moment.tm_yday and time.time() - unix_s < 86_400:
        return time.strftime("%H:%M", moment)
    return time.strftime("%d %b %H:%M", moment)


def money(value: Decimal | None, *, signed: bool = False, symbol: str = "$", cents_only: bool = False) -> str:
    """Dollars with at least two decimals, more only when they are not zero: ``-1.2`` -> ``-$1.20``,
    ``0.0150`` -> ``$0.015``. ``signed`` writes ``+`` for gains (P&L columns). ``cents_only`` rounds
    to the cent (half-even), for columns whose decimal points must line up; show the exact value
    elsewhere (a tooltip) when you use it."""
    if value is None:
        return DASH
    if cents_only:
        value = value.quantize(_CENT, rounding=ROUND_HALF_EVEN)
    magnitude = trimmed(abs(value))
    exponent = magnitude.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent > -2:
        magnitude = magnitude.quantize(_CENT)
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    return f"{sign}{symbol}{format(magnitude, ',f')}"


def signed(value: Decimal | None, *, grouped: bool = True) -> str:
    """A change with its sign always written: ``+1.50``, ``-0.25``, ``0``."""
    if value is None:
        return DASH
    text = format(value, ",f" if grouped else "f")
    return f"+{text}" if value > 0 else text


def count(value: int | None) -> str:
    """A whole number with thousands separators: ``12345`` -> ``12,345``."""
    return DASH if value is None else f"{value:,}"


def rate(per_second: float | None) -> str:
    """Messages per second: one decimal while small, whole numbers once large."""
    if per_second is None:
        return DASH
    return f"{per_second:,.1f}" if per_second < 1000 else f"{per_second:,.0f}"


def clock(ts_ms: int | None) -> str:
    """Epoch milliseconds as local wall-clock time ``HH:MM:SS.mmm`` (integer maths: no float rounding)."""
    if ts_ms is None:
        return DASH
    seconds, millis = divmod(ts_ms, 1000)
    return f"{time.strftime('%H:%M:%S', time.localtime(seconds))}.{millis:03d}"


def age(seconds: float | None) -> str:
    """How old something is, at the precision that matters: ``0.4 s``, ``12 s``, ``2 m``, ``3 h``, ``2 d``."""
    if seconds is None:
        return DASH
    seconds = max(0.0, seconds)  # a clock step must not show a negative age
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} m"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def countdown(seconds: float | None) -> str:
    """Time left until a market closes: ``4m 05s``, ``3h 07m``, ``2d 5h``; ``closed`` once past."""
    if seconds is None:
        return ""
    if seconds <= 0:
        return "closed"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m {int(seconds % 60):02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    return f"{hours // 24}d {hours % 24}h"


def side(venue: Venue, taker_side: TakerSide | None) -> str:
    """Kalshi's sides are outcomes (BUY = towards YES); Kraken's are plain buy and sell."""
    if taker_side is None:
        return DASH
    if venue is Venue.KALSHI:
        return "Yes" if taker_side is TakerSide.BUY else "No"
    return "Buy" if taker_side is TakerSide.BUY else "Sell"


def venue_name(venue: Venue) -> str:
    return VENUE_NAMES.get(venue, venue.value)


def contracts(position: Decimal | None) -> str:
    """A Kalshi position (+ YES, - NO contracts) as a trader says it: ``12 Yes``, ``5 No``, ``0``."""
    if position is None:
        return DASH
    if position == 0:
        return "0"
    return f"{format(trimmed(abs(position)), ',f')} {'Yes' if position > 0 else 'No'}"


def when(unix_s: float | None) -> str:
    """A moment with its date and zone (a settlement may be days old): ``2026-12-02 14:05 UTC``."""
    if unix_s is None:
        return DASH
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(unix_s))


def outcome(status: str, ended: Outcome | None) -> str:
    """How a market ended, in one line: ``settled YES at $1.00, 2026-12-02 14:05 UTC`` (the status alone
    while its result is not known yet)."""
    if ended is None:
        return status
    words = [status]
    if ended.result:
        words.append(ended.result.upper())
    if ended.value is not None:
        words.append(f"at {money(ended.value)}")
    at = ended.settled_at if status == "settled" and ended.settled_at else ended.determined_at
    text = " ".join(words)
    return f"{text}, {when(at)}" if at is not None else text
