"""Payees: a party's Stripe Connect Express account, its onboarding links, and
whether money can flow to it (from `account.updated` events and re-reads)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.models import Party
from royalties import enqueue
from royalties import stripe_client as stripe_api
from royalties.models import OnboardingAttempt, Payee
from royalties.stripe_client import stripe_value


def _payee_for_account(account: Any) -> Payee | None:
    """The payee an Account object belongs to, locked: by account id, or (for
    an account created but not yet recorded) by the party id in its metadata."""
    account_id = stripe_value(account, "id")
    payee = Payee.objects.select_for_update().filter(stripe_account_id=account_id).first()
    if payee is not None:
        return payee
    party_id = stripe_value(stripe_value(account, "metadata") or {}, "clearmix_party_id")
    if not (party_id and str(party_id).isdigit()):
        return None
    payee = (
        Payee.objects.select_for_update()
        .filter(party_id=int(party_id), stripe_account_id__isnull=True)
        .first()
    )
    if payee is not None:
        payee.stripe_account_id = account_id
    return payee


def payee_apply_account(*, account: Any, event_created: int | None = None) -> Payee | None:
    """Apply a Stripe Account object's state to its payee. Events may arrive
    out of order: an older event than the last applied one is ignored. When the
    account becomes able to receive transfers, what the party is owed is swept."""
    with transaction.atomic():
        payee = _payee_for_account(account)
        if payee is None:
            return None
        if event_created is not None:
            if event_created < payee.last_event_created:
                return payee
            payee.last_event_created = event_created
        could = payee.can_receive
        capabilities = stripe_value(account, "capabilities") or {}
        requirements = stripe_value(account, "requirements") or {}
        payee.charges_enabled = bool(stripe_value(account, "charges_enabled"))
        payee.payouts_enabled = bool(stripe_value(account, "payouts_enabled"))
        payee.details_submitted = bool(stripe_value(account, "details_submitted"))
        payee.transfers_active = stripe_value(capabilities, "transfers") == "active"
        payee.requirements_due = list(stripe_value(requirements, "currently_due") or [])
        payee.save()
        if payee.can_receive and not could:
            enqueue.task_enqueue_on_commit(enqueue.PAYOUTS_SWEEP, payee.party_id)
    return payee


def payee_deauthorize(*, stripe_account_id: str) -> None:
    Payee.objects.filter(stripe_account_id=stripe_account_id).update(
        charges_enabled=False,
        payouts_enabled=False,
        transfers_active=False,
        updated_at=timezone.now(),
    )


def _account_create(payee: Payee, party: Party, user: Any) -> None:
    """Create the party's Express account (once: the key is saved first)."""
    key = payee.account_idempotency_key or (
        f"clearmix-account-party{party.pk}-{stripe_api.idempotency_suffix()}"
    )
    Payee.objects.filter(pk=payee.pk).update(account_idempotency_key=key)
    params: dict[str, Any] = {
        "type": "express",
        "capabilities": {"transfers": {"requested": True}},
        "metadata": {"clearmix_party_id": str(party.pk)},
    }
    if getattr(user, "email", ""):
        params["email"] = user.email
    account = stripe_api.stripe_client().v1.accounts.create(
        params=params, options={"idempotency_key": key}
    )
    with transaction.atomic():
        locked = Payee.objects.select_for_update().get(pk=payee.pk)
        if not locked.stripe_account_id:
            locked.stripe_account_id = account.id
            locked.save(update_fields=["stripe_account_id", "updated_at"])
    payee_apply_account(account=account)


def payee_onboarding_link(*, party: Party, user: Any, return_url: str, refresh_url: str) -> str:
    """Create (once) the party's Express account and a fresh onboarding link."""
    payee, _ = Payee.objects.get_or_create(party=party)
    if not payee.stripe_account_id:
        _account_create(payee, party, user)
    with transaction.atomic():
        payee = Payee.objects.select_for_update().get(pk=payee.pk)
        payee.link_seq += 1
        payee.save(update_fields=["link_seq", "updated_at"])
        suffix = stripe_api.idempotency_suffix()
        attempt = OnboardingAttempt.objects.create(
            payee=payee,
            idempotency_key=f"clearmix-accountlink-party{party.pk}-{payee.link_seq}-{suffix}",
            requested_by=user if getattr(user, "pk", None) else None,
        )
    link = stripe_api.stripe_client().v1.account_links.create(
        params={
            "account": payee.stripe_account_id,
            "type": "account_onboarding",
            "return_url": return_url,
            "refresh_url": refresh_url,
        },
        options={"idempotency_key": attempt.idempotency_key},
    )
    OnboardingAttempt.objects.filter(pk=attempt.pk).update(url=link.url[:1000])
    return link.url


def payee_refresh(*, party: Party) -> Payee | None:
    """Re-read the party's account from Stripe (on return from onboarding)."""
    payee = Payee.objects.filter(party=party).first()
    if payee is None or not payee.stripe_account_id:
        return payee
    account = stripe_api.stripe_client().v1.accounts.retrieve(payee.stripe_account_id)
    return payee_apply_account(account=account)
