"""Every billing write.

Pattern for a POST to Stripe (issue rule: idempotency on every POST, keyed by
our own ids and saved on our record before the call):
  1. in a short transaction, create/lock our row and store the idempotency key;
  2. call Stripe with that key, outside any lock we do not need;
  3. in a second transaction, store what Stripe answered.
A crash between 1 and 3 is repaired by calling the service again: the same key
makes Stripe return the same object instead of creating a second one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.errors import Conflict, DomainError, NotFound
from marketplace.models import (
    BillingCustomer,
    Order,
    Plan,
    Subscription,
    SubscriptionCheckout,
)

from . import signals
from .entitlements import fan_entitlement
from .remixes import remix_purchase_check, remix_transfer_group
from .stripe_client import idempotency_key, idempotent, object_id, sget, stripe_client

logger = logging.getLogger(__name__)

# How long an open Checkout page is reused instead of making a new one.
CHECKOUT_REUSE_SECONDS = 60 * 60


def _ts(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _stripe_failure(exc: stripe.StripeError) -> DomainError:
    logger.warning("Stripe call failed: %s", exc)
    return DomainError(
        "Our payment provider could not be reached. Nothing was charged; please try again.",
        code="payment_provider_error",
        status_code=502,
    )


# --------------------------------------------------------------------------- plans


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


def _lookup_key(spec: PlanSpec, currency: str) -> str:
    return f"clearmix_{spec.code}_monthly_{currency}"


def plan_catalog_sync(*, log: Any = None) -> list[Plan]:
    """Create the Stripe products and prices once, find them by lookup_key
    afterwards, and store their ids locally. Safe to run any number of times."""
    client = stripe_client()
    currency = settings.STRIPE_CURRENCY.lower()
    plans: list[Plan] = []
    for spec in plan_specs():
        lookup_key = _lookup_key(spec, currency)
        product_id = f"prod_clearmix_{spec.code}"
        try:
            product = client.v1.products.retrieve(product_id)
        except stripe.InvalidRequestError:
            product = client.v1.products.create(
                params={
                    "id": product_id,
                    "name": f"Clearmix {spec.name}",
                    "description": spec.description,
                    "metadata": {"clearmix_plan": spec.code},
                },
                options=idempotent(f"clearmix-product-{spec.code}"),
            )
        found = client.v1.prices.list(params={"lookup_keys": [lookup_key], "limit": 1})
        price = next(iter(sget(found, "data", default=[])), None)
        if (
            price is None
            or sget(price, "unit_amount") != spec.amount_cents
            or not sget(price, "active", default=True)
        ):
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
        elif log:
            log(f"found price {price.id} for {spec.code}")
        plans.append(
            _plan_store(
                spec=spec, currency=currency, lookup_key=lookup_key, product=product, price=price
            )
        )
    return plans


@transaction.atomic
def _plan_store(
    *, spec: PlanSpec, currency: str, lookup_key: str, product: Any, price: Any
) -> Plan:
    requires = Plan.objects.get(code=spec.requires) if spec.requires else None
    plan, _ = Plan.objects.update_or_create(
        code=spec.code,
        defaults={
            "name": spec.name,
            "description": spec.description,
            "amount_cents": spec.amount_cents,
            "currency": currency,
            "interval": "month",
            "lookup_key": lookup_key,
            "stripe_product_id": object_id(product),
            "stripe_price_id": price.id,
            "requires": requires,
            "sort_order": spec.sort_order,
            "synced_at": timezone.now(),
        },
    )
    return plan


# ------------------------------------------------------------------------ customers


def _customer_reserve(*, user: Any) -> BillingCustomer:
    with transaction.atomic():
        customer, _ = BillingCustomer.objects.get_or_create(
            user=user, defaults={"idempotency_key": idempotency_key("customer-user", user.pk)}
        )
    return customer


def billing_customer_ensure(*, user: Any) -> BillingCustomer:
    """The user's Stripe Customer, created exactly once."""
    customer = _customer_reserve(user=user)
    if customer.stripe_customer_id:
        return customer
    try:
        created = stripe_client().v1.customers.create(
            params={
                "email": user.email,
                "name": str(user),
                "metadata": {"clearmix_user_id": str(user.pk)},
            },
            options=idempotent(customer.idempotency_key),
        )
    except stripe.StripeError as exc:
        raise _stripe_failure(exc) from exc
    with transaction.atomic():
        BillingCustomer.objects.filter(pk=customer.pk, stripe_customer_id="").update(
            stripe_customer_id=created.id
        )
    customer.refresh_from_db()
    return customer


