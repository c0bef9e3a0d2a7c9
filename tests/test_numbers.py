"""Tests for app.core.numbers: exact decimal text <-> scaled integer conversions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.numbers import (
    NumberError,
    PrecisionError,
    decimals_of,
    format_decimal,
    format_scaled,
    from_scaled,
    to_decimal,
    to_scaled,
)

# ---------------------------------------------------------------------------------------------------
# to_scaled: exact examples
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "scale", "expected"),
    [
        ("0.00100000", 8, 100000),
        ("45285.2", 1, 452852),
        ("-12.00", 2, -1200),
        ("0.45", 4, 4500),
        (45, 2, 4500),  # JSON int
        (-3, 0, -3),
        ("1e-08", 8, 1),  # exponent form (Kraken's instrument channel)
        ("1E-8", 8, 1),
        ("0.10000000", 4, 1000),  # trailing zeros beyond the scale are fine
        ("7", 0, 7),
        ("7.000", 0, 7),
        ("1.", 2, 100),
        ("0", 3, 0),
        ("-0.00", 2, 0),
        ("-1.5", 3, -1500),
        ("123456789012345678901234567890.5", 1, 1234567890123456789012345678905),  # no float rounding
    ],
)
def test_to_scaled_examples(value: object, scale: int, expected: int) -> None:
    """Known text/int inputs map to the exact integer unit count."""
    result = to_scaled(value, scale)
    assert result == expected
    assert type(result) is int


def test_to_scaled_precision_error_reports_decimals() -> None:
    """A non-zero digit beyond the scale raises PrecisionError saying how many decimals are needed."""
    with pytest.raises(PrecisionError) as info:
        to_scaled("0.12345", 4)
    assert info.value.decimals == 5
    assert isinstance(info.value, NumberError)


def test_to_scaled_precision_error_ignores_trailing_zeros_in_count() -> None:
    """The reported decimals count only significant digits ("0.1234500" needs 5, not 7)."""
    with pytest.raises(PrecisionError) as info:
        to_scaled("0.1234500", 4)
    assert info.value.decimals == 5


def test_to_scaled_precision_error_exponent_form() -> None:
    """Exponent-form text with too many decimals also raises PrecisionError with the right count."""
    with pytest.raises(PrecisionError) as info:
        to_scaled("1e-08", 7)
    assert info.value.decimals == 8


def test_to_scaled_precision_error_at_scale_zero() -> None:
    """At scale 0 any fractional digit is too precise."""
    with pytest.raises(PrecisionError):
        to_scaled("-0.5", 0)


@pytest.mark.parametrize(
    "text",
    ["abc", "1_0", " 1", "1 ", "1\n", "", "1.2.3", "NaN", "nan", "inf", "-Infinity", "sNaN", "1e", "--1"],
)
def test_to_scaled_garbage_text(text: str) -> None:
    """Text that is not a strict decimal number raises NumberError (not a generic ValueError leak)."""
    with pytest.raises(NumberError):
        to_scaled(text, 4)


@pytest.mark.parametrize("value", [True, False, 1.5, 0.0, None, Decimal("1.5"), b"1", [1]])
def test_to_scaled_non_text_non_int(value: object) -> None:
    """bool, float, None and other types raise NumberError: binary floats never enter."""
    with pytest.raises(NumberError):
        to_scaled(value, 2)


# ---------------------------------------------------------------------------------------------------
# from_scaled / format_scaled / format_decimal
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "scale", "expected"),
    [
        (100000, 8, "0.00100000"),
        (-5, 2, "-0.05"),
        (7, 0, "7"),
        (-7, 0, "-7"),
        (0, 2, "0.00"),
        (452852, 1, "45285.2"),
        (-1200, 2, "-12.00"),
        (1, 8, "0.00000001"),
    ],
)
def test_format_scaled_examples(units: int, scale: int, expected: str) -> None:
    """Units render as plain text with exactly `scale` decimals, never exponent form."""
    assert format_scaled(units, scale) == expected


def test_from_scaled_keeps_scale() -> None:
    """from_scaled gives an exact Decimal that keeps trailing zeros (exponent == -scale)."""
    d = from_scaled(4500, 4)
    assert d == Decimal("0.45")
    assert str(d) == "0.4500"
    assert from_scaled(-5, 2) == Decimal("-0.05")
    assert from_scaled(7, 0) == Decimal(7)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0.050"), "-0.050"),
        (Decimal("45285.2"), "45285.2"),
    ],
)
def test_format_decimal_never_exponent(value: Decimal, expected: str) -> None:
    """format_decimal renders plain text where str(Decimal) would use exponent form."""
    assert format_decimal(value) == expected


# ---------------------------------------------------------------------------------------------------
# decimals_of / to_decimal
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("45285.20", 2),
        ("0.00100000", 8),
        ("7", 0),
        ("-12.00", 2),
        ("1.", 0),
        ("1e-08", 8),
        ("1.5e-3", 4),
        ("1.50E+3", 0),
        (45, 0),
    ],
)
def test_decimals_of(value: object, expected: int) -> None:
    """decimals_of counts written decimals (trailing zeros included); ints and exponents handled."""
    assert decimals_of(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.4500", Decimal("0.4500")), ("1e-08", Decimal("1E-8")), (45, Decimal(45)), ("-3", Decimal(-3))],
)
def test_to_decimal_examples(value: object, expected: Decimal) -> None:
    """to_decimal is exact for decimal text and JSON ints."""
    result = to_decimal(value)
    assert result == expected
    assert isinstance(result, Decimal)


@pytest.mark.parametrize("value", ["abc", "1_0", " 1", "", "NaN", "inf", True, 1.5, None])
def test_to_decimal_rejects(value: object) -> None:
    """to_decimal rejects garbage, non-finite values, bools, floats and None with NumberError."""
    with pytest.raises(NumberError):
        to_decimal(value)


# ---------------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------------

_MAX = Decimal(10) ** 12


@st.composite
def scaled_decimals(draw: st.DrawFn) -> tuple[Decimal, int]:
    """A scale 0..12 and a finite Decimal with at most that many decimals and |d| <= 10**12."""
    scale = draw(st.integers(min_value=0, max_value=12))
    d = draw(
        st.decimals(min_value=-_MAX, max_value=_MAX, places=scale, allow_nan=False, allow_infinity=False)
    )
    return d, scale


@settings(max_examples=300, deadline=None)
@given(scaled_decimals())
def test_round_trip_text_units_text(case: tuple[Decimal, int]) -> None:
    """Decimal -> text -> units -> text parses back to the same value, and from_scaled is exact."""
    d, scale = case
    text = format_decimal(d)
    units = to_scaled(text, scale)
    rendered = format_scaled(units, scale)
    assert Decimal(rendered) == d
    assert "e" not in rendered.lower()
    if scale:
        assert len(rendered.partition(".")[2]) == scale
    assert from_scaled(units, scale) == Decimal(text)
    assert from_scaled(units, scale) == to_decimal(text)


@settings(max_examples=300, deadline=None)
@given(scaled_decimals(), st.integers(min_value=0, max_value=6))
def test_round_trip_at_finer_scale(case: tuple[Decimal, int], extra: int) -> None:
    """A value that fits a scale also fits any finer scale, with units multiplied by 10**extra."""
    d, scale = case
    text = format_decimal(d)
    assert to_scaled(text, scale + extra) == to_scaled(text, scale) * 10**extra


@settings(max_examples=300, deadline=None)
@given(scaled_decimals())
def test_exponent_form_agrees_with_plain_form(case: tuple[Decimal, int]) -> None:
    """The exponent-form path ("1E-8") yields the same units as the plain-text path."""
    d, scale = case
    assert to_scaled(f"{d:e}", scale) == to_scaled(format_decimal(d), scale)


@settings(max_examples=500, deadline=None)
@given(
    st.from_regex(r"-?[0-9]{1,7}(\.[0-9]{0,9})?", fullmatch=True),
    st.integers(min_value=0, max_value=8),
)
def test_to_scaled_matches_decimal_reference(text: str, scale: int) -> None:
    """For any plain decimal text, to_scaled either equals Decimal(text)*10**scale exactly or raises
    PrecisionError with the number of significant decimals the text needs."""
    exact = Decimal(text).scaleb(scale)
    if exact == exact.to_integral_value():
        assert to_scaled(text, scale) == int(exact)
    else:
        with pytest.raises(PrecisionError) as info:
            to_scaled(text, scale)
        assert info.value.decimals == len(text.partition(".")[2].rstrip("0"))
    assert decimals_of(text) == len(text.partition(".")[2])


@pytest.mark.parametrize("text", ["1e5000", "1E-999999999", "9" * 10_000, "0." + "1" * 100])
def test_hostile_numbers_are_refused_cheaply(text: str) -> None:
    # Short exponent text for a number of millions of digits, or thousands of digits: neither is a price.
    with pytest.raises(NumberError):
        to_scaled(text, 8)
    with pytest.raises(NumberError):
        to_decimal(text)
