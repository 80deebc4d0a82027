"""Stripe Connect's onboarding requirements in words a person reads.

Stripe names what it still needs with keys ("individual.dob.day",
"business_profile.mcc", "external_account"). Artists see what to provide, in
order, once each; an unknown key is shown as cleaned-up words rather than hidden.
"""

from __future__ import annotations

from collections.abc import Iterable

# Most specific first: the first prefix that matches a key names it.
LABELS: tuple[tuple[str, str], ...] = (
    ("individual.dob", "Your date of birth"),
    ("individual.address", "Your home address"),
    ("individual.first_name", "Your legal name"),
    ("individual.last_name", "Your legal name"),
    ("individual.email", "Your email address"),
    ("individual.phone", "Your phone number"),
    ("individual.id_number", "Your ID number"),
    ("individual.ssn_last_4", "The last four digits of your Social Security number"),
    ("individual.verification.document", "A photo of your ID document"),
    ("individual.verification.additional_document", "A second identity document"),
    ("business_profile.mcc", "What kind of business you run (your industry)"),
    ("business_profile.url", "Your website or a profile page about your work"),
    ("business_profile.product_description", "A short description of what you sell"),
    ("business_type", "Whether you are paid as an individual or a company"),
    ("company.", "Your company's details"),
    ("external_account", "The bank account your payouts go to"),
    ("tos_acceptance", "Accepting Stripe's terms of service"),
    ("representative.", "Details of your company's representative"),
    ("owners.", "Details of your company's owners"),
    ("directors.", "Details of your company's directors"),
)


def requirement_label(key: str) -> str:
    for prefix, label in LABELS:
        stem = prefix.rstrip(".")
        if key == stem or key.startswith(f"{stem}."):
            return label
    words = key.replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def requirement_labels(keys: Iterable[str]) -> list[str]:
    """Each distinct thing Stripe needs, once, in the order Stripe listed it."""
    seen: list[str] = []
    for key in keys:
        label = requirement_label(str(key))
        if label not in seen:
            seen.append(label)
    return seen