# -------------------------------------------------------------------- subscriptions


def _plan_for_checkout(code: str) -> Plan:
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise NotFound("No such plan.")
    if not plan.stripe_price_id:
        raise DomainError(
            "This plan is not on sale yet (run `manage.py stripe_sync_catalog`).",
            code="plan_not_synced",
        )
    return plan


def subscription_checkout_start(
    *, user: Any, plan_code: str, success_url: str, cancel_url: str
) -> SubscriptionCheckout:
    """Open (or reuse) a Checkout Session in subscription mode for one plan.

    `success_url` should contain "{CHECKOUT_SESSION_ID}" so the success page can
    poll the outcome; the redirect itself grants nothing.
    """
    plan = _plan_for_checkout(plan_code)
    entitlement = fan_entitlement(user=user)
    if plan.code == Plan.Code.PREMIUM and entitlement.premium_active:
        raise Conflict("You already have Premium.", code="already_subscribed")
    if plan.code == Plan.Code.REMIX_ADDON:
        if entitlement.remix_addon_active:
            raise Conflict("You already have the Remix add-on.", code="already_subscribed")
        if not entitlement.premium_active:
            raise DomainError(
                "The Remix add-on requires an active Premium subscription. "
                "Subscribe to Premium first.",
                code="premium_required",
            )
    customer = billing_customer_ensure(user=user)

    with transaction.atomic():
        cutoff = timezone.now() - timezone.timedelta(seconds=CHECKOUT_REUSE_SECONDS)
        reusable = (
            SubscriptionCheckout.objects.select_for_update()
            .filter(
                user=user,
                plan=plan,
                status=SubscriptionCheckout.Status.OPEN,
                created_at__gte=cutoff,
            )
            .exclude(checkout_url="")
            .first()
        )
        if reusable is not None:
            return reusable
        attempt = SubscriptionCheckout.objects.create(user=user, plan=plan)
        attempt.idempotency_key = idempotency_key("subscription-checkout", attempt.pk)
        attempt.save(update_fields=["idempotency_key"])

    metadata = {"clearmix_user_id": str(user.pk), "clearmix_plan": plan.code}
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer.stripe_customer_id,
                "client_reference_id": str(user.pk),
                "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
                "success_url": success_url,
                "cancel_url": cancel_url,
                "metadata": {**metadata, "clearmix_checkout_id": str(attempt.pk)},
                "subscription_data": {"metadata": metadata},
            },
            options=idempotent(attempt.idempotency_key),
        )
    except stripe.StripeError as exc:
        raise _stripe_failure(exc) from exc
    with transaction.atomic():
        attempt.stripe_checkout_session_id = session.id
        attempt.checkout_url = session.url or ""
        attempt.status = SubscriptionCheckout.Status.OPEN
        attempt.save(
            update_fields=["stripe_checkout_session_id", "checkout_url", "status", "updated_at"]
        )
    return attempt


def _plan_for_stripe_subscription(sub: Any) -> Plan | None:
    for item in sget(sub, "items", "data", default=[]):
        price_id = object_id(sget(item, "price"))
        plan = Plan.objects.filter(stripe_price_id=price_id).first()
        if plan is None:
            lookup_key = sget(item, "price", "lookup_key")
            plan = Plan.objects.filter(lookup_key=lookup_key).first() if lookup_key else None
        if plan is not None:
            return plan
    code = sget(sub, "metadata", "clearmix_plan")
    return Plan.objects.filter(code=code).first() if code else None


