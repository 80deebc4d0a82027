"""Test card numbers and what they do (a subset of https://stripe.com/docs/testing)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class CardBehaviour:
    brand: str
    funding: str = "credit"
    country: str = "US"
    # None: succeeds. Otherwise (code, decline_code, message) of the card_error.
    decline: tuple[str, str | None, str] | None = None
    # Attaching and the first (on-session) payment succeed, later off-session charges fail.
    fails_off_session: bool = False


_GENERIC_DECLINE = ("card_declined", "generic_decline", "Your card was declined.")

TEST_CARDS: dict[str, CardBehaviour] = {
    "4242424242424242": CardBehaviour("visa"),
    "4000056655665556": CardBehaviour("visa", funding="debit"),
    "5555555555554444": CardBehaviour("mastercard"),
    "4000000000000002": CardBehaviour("visa", decline=_GENERIC_DECLINE),
    "4000000000009995": CardBehaviour(
        "visa", decline=("card_declined", "insufficient_funds", "Your card has insufficient funds.")
    ),
    "4000000000000069": CardBehaviour(
        "visa", decline=("expired_card", None, "Your card has expired.")
    ),
    "4000000000000341": CardBehaviour("visa", fails_off_session=True),
}

DEFAULT_CARD = "4242424242424242"


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch)
        if i % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def normalize(number: str) -> str:
    return "".join(ch for ch in number if not ch.isspace() and ch != "-")


def lookup(number: str) -> CardBehaviour | None:
    """The behaviour of a card number, or None when it is not a valid card number."""
    if number in TEST_CARDS:
        return TEST_CARDS[number]
    if not number.isdigit() or not 12 <= len(number) <= 19 or not luhn_ok(number):
        return None
    brand = {"4": "visa", "5": "mastercard", "3": "amex", "6": "discover"}.get(number[0], "unknown")
    return CardBehaviour(brand)


def fingerprint(number: str) -> str:
    return hashlib.sha256(number.encode()).hexdigest()[:16]
