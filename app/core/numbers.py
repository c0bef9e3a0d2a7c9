"""Exact fixed-point numbers as scaled integers.

Prices and sizes travel as decimal text ("0.4500", "0.00100000"). The book keeps them as integers
scaled by 10**decimals so that comparisons, sums and Kraken's checksum stay exact and cheap:
"0.00100000" at 8 decimals is 100000, and ``str(100000)`` is exactly the checksum's rendering
(decimal point and leading zeros removed). Binary floats never enter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

_PLAIN = re.compile(r"-?[0-9]+(?:\.[0-9]*)?\Z")
_POW10: list[int] = [10**i for i in range(40)]
MAX_TEXT = 48  # far beyond any venue price or size; a hostile 10,000-digit number stops here, cheaply
MAX_EXPONENT = 40  # likewise for exponent notation, whose digits would otherwise be built out in full


class NumberError(ValueError):
    """A value that is not an exact decimal number (or not representable at the wanted scale)."""


class PrecisionError(NumberError):
    """The value has more significant decimals than the scale holds; ``decimals`` says how many."""

    def __init__(self, text: str, decimals: int) -> None:
        super().__init__(f"{text!r} needs {decimals} decimals")
        self.decimals = decimals


def decimals_of(value: object) -> int:
    """Number of decimals written in a plain decimal text ("45285.20" -> 2); 0 for ints."""
    if isinstance(value, str):
        if "e" not in value and "E" not in value:
            dot = value.find(".")
            return len(value) - dot - 1 if dot >= 0 else 0
        exp = _to_decimal(value).as_tuple().exponent
        return max(0, -exp) if isinstance(exp, int) else 0
    return 0


def to_scaled(value: object, scale: int) -> int:
    """Decimal text (or JSON int) -> integer count of 10**-scale units, exactly.

    Raises PrecisionError when non-zero digits lie beyond ``scale``; NumberError for anything that is
    not a number (bools, floats, garbage text).
    """
    if type(value) is str:
        if len(value) > MAX_TEXT:
            raise NumberError(f"a number of {len(value):,} characters")
        whole, _, frac = value.partition(".")
        if len(frac) == scale and value.isascii() and (frac.isdigit() or not frac):
            # The hot path: a venue writes its full precision (Kraken always; Kalshi's deltas too).
            if whole.isdigit():
                return int(whole + frac)
            if whole[:1] == "-" and whole[1:].isdigit():
                return -int(whole[1:] + frac)
        if _PLAIN.match(value):
            whole, _, frac = value.partition(".")
            n = len(frac)
            if n <= scale:
                return int(whole + frac + "0" * (scale - n)) if frac else int(whole) * _POW10[scale]
            extra = frac[scale:]
            if extra.strip("0"):
                raise PrecisionError(value, len(frac.rstrip("0")))
            return int(whole + frac[:scale]) if scale else int(whole)
        return _scaled_slow(value, scale)
    if type(value) is int:
        return value * _POW10[scale]
    raise NumberError(f"not a decimal number: {value!r}")


def to_scaled_levels(
    levels: Iterable[tuple[object, object]], price_scale: int, size_scale: int
) -> list[tuple[int, int]]:
    """Book levels (price, size) as decimal text or ints -> integer units, each price above zero and
    each size zero or more; else ``NumberError`` (``PrecisionError`` for digits beyond a scale).

    One call per side of a message: a level written at exactly the scales (what Kraken always sends)
    costs two partitions and two ``int``; anything else goes through ``to_scaled``.
    """
    out: list[tuple[int, int]] = []
    append = out.append
    for price, size in levels:
        if type(price) is str and type(size) is str and len(price) <= MAX_TEXT and len(size) <= MAX_TEXT:
            pw, _, pf = price.partition(".")
            sw, _, sf = size.partition(".")
            if len(pf) == price_scale and len(sf) == size_scale:
                digits = pw + pf
                size_digits = sw + sf
                if digits.isdigit() and size_digits.isdigit() and digits.isascii() and size_digits.isascii():
                    units = int(digits)
                    if units > 0:
                        append((units, int(size_digits)))
                        continue
        units, size_units = to_scaled(price, price_scale), to_scaled(size, size_scale)
        if units <= 0 or size_units < 0:
            raise NumberError("a level with a negative size or a price at or below zero")
        append((units, size_units))
    return out


def _to_decimal(text: str) -> Decimal:
    # Only ASCII decimal text: Decimal() would also take "1_0", " 1" and non-ASCII digits.
    if not text.isascii() or "_" in text or text != text.strip():
        raise NumberError(f"not a decimal number: {text!r}")
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise NumberError(f"not a decimal number: {text!r}") from None
    if not d.is_finite():
        raise NumberError(f"not a decimal number: {text!r}")
    exponent = d.as_tuple().exponent
    assert isinstance(exponent, int)
    if abs(exponent) > MAX_EXPONENT:  # "1e999999999" is short text for a number no venue sends
        raise NumberError(f"a number with exponent {exponent}")
    return d


def _scaled_slow(text: str, scale: int) -> int:
    # Exponent notation ("1e-08", Kraken's instrument channel). Integer maths on the digits, so no
    # Decimal context can round a long number.
    sign, digits, exponent = _to_decimal(text).as_tuple()
    assert isinstance(exponent, int)
    units = int("".join(map(str, digits)) or "0")
    shift = exponent + scale
    if shift >= 0:
        units *= int(10**shift)
    else:
        units, rest = divmod(units, int(10**-shift))
        if rest:
            trailing = len(str(rest).rstrip("0"))  # significant digits below the scale
            raise PrecisionError(text, scale + trailing + (-shift - len(str(rest))))
    return -units if sign else units


# Prices and sizes repeat (the same few hundred levels, round lots): text already checked and converted
# is looked up instead of parsed again. Decimals are immutable, so sharing one is safe; the cache is
# emptied when full rather than kept in LRU order, which costs nothing per hit.
_DECIMALS: dict[str, Decimal] = {}
_DECIMALS_MAX = 1 << 16


def to_decimal(value: object) -> Decimal:
    """Exact Decimal from decimal text or a JSON int; NumberError otherwise."""
    if type(value) is str:
        known = _DECIMALS.get(value)
        if known is not None:
            return known
        if len(value) > MAX_TEXT:
            raise NumberError(f"a number of {len(value):,} characters")
        d = _to_decimal(value)
        if len(_DECIMALS) >= _DECIMALS_MAX:
            _DECIMALS.clear()
        _DECIMALS[value] = d
        return d
    if type(value) is int:
        return Decimal(value)
    raise NumberError(f"not a decimal number: {value!r}")


def opt_decimal(value: object) -> Decimal | None:
    """Like to_decimal, but None (absent) stays None."""
    return None if value is None else to_decimal(value)


def from_scaled(units: int, scale: int) -> Decimal:
    """Integer units -> exact Decimal with exactly ``scale`` decimals (keeps trailing zeros)."""
    return Decimal(units).scaleb(-scale)


def format_scaled(units: int, scale: int) -> str:
    """Integer units -> plain decimal text with exactly ``scale`` decimals, never exponent form."""
    if scale == 0:
        return str(units)
    sign = "-" if units < 0 else ""
    digits = str(abs(units)).rjust(scale + 1, "0")
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"


def format_decimal(value: Decimal) -> str:
    """Decimal -> plain text without exponent form (str(Decimal('1E-7')) would say '1E-7')."""
    return format(value, "f")