def _user_for_stripe_subscription(sub: Any) -> Any:
    # Only through the Customer we created: metadata user ids are not trusted
    # because ids repeat across databases (a reset DB against the same Stripe
    # account would otherwise adopt someone else's subscription).
    customer_id = object_id(sget(sub, "customer"))
    customer = (
        BillingCustomer.objects.select_related("user")
        .filter(stripe_customer_id=customer_id)
        .first()
    )
    return customer.user if customer is not None else None


def _period_end(sub: Any) -> datetime | None:
    # Newer API versions moved current_period_end onto the subscription items.
    top = sget(sub, "current_period_end")
    if top:
        return _ts(top)
    ends = [sget(item, "current_period_end") for item in sget(sub, "items", "data", default=[])]
    ends = [end for end in ends if end]
    return _ts(min(ends)) if ends else None


@transaction.atomic
def subscription_sync_from_stripe(
    *, stripe_subscription: Any, state_at: datetime
) -> Subscription | None:
    """Make our copy match a Subscription object Stripe gave us.

    Callers pass a freshly retrieved object (webhooks re-fetch), so applying it
    is always moving forward; `state_at` still guards against an older API
    answer overtaking a newer one, and a terminal status is never left.
    """
    sub_id = object_id(stripe_subscription)
    existing = (
        Subscription.objects.select_for_update().filter(stripe_subscription_id=sub_id).first()
    )
    status = str(sget(stripe_subscription, "status"))
    if existing is not None:
        if existing.stripe_state_at and state_at < existing.stripe_state_at:
            return existing
        if existing.status in Subscription.TERMINAL and status not in Subscription.TERMINAL:
            return existing
        subscription = existing
    else:
        user = _user_for_stripe_subscription(stripe_subscription)
        plan = _plan_for_stripe_subscription(stripe_subscription)
        if user is None or plan is None:
            logger.warning("Subscription %s matches no user or plan of ours; skipped.", sub_id)
            return None
        subscription = Subscription(
            user=user,
            plan=plan,
            stripe_subscription_id=sub_id,
            stripe_customer_id=object_id(sget(stripe_subscription, "customer")),
        )
    previous_status = subscription.status if existing else None
    subscription.status = status
    subscription.cancel_at_period_end = bool(
        sget(stripe_subscription, "cancel_at_period_end", default=False)
    )
    subscription.current_period_end = _period_end(stripe_subscription)
    subscription.canceled_at = _ts(sget(stripe_subscription, "canceled_at"))
    subscription.stripe_state_at = state_at
    subscription.save()
    SubscriptionCheckout.objects.filter(
        stripe_subscription_id=sub_id, status=SubscriptionCheckout.Status.OPEN
    ).update(status=SubscriptionCheckout.Status.COMPLETE)
    if previous_status != status:
        payload = {
            "subscription_id": subscription.pk,
            "user_id": subscription.user_id,
            "plan_code": subscription.plan.code,
            "status": status,
        }
        transaction.on_commit(
            lambda: signals.subscription_changed.send_robust(sender=Subscription, **payload)
        )
    return subscription


def subscription_refresh(*, stripe_subscription_id: str) -> Subscription | None:
    """Re-fetch a subscription from Stripe and apply it (the out-of-order cure)."""
    fetched_at = timezone.now()
    sub = stripe_client().v1.subscriptions.retrieve(stripe_subscription_id)
    return subscription_sync_from_stripe(stripe_subscription=sub, state_at=fetched_at)


@transaction.atomic
def subscription_checkout_link(*, session: Any) -> SubscriptionCheckout | None:
    """Remember which subscription a completed Checkout produced."""
    attempt = (
        SubscriptionCheckout.objects.select_for_update()
        .filter(stripe_checkout_session_id=object_id(session))
        .first()
    )
    if attempt is None:
        return None
    attempt.stripe_subscription_id = object_id(sget(session, "subscription"))
    if attempt.status != SubscriptionCheckout.Status.COMPLETE:
        attempt.status = SubscriptionCheckout.Status.OPEN
    attempt.save(update_fields=["stripe_subscription_id", "status", "updated_at"])
    return attempt


