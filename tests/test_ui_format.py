"""Display text for numbers and times (app/ui/format.py): exact, never exponent form, missing is a dash."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.events import TakerSide
from app.core.instruments import Venue
from app.ui import format as fmt


@pytest.mark.parametrize(
    ("dollars", "text"),
    [
        ("0.87", "87¢"),
        ("0.8700", "87¢"),  # Kalshi writes four decimals; whole cents lose the zeros
        ("0.875", "87.5¢"),  # sub-cent ticks keep their digits
        ("0.8750", "87.5¢"),
        ("0.8755", "87.55¢"),
        ("0.0010", "0.1¢"),
        ("0.0001", "0.01¢"),
        ("0.01", "1¢"),
        ("1.0000", "100¢"),  # never 1E+2
        ("0", "0¢"),
        ("0.00", "0¢"),
    ],
)
def test_cents(dollars: str, text: str) -> None:
    assert fmt.cents(Decimal(dollars)) == text


@pytest.mark.parametrize(
    ("dollars", "text"),
    [
        ("0.87", "87.0%"),
        ("0.8700", "87.0%"),
        ("0.875", "87.5%"),
        ("0.8755", "87.55%"),
        ("0.0010", "0.1%"),
        ("1", "100.0%"),
        ("0", "0.0%"),
    ],
)
def test_probability(dollars: str, text: str) -> None:
    assert fmt.probability(Decimal(dollars)) == text


def test_missing_values_are_a_dash_everywhere() -> None:
    assert fmt.DASH == "–"
    for text in (
        fmt.cents(None),
        fmt.probability(None),
        fmt.decimal_text(None),
        fmt.price(Venue.KALSHI, None),
        fmt.price(Venue.KRAKEN, None),
        fmt.size(Venue.KRAKEN, None),
        fmt.money(None),
        fmt.signed(None),
        fmt.count(None),
        fmt.rate(None),
        fmt.clock(None),
        fmt.age(None),
        fmt.side(Venue.KRAKEN, None),
        fmt.contracts(None),
    ):
        assert text == fmt.DASH


def test_kraken_numbers_keep_wire_precision_with_separators() -> None:
    assert fmt.price(Venue.KRAKEN, Decimal("67123.4")) == "67,123.4"
    assert (
        fmt.price(Venue.KRAKEN, Decimal("0.10000000")) == "0.10000000"
    )  # trailing zeros kept: columns align
    assert fmt.size(Venue.KRAKEN, Decimal("12345.67800000")) == "12,345.67800000"
    assert fmt.decimal_text(Decimal("1E-7")) == "0.0000001"  # never exponent form
    assert fmt.decimal_text(Decimal("1234.5")) == "1234.5"
    assert fmt.decimal_text(Decimal("1234.5"), grouped=True) == "1,234.5"


def test_kalshi_prices_are_cents_and_counts_drop_fp_zeros() -> None:
    assert fmt.price(Venue.KALSHI, Decimal("0.4200")) == "42¢"
    assert fmt.size(Venue.KALSHI, Decimal("1500.00")) == "1,500"
    assert fmt.size(Venue.KALSHI, Decimal("2.50")) == "2.5"  # fractional contracts stay visible


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        ("1.2", {}, "$1.20"),
        ("-1.2", {}, "-$1.20"),  # the sign before the symbol; ASCII so it pastes into spreadsheets
        ("1234.5", {"signed": True}, "+$1,234.50"),
        ("-0.40", {"signed": True}, "-$0.40"),
        ("0", {"signed": True}, "$0.00"),  # zero is neither gain nor loss
        ("0.0150", {}, "$0.015"),  # sub-cent amounts keep their digits
        ("-0.0001", {}, "-$0.0001"),
        ("12.3400", {}, "$12.34"),
        ("5", {"symbol": "€"}, "€5.00"),
    ],
)
def test_money(value: str, kwargs: dict[str, object], text: str) -> None:
    assert fmt.money(Decimal(value), **kwargs) == text  # type: ignore[arg-type]


def test_signed_changes() -> None:
    assert fmt.signed(Decimal("1.50")) == "+1.50"
    assert fmt.signed(Decimal("-0.25")) == "-0.25"
    assert fmt.signed(Decimal("0")) == "0"
    assert fmt.signed(Decimal("-12345.6")) == "-12,345.6"
    assert fmt.signed(Decimal("-12345.6"), grouped=False) == "-12345.6"


def test_counts_rates_and_contracts() -> None:
    assert fmt.count(0) == "0" and fmt.count(1234567) == "1,234,567"
    assert fmt.rate(0.0) == "0.0" and fmt.rate(12.34) == "12.3" and fmt.rate(123456.0) == "123,456"
    assert fmt.contracts(Decimal("12.00")) == "12 Yes"
    assert fmt.contracts(Decimal("-5")) == "5 No"
    assert fmt.contracts(Decimal("0.00")) == "0"
    assert fmt.contracts(Decimal("1500")) == "1,500 Yes"


def test_clock_is_local_time_with_exact_milliseconds() -> None:
    ts_ms = 1_700_000_000_123
    local = dt.datetime.fromtimestamp(ts_ms // 1000)
    assert fmt.clock(ts_ms) == local.strftime("%H:%M:%S") + ".123"
    assert fmt.clock(1_700_000_000_999).endswith(".999")  # no float rounding up into the next second
    assert fmt.clock(1_700_000_000_000).endswith(".000")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0.0 s"),
        (0.43, "0.4 s"),
        (9.94, "9.9 s"),
        (12.9, "12 s"),
        (59.9, "59 s"),
        (150, "2 m"),
        (7300, "2 h"),
        (200_000, "2 d"),
        (-1.0, "0.0 s"),  # a clock step never shows a negative age
    ],
)
def test_age(seconds: float, text: str) -> None:
    assert fmt.age(seconds) == text


def test_sides_and_venues() -> None:
    assert fmt.side(Venue.KALSHI, TakerSide.BUY) == "Yes"
    assert fmt.side(Venue.KALSHI, TakerSide.SELL) == "No"
    assert fmt.side(Venue.KRAKEN, TakerSide.BUY) == "Buy"
    assert fmt.side(Venue.KRAKEN, TakerSide.SELL) == "Sell"
    assert fmt.venue_name(Venue.KALSHI) == "Kalshi" and fmt.venue_name(Venue.KRAKEN) == "Kraken"


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=4))
def test_cents_round_trips_any_kalshi_price(units: int, exp: int) -> None:
    """Whatever the tick, the cents text reads back as exactly the same price."""
    dollars = Decimal(units).scaleb(-4).quantize(Decimal(1).scaleb(-exp)) if exp else Decimal(units // 10_000)
    text = fmt.cents(dollars)
    assert text.endswith("¢") and "E" not in text
    assert Decimal(text[:-1]) / 100 == dollars


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=8, allow_nan=False, allow_infinity=False))
def test_grouped_text_reads_back_exactly(value: Decimal) -> None:
    text = fmt.decimal_text(value, grouped=True)
    assert "E" not in text
    assert Decimal(text.replace(",", "")) == value
    assert Decimal(fmt.money(value).replace("$", "").replace(",", "")) == value


def test_places_and_padding_for_columns() -> None:
    assert fmt.places(Decimal("87.50")) == 1 and fmt.places(Decimal("100.00")) == 0
    assert fmt.places(Decimal("0.00150000")) == 4
    assert fmt.cents(Decimal("0.8700"), min_places=1) == "87.0¢"
    assert fmt.cents(Decimal("0.8755"), min_places=1) == "87.55¢"  # never rounded to fit
    assert fmt.price(Venue.KALSHI, Decimal("0.87"), min_places=1) == "87.0¢"
    assert fmt.price(Venue.KRAKEN, Decimal("0.87"), min_places=4) == "0.87"  # wire precision rules
    assert fmt.size(Venue.KALSHI, Decimal("1500.00"), min_places=2) == "1,500.00"


def test_column_places_line_up_kalshi_columns() -> None:
    prices = [Decimal("0.87"), Decimal("0.8750"), Decimal("0.9000")]
    assert fmt.cent_places(prices) == 1 and fmt.cent_places([Decimal("0.87")]) == 0
    assert fmt.cent_places([]) == 0
    padded = fmt.cent_places(prices)
    assert [fmt.price(Venue.KALSHI, p, padded) for p in prices] == ["87.0¢", "87.5¢", "90.0¢"]
    sizes = [Decimal("3.00"), Decimal("2.50"), Decimal("1500.00")]
    assert fmt.column_places(sizes) == 1
    assert [fmt.size(Venue.KALSHI, s, fmt.column_places(sizes)) for s in sizes] == ["3.0", "2.5", "1,500.0"]


@pytest.mark.parametrize(
    ("value", "text"),
    [("1234567.89", "1,234,568"), ("1000", "1,000"), ("12.345", "12.34"), ("0.0012345", "0.001234")],
)
def test_volume(value: str, text: str) -> None:  # Decimal rounds half-even: 12.345 -> 12.34
    assert fmt.volume(Decimal(value)) == text


def test_changes_spreads_and_countdowns() -> None:
    assert fmt.change(Venue.KALSHI, Decimal("0.01")) == "+1¢"
    assert fmt.change(Venue.KRAKEN, Decimal("-1250.5")) == "−1,250.5"  # a true minus sign, grouped
    assert fmt.change(Venue.KRAKEN, Decimal("0")) == "0" and fmt.change(Venue.KRAKEN, None) == fmt.DASH
    assert fmt.bps(Decimal("0.1"), Decimal("67000")) == "0.0 bps"
    assert fmt.bps(Decimal("10"), Decimal("67000")) == "1.5 bps"
    assert fmt.countdown(None) == "" and fmt.countdown(0) == "closed"
    assert fmt.countdown(245) == "4m 05s" and fmt.countdown(3 * 3600 + 420) == "3h 07m"
    assert fmt.countdown(53 * 3600) == "2d 5h"


def test_axis_ticks_group_like_the_tables() -> None:
    assert fmt.axis_ticks([67120.0, 67130.0], 10.0) == ["67,120", "67,130"]
    assert fmt.axis_ticks([0.1, 0.15], 0.05) == ["0.10", "0.15"]  # the decimals the spacing needs
    assert fmt.axis_ticks([1_250_000.0], 50_000.0) == ["1,250,000"]  # never 1.25e+06
    assert fmt.axis_ticks([45.0], 0.0) == ["45"]


def test_only_format_py_writes_prices_and_sizes() -> None:
    """No view carries its own price formatting (``f"{price:f}"``, ``f"{cents}¢"``): a second formatter is
    how the ladder once showed Kraken prices without the separators the watchlist had."""

    ui = Path(fmt.__file__).parent
    pattern = re.compile(r":,?f\}|\}¢")
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(ui.glob("*.py"))
        if path.name != "format.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found, "\n".join(found)
