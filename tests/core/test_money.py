"""core.money: the one money formatter (pure, no database)."""

from __future__ import annotations

import pytest

from core.money import format_money, minor_units_text


@pytest.mark.parametrize(
    ("cents", "currency", "shown"),
    [
        (499, "usd", "$4.99"),
        (750, "EUR", "€7.50"),
        (123456789, "gbp", "£1,234,567.89"),
        (5, "usd", "$0.05"),
        (0, "usd", "$0.00"),
        (None, "usd", "$0.00"),
        (-1999, "usd", "-$19.99"),
        (500, "jpy", "500 JPY"),
        (1234567, "krw", "1,234,567 KRW"),
        (1050, "chf", "10.50 CHF"),
        (-5, "chf", "-0.05 CHF"),
    ],
)
def test_format_money(cents, currency, shown):
    assert format_money(cents, currency) == shown


@pytest.mark.parametrize(
    ("cents", "currency", "shown"),
    [(1299, "usd", "12.99 USD"), (-100, "eur", "-1.00 EUR"), (7, "jpy", "7 JPY")],
)
def test_format_money_with_code(cents, currency, shown):
    assert format_money(cents, currency, with_code=True) == shown


def test_plain_text_for_exports():
    assert minor_units_text(123456, "usd", grouped=False) == "1234.56"
    assert minor_units_text(-123456, "usd") == "-1,234.56"
    assert minor_units_text(123456, "jpy", grouped=False) == "123456"


def test_large_amounts_are_exact():
    # A float would lose the last cent here.
    assert format_money(2**53 + 1, "usd", with_code=True) == "90,071,992,547,409.93 USD"