@transaction.atomic
def subscription_checkout_expire(*, session: Any) -> None:
    SubscriptionCheckout.objects.filter(
        stripe_checkout_session_id=object_id(session),
        status__in=[SubscriptionCheckout.Status.CREATED, SubscriptionCheckout.Status.OPEN],
        stripe_subscription_id="",
    ).update(status=SubscriptionCheckout.Status.EXPIRED, updated_at=timezone.now())


def subscription_cancel_at_period_end_set(
    *, subscription: Subscription, cancel: bool
) -> Subscription:
    """Ask Stripe to (not) cancel at the end of the period; store its answer."""
    if subscription.status in Subscription.TERMINAL:
        raise Conflict("This subscription has already ended.", code="subscription_ended")
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        locked.change_seq = F("change_seq") + 1
        locked.save(update_fields=["change_seq"])
        locked.refresh_from_db(fields=["change_seq"])
        # A fresh key per change: toggling on, off, on must not replay the first answer.
        locked.last_idempotency_key = idempotency_key(
            "subscription-update", f"{locked.pk}-{locked.change_seq}"
        )
        locked.save(update_fields=["last_idempotency_key"])
    try:
        answer = stripe_client().v1.subscriptions.update(
            locked.stripe_subscription_id,
            params={"cancel_at_period_end": cancel},
            options=idempotent(locked.last_idempotency_key),
        )
    except stripe.StripeError as exc:
        raise _stripe_failure(exc) from exc
    return (
        subscription_sync_from_stripe(stripe_subscription=answer, state_at=timezone.now()) or locked
    )


# ---------------------------------------------------------------------------- orders


def order_checkout_start(*, fan: Any, remix: Any, success_url: str, cancel_url: str) -> Order:
    """Start paying for a remix export: Checkout in payment mode.

    Refuses a remix that is not the fan's, not remixable, or already paid, and a
    fan without Premium + Remix add-on. Re-running it for the same remix reuses
    the pending order and, through its idempotency key, the same session.
    """
    entitlement = fan_entitlement(user=fan)
    if not entitlement.can_remix:
        raise DomainError(
            " ".join(item["message"] for item in entitlement.missing),
            code="not_entitled",
        )
    remix_purchase_check(fan=fan, remix=remix)
    if Order.objects.filter(remix=remix, paid_at__isnull=False, status__in=Order.LIVE).exists():
        raise Conflict("This remix is already paid for.", code="already_paid")
    customer = billing_customer_ensure(user=fan)

    with transaction.atomic():
        live = (
            Order.objects.select_for_update()
            .filter(remix_id=remix.pk, status__in=Order.LIVE)
            .first()
        )
        if live is not None and live.status != Order.Status.PENDING:
            raise Conflict("This remix is already paid for.", code="already_paid")
        if live is not None and live.fan_id != fan.pk:
            raise Conflict("Someone else is paying for this remix.", code="order_in_progress")
        order = live
        if order is None:
            order = Order.objects.create(
                fan=fan,
                remix=remix,
                amount_cents=settings.REMIX_PRICE_CENTS,
                currency=settings.STRIPE_CURRENCY.lower(),
                transfer_group=remix_transfer_group(remix),
            )
            order.idempotency_key = idempotency_key("order-checkout", order.pk)
            order.save(update_fields=["idempotency_key"])
        elif order.checkout_url:
            return order

    metadata = {
        "clearmix_order_id": str(order.pk),
        "clearmix_remix_id": str(order.remix_id),
        "clearmix_user_id": str(fan.pk),
    }
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "customer": customer.stripe_customer_id,
                "client_reference_id": str(fan.pk),
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": order.currency,
                            "unit_amount": order.amount_cents,
                            "product_data": {
                                "name": f"Remix export #{order.remix_id}",
                                "metadata": {"clearmix_remix_id": str(order.remix_id)},
                            },
                        },
                    }
                ],
                "payment_intent_data": {
                    "transfer_group": order.transfer_group,
                    "metadata": metadata,
                },
                "metadata": metadata,
                "success_url": success_url,
                "cancel_url": cancel_url,
            },
            options=idempotent(order.idempotency_key),
        )
    except stripe.StripeError as exc:
        raise _stripe_failure(exc) from exc
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(
            stripe_checkout_session_id=session.id,
            checkout_url=session.url or "",
            updated_at=timezone.now(),
        )
    order.refresh_from_db()
    return order


