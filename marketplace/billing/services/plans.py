"""The plans on sale, kept in step with Stripe's products and prices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marketplace.billing.stripe_client import idempotent, object_id, sget, stripe_client
from marketplace.models import Plan


@dataclass(frozen=True)
class PlanSpec:
    code: str
    name: str
    description: str
    amount_cents: int
    requires: str | None
    sort_order: int


def plan_specs() -> list[PlanSpec]:
    return [
        PlanSpec(
            code=Plan.Code.PREMIUM,
            name="Premium",
            description="Browse and preview every licensed track, save drafts, follow artists.",
            amount_cents=settings.PREMIUM_PRICE_CENTS,
            requires=None,
            sort_order=1,
        ),
        PlanSpec(
            code=Plan.Code.REMIX_ADDON,
            name="Remix add-on",
            description="Open the studio, separate stems and export remixes. Requires Premium.",
            amount_cents=settings.REMIX_ADDON_PRICE_CENTS,
            requires=Plan.Code.PREMIUM,
            sort_order=2,
        ),
    ]


def plan_lookup_key(spec: PlanSpec, currency: str) -> str:
    return f"clearmix_{spec.code}_monthly_{currency}"


def _product_ensure(client: stripe.StripeClient, spec: PlanSpec) -> Any:
    product_id = f"prod_clearmix_{spec.code}"
    try:
        return client.v1.products.retrieve(product_id)
    except stripe.InvalidRequestError:
        return client.v1.products.create(
            params={
                "id": product_id,
                "name": f"Clearmix {spec.name}",
                "description": spec.description,
                "metadata": {"clearmix_plan": spec.code},
            },
            options=idempotent(f"clearmix-product-{spec.code}"),
        )


def _price_ensure(
    client: stripe.StripeClient,
    spec: PlanSpec,
    *,
    product: Any,
    currency: str,
    log: Callable[[str], Any] | None,
) -> Any:
    lookup_key = plan_lookup_key(spec, currency)
    found = client.v1.prices.list(params={"lookup_keys": [lookup_key], "limit": 1})
    price = next(iter(sget(found, "data", default=[])), None)
    if (
        price is not None
        and sget(price, "unit_amount") == spec.amount_cents
        and sget(price, "active", default=True)
    ):
        if log:
            log(f"found price {price.id} for {spec.code}")
        return price
    # A changed amount is a new price; transfer_lookup_key moves the key
    # so existing subscribers keep their old price until migrated.
    price = client.v1.prices.create(
        params={
            "product": object_id(product),
            "unit_amount": spec.amount_cents,
            "currency": currency,
            "recurring": {"interval": "month"},
            "lookup_key": lookup_key,
            "transfer_lookup_key": True,
            "metadata": {"clearmix_plan": spec.code},
        },
        options=idempotent(f"clearmix-price-{spec.code}-{currency}-{spec.amount_cents}"),
    )
    if log:
        log(f"created price {price.id} for {spec.code}")
    return price


def plan_catalog_sync(*, log: Callable[[str], Any] | None = None) -> list[Plan]:
    """Create the Stripe products and prices once, find them by lookup_key
    afterwards, and store their ids locally. Safe to run any number of times."""
    client = stripe_client()
    currency = settings.STRIPE_CURRENCY.lower()
    plans: list[Plan] = []
    for spec in plan_specs():
        product = _product_ensure(client, spec)
        price = _price_ensure(client, spec, product=product, currency=currency, log=log)
        plans.append(_plan_store(spec=spec, currency=currency, product=product, price=price))
    return plans


@transaction.atomic
def _plan_store(*, spec: PlanSpec, currency: str, product: Any, price: Any) -> Plan:
    requires = Plan.objects.get(code=spec.requires) if spec.requires else None
    plan, _ = Plan.objects.update_or_create(
        code=spec.code,
        defaults={
            "name": spec.name,
            "description": spec.description,
            "amount_cents": spec.amount_cents,
            "currency": currency,
            "interval": "month",
            "lookup_key": plan_lookup_key(spec, currency),
            "stripe_product_id": object_id(product),
            "stripe_price_id": price.id,
            "requires": requires,
            "sort_order": spec.sort_order,
            "synced_at": timezone.now(),
        },
    )
    return plan
