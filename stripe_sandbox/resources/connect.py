"""Connect Express accounts, account links and the onboarding state machine.

A new account can't receive transfers: ``capabilities.transfers`` is ``inactive``,
``charges_enabled``/``payouts_enabled``/``details_submitted`` are false and
``requirements.currently_due`` lists what onboarding collects. The hosted
onboarding page (``hosted/onboarding_page.py``) calls :func:`complete_onboarding`
or :func:`leave_requirements_due`; both emit ``account.updated`` carrying
``account`` like a real Connect event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import invalid
from ..events import diff, emit
from ..formparse import apply_metadata, get_bool, get_dict, get_str
from ..ids import random_token
from ..listing import paginate
from ..render import sublist
from ..router import api
from .common import parse_address, rendered, require

if TYPE_CHECKING:
    from ..core import Ctx

INITIAL_REQUIREMENTS = [
    "business_profile.mcc",
    "business_profile.url",
    "business_type",
    "external_account",
    "individual.dob.day",
    "individual.dob.month",
    "individual.dob.year",
    "individual.email",
    "individual.first_name",
    "individual.last_name",
    "individual.phone",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]
# What "Leave requirements due" leaves outstanding: the user filled in the profile but never
# added a bank account or accepted the terms.
PARTIAL_REQUIREMENTS = ["external_account", "tos_acceptance.date", "tos_acceptance.ip"]
COUNTRY_CURRENCY = {"US": "usd", "GB": "gbp", "CA": "cad", "AU": "aud", "JP": "jpy", "CH": "chf"}
EURO_COUNTRIES = {"AT", "BE", "DE", "ES", "FI", "FR", "IE", "IT", "LU", "NL", "PT"}
BUSINESS_PROFILE_FIELDS = (
    "mcc",
    "name",
    "product_description",
    "support_email",
    "support_phone",
    "support_url",
    "url",
)


def _requirements(due: list[str]) -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": "requirements.past_due" if due else None,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


def _business_profile(
    params: dict[str, Any], current: dict[str, Any] | None = None
) -> dict[str, Any]:
    profile = dict(current or {**dict.fromkeys(BUSINESS_PROFILE_FIELDS), "support_address": None})
    raw = get_dict(params, "business_profile")
    for field in BUSINESS_PROFILE_FIELDS:
        if field in raw:
            profile[field] = get_str(raw, field, param=f"business_profile[{field}]")
    if "support_address" in raw:
        profile["support_address"] = parse_address(raw, "support_address")
    return profile


@api("POST", "/v1/accounts")
def create_account(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    account_type = get_str(params, "type") or "express"
    if account_type != "express":
        raise invalid("The Stripe sandbox only supports `express` accounts.", param="type")
    country = (get_str(params, "country") or "US").upper()
    currency = COUNTRY_CURRENCY.get(country, "eur" if country in EURO_COUNTRIES else "usd")
    capabilities = {"transfers": "inactive"}
    for name, spec in get_dict(params, "capabilities").items():
        if not isinstance(spec, dict):
            raise invalid("Invalid object", param=f"capabilities[{name}]")
        if get_bool(spec, "requested", param=f"capabilities[{name}][requested]"):
            capabilities[name] = "inactive"
    account_id = "acct_1" + random_token(15)
    email = get_str(params, "email")
    business_type = get_str(params, "business_type")
    account = {
        "id": account_id,
        "object": "account",
        "business_profile": _business_profile(params),
        "business_type": business_type,
        "capabilities": dict(sorted(capabilities.items())),
        "charges_enabled": False,
        "controller": {"is_controller": True, "type": "application"},
        "country": country,
        "created": ctx.now(),
        "default_currency": (get_str(params, "default_currency") or currency).lower(),
        "details_submitted": False,
        "email": email,
        "external_accounts": sublist(f"/v1/accounts/{account_id}/external_accounts", []),
        "future_requirements": _requirements([]),
        "metadata": apply_metadata({}, params),
        "payouts_enabled": False,
        "requirements": _requirements(INITIAL_REQUIREMENTS),
        "settings": {
            "bacs_debit_payments": {},
            "branding": {
                "icon": None,
                "logo": None,
                "primary_color": None,
                "secondary_color": None,
            },
            "card_issuing": {"tos_acceptance": {"date": None, "ip": None}},
            "card_payments": {
                "decline_on": {"avs_failure": False, "cvc_failure": False},
                "statement_descriptor_prefix": None,
            },
            "dashboard": {"display_name": None, "timezone": "Etc/UTC"},
            "payments": {
                "statement_descriptor": None,
                "statement_descriptor_kana": None,
                "statement_descriptor_kanji": None,
            },
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {"delay_days": 2, "interval": "daily"},
                "statement_descriptor": None,
            },
            "sepa_debit_payments": {},
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": account_type,
    }
    ctx.store.insert(account)
    ctx.store.balance(account_id)
    # Stripe sends no event for account creation; the first one is account.updated.
    return rendered(ctx, account)


@api("GET", "/v1/accounts/{account}")
def retrieve_account(ctx: Ctx, params: dict[str, Any], account: str) -> dict[str, Any]:
    return rendered(ctx, require(ctx, account, "account"))


@api("POST", "/v1/accounts/{account}")
def update_account(ctx: Ctx, params: dict[str, Any], account: str) -> dict[str, Any]:
    acct = require(ctx, account, "account")
    before = rendered(ctx, acct)
    if "email" in params:
        acct["email"] = get_str(params, "email")
    if "business_profile" in params:
        acct["business_profile"] = _business_profile(params, acct["business_profile"])
    if "business_type" in params:
        acct["business_type"] = get_str(params, "business_type")
    acct["metadata"] = apply_metadata(acct["metadata"], params)
    return _announce(ctx, acct, before)


@api("GET", "/v1/accounts")
def list_accounts(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(ctx, ctx.store.all("accounts"), params, "/v1/accounts")


def _announce(ctx: Ctx, acct: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    after = rendered(ctx, acct)
    changes = diff(before, after)
    if changes:
        ctx.store.touch()
        emit(ctx, "account.updated", after, changes, account=acct["id"])
    return after


def complete_onboarding(ctx: Ctx, acct: dict[str, Any]) -> dict[str, Any]:
    """The user finished onboarding: everything enabled, nothing due."""
    before = rendered(ctx, acct)
    now = ctx.now()
    profile = acct["business_profile"]
    profile["mcc"] = profile["mcc"] or "5735"  # record stores
    profile["url"] = profile["url"] or "https://example.com"
    acct["business_type"] = acct["business_type"] or "individual"
    acct["capabilities"] = dict.fromkeys(acct["capabilities"], "active")
    acct["charges_enabled"] = True
    acct["payouts_enabled"] = True
    acct["details_submitted"] = True
    acct["requirements"] = _requirements([])
    acct["tos_acceptance"] = {"date": now, "ip": "127.0.0.1", "user_agent": "stripe-sandbox"}
    return _announce(ctx, acct, before)


def leave_requirements_due(ctx: Ctx, acct: dict[str, Any]) -> dict[str, Any]:
    """The user left onboarding part-way: profile filled in, account still restricted."""
    before = rendered(ctx, acct)
    profile = acct["business_profile"]
    profile["mcc"] = profile["mcc"] or "5735"
    profile["url"] = profile["url"] or "https://example.com"
    acct["business_type"] = acct["business_type"] or "individual"
    if not acct["details_submitted"]:
        acct["requirements"] = _requirements(PARTIAL_REQUIREMENTS)
    return _announce(ctx, acct, before)


@api("POST", "/v1/account_links")
def create_account_link(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    account_id = get_str(params, "account", required=True)
    link_type = get_str(params, "type", required=True)
    if link_type not in ("account_onboarding", "account_update"):
        raise invalid(
            "Invalid type: must be one of account_onboarding or account_update", param="type"
        )
    acct = require(ctx, account_id, "account", param="account", status=400)
    if link_type == "account_update" and acct["type"] == "express":
        raise invalid(
            "You cannot create `account_update` type Account Links for Express accounts.",
            param="type",
        )
    urls = {}
    for name in ("refresh_url", "return_url"):
        url = get_str(params, name, required=True)
        if url is not None and not url.lower().startswith(("http://", "https://")):
            raise invalid("Not a valid URL", param=name, code="url_invalid")
        urls[name] = url
    now = ctx.now()
    token = random_token(24)
    expires_at = now + ctx.config.account_link_ttl
    ctx.store.link_tokens[token] = {
        "account": account_id,
        "type": link_type,
        "expires_at": expires_at,
        "used": False,
        **urls,
    }
    ctx.store.touch()
    return {
        "object": "account_link",
        "created": now,
        "expires_at": expires_at,
        "url": f"{ctx.base_url}/connect/onboard/{token}",
    }