def _order_for_session(session: Any) -> Order | None:
    order_id = sget(session, "metadata", "clearmix_order_id")
    query = Order.objects.select_for_update()
    if order_id:
        return query.filter(pk=int(order_id)).first()
    return query.filter(stripe_checkout_session_id=object_id(session)).first()


def _charge_for(payment_intent_id: str) -> Any:
    """The intent's successful charge, re-fetched: refunds or disputes that
    happened before this (late) event reached us are on it."""
    if not payment_intent_id:
        return None
    client = stripe_client()
    intent = client.v1.payment_intents.retrieve(payment_intent_id)
    charge_id = object_id(sget(intent, "latest_charge"))
    if not charge_id:
        charges = sget(intent, "charges", "data", default=[])  # 2020-08-27 shape
        charge_id = object_id(charges[-1]) if charges else ""
    return client.v1.charges.retrieve(charge_id) if charge_id else None


@transaction.atomic
def order_mark_paid(*, session: Any) -> Order | None:
    """A Checkout Session says the order is paid. Moves pending/cancelled → paid
    once; any later state (refunded, disputed) is left alone."""
    order = _order_for_session(session)
    if order is None:
        return None
    if order.paid_at is not None:
        return order
    if sget(session, "payment_status") != "paid":
        return order
    amount = sget(session, "amount_total")
    currency = str(sget(session, "currency", default="")).lower()
    if amount != order.amount_cents or currency != order.currency:
        # Should never happen (we set the price); keep Stripe's truth visible.
        logger.error(
            "Order %s paid %s %s, expected %s %s",
            order.pk,
            amount,
            currency,
            order.amount_cents,
            order.currency,
        )
    payment_intent_id = object_id(sget(session, "payment_intent"))
    charge = _charge_for(payment_intent_id)
    order.stripe_checkout_session_id = order.stripe_checkout_session_id or object_id(session)
    order.stripe_payment_intent_id = payment_intent_id
    order.stripe_charge_id = object_id(charge)
    order.status = Order.Status.PAID
    order.paid_at = timezone.now()
    order.cancelled_at = None
    order.save()
    order_id = order.pk
    transaction.on_commit(lambda: signals.order_paid.send_robust(sender=Order, order_id=order_id))
    if charge is not None:
        # Catch up with anything that happened to the charge before we heard of it.
        if int(sget(charge, "amount_refunded", default=0)):
            order.refund_reason = order.refund_reason or "Refunded by Clearmix support."
            _apply_refunded(order, int(sget(charge, "amount_refunded")))
        dispute_id = object_id(sget(charge, "dispute"))
        if dispute_id:
            dispute = stripe_client().v1.disputes.retrieve(dispute_id)
            _apply_dispute(order, dispute=dispute, state_at=timezone.now())
    return order


@transaction.atomic
def order_checkout_expire(*, session: Any) -> Order | None:
    order = _order_for_session(session)
    if order is None or order.status != Order.Status.PENDING:
        return order
    order.status = Order.Status.CANCELLED
    order.cancelled_at = timezone.now()
    order.save(update_fields=["status", "cancelled_at", "updated_at"])
    return order


def _refund_status(order: Order) -> str:
    if order.dispute_status and order.dispute_status not in ("won", "warning_closed"):
        return Order.Status.DISPUTED
    if order.refunded_cents >= order.amount_cents:
        return Order.Status.REFUNDED
    if order.refunded_cents > 0:
        return Order.Status.PARTIALLY_REFUNDED
    return Order.Status.PAID


def _apply_refunded(order: Order, refunded_cents: int) -> bool:
    """Refunds only grow: a late event with a smaller total changes nothing."""
    refunded_cents = min(int(refunded_cents), order.amount_cents)
    if refunded_cents <= order.refunded_cents:
        return False
    order.refunded_cents = refunded_cents
    order.status = _refund_status(order)
    if order.status == Order.Status.REFUNDED and order.refunded_at is None:
        order.refunded_at = timezone.now()
    order.save()
    payload = {
        "order_id": order.pk,
        "refunded_cents": refunded_cents,
        "reason": order.refund_reason,
    }
    transaction.on_commit(lambda: signals.order_refunded.send_robust(sender=Order, **payload))
    return True


def order_refund_full(*, order: Order, reason: str) -> Order:
    """Give the fan all their money back (e.g. consent revoked before export).

    Idempotent: the key is fixed per order, so a second call (or a retry after
    a crash) returns Stripe's first refund instead of refunding twice. `reason`
    is stored and shown to the fan.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.paid_at is None:
            raise Conflict(
                "This order has not been paid, so there is nothing to refund.", code="not_paid"
            )
        if locked.refunded_cents >= locked.amount_cents:
            return locked
        if not locked.refund_idempotency_key:
            locked.refund_idempotency_key = idempotency_key("order-refund-full", locked.pk)
            locked.refund_reason = reason
            locked.save(update_fields=["refund_idempotency_key", "refund_reason", "updated_at"])
    params: dict[str, Any] = {
        "reason": "requested_by_customer",
        "metadata": {"clearmix_order_id": str(locked.pk), "clearmix_reason": reason[:450]},
    }
    if locked.stripe_charge_id:
        params["charge"] = locked.stripe_charge_id
    else:
        params["payment_intent"] = locked.stripe_payment_intent_id
    try:
        refund = stripe_client().v1.refunds.create(
            params=params, options=idempotent(locked.refund_idempotency_key)
        )
    except stripe.StripeError as exc:
        raise _stripe_failure(exc) from exc
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        locked.stripe_refund_id = refund.id
        locked.save(update_fields=["stripe_refund_id", "updated_at"])
        if sget(refund, "status") in ("succeeded", "pending"):
            _apply_refunded(locked, int(sget(refund, "amount", default=0)))
    return locked


@transaction.atomic
def order_charge_refunded(*, charge: Any) -> Order | None:
    """charge.refunded: record how much went back (refunds from the Dashboard too)."""
    order = (
        Order.objects.select_for_update().filter(stripe_charge_id=object_id(charge)).first()
        or Order.objects.select_for_update()
        .filter(stripe_payment_intent_id=object_id(sget(charge, "payment_intent")))
        .exclude(stripe_payment_intent_id="")
        .first()
    )
    if order is None or order.paid_at is None:
        return order
    if not order.stripe_charge_id:
        order.stripe_charge_id = object_id(charge)
    if not order.refund_reason:
        order.refund_reason = "Refunded by Clearmix support."
    _apply_refunded(order, int(sget(charge, "amount_refunded", default=0)))
    return order


@transaction.atomic
def order_dispute_update(*, dispute: Any, state_at: datetime) -> Order | None:
    """charge.dispute.*: only a newer dispute state replaces an older one."""
    order = (
        Order.objects.select_for_update()
        .filter(stripe_charge_id=object_id(sget(dispute, "charge")))
        .first()
    )
    if order is None or order.paid_at is None:
        return order
    _apply_dispute(order, dispute=dispute, state_at=state_at)
    return order


def _apply_dispute(order: Order, *, dispute: Any, state_at: datetime) -> None:
    if order.dispute_state_at and state_at < order.dispute_state_at:
        return
    order.stripe_dispute_id = object_id(dispute)
    order.dispute_status = str(sget(dispute, "status", default=""))
    order.dispute_state_at = state_at
    order.status = _refund_status(order)
    order.save()
    payload = {"order_id": order.pk, "dispute_status": order.dispute_status}
    transaction.on_commit(lambda: signals.order_disputed.send_robust(sender=Order, **payload))
