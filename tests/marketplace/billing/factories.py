"""Factories for billing rows (no Stripe involved)."""

from __future__ import annotations

import factory
from django.utils import timezone

from marketplace.models import Order, Plan, Subscription
from tests.fixtures.accounts import UserFactory


def plan(code: str) -> Plan:
    defaults = {
        Plan.Code.PREMIUM: ("Premium", 999, None, 1),
        Plan.Code.REMIX_ADDON: ("Remix add-on", 499, Plan.Code.PREMIUM, 2),
    }[code]
    name, amount, requires, order = defaults
    requires_plan = plan(requires) if requires else None
    obj, _ = Plan.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "amount_cents": amount,
            "currency": "usd",
            "lookup_key": f"test_{code}",
            "stripe_price_id": f"price_test_{code}",
            "stripe_product_id": f"prod_test_{code}",
            "requires": requires_plan,
            "sort_order": order,
        },
    )
    return obj


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    user = factory.SubFactory(UserFactory)
    plan = factory.LazyFunction(lambda: plan(Plan.Code.PREMIUM))
    stripe_subscription_id = factory.Sequence(lambda n: f"sub_test_{n}")
    stripe_customer_id = factory.Sequence(lambda n: f"cus_test_{n}")
    status = Subscription.Status.ACTIVE
    current_period_end = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=30))


def entitle(user) -> None:
    """Give `user` active Premium and Remix add-on (as if webhooks had said so)."""
    SubscriptionFactory(user=user, plan=plan(Plan.Code.PREMIUM))
    SubscriptionFactory(user=user, plan=plan(Plan.Code.REMIX_ADDON))


def make_remix(*, owner, remixable: bool = True, stems: str | None = "ready"):
    """A real draft remix of a recording that is (or is not) remixable.

    `stems` is the status of the stem set it renders from ("ready" by default,
    so it can be exported; None for no stem set at all).
    """
    from catalog.selectors import recording_remixability
    from remixing.models import Remix, StemSet
    from tests.catalog.factories import RecordingFactory, remixable_recording

    recording = remixable_recording()[0] if remixable else RecordingFactory()
    verdict = recording_remixability(recording=recording)
    stem_set = None
    if stems is not None:
        lease = {}
        if stems == StemSet.Status.RUNNING:  # the database insists a running job holds a lease
            lease = {"lease_owner": "gpu-1:1", "lease_expires_at": timezone.now()}
        stem_set = StemSet.objects.create(
            audio_sha256=f"{recording.pk:064d}",
            model_name="htdemucs",
            recording=recording,
            status=stems,
            **lease,
        )
    # Like every real remix, it records the split versions and consent events
    # it relies on (no audio here, so not through remix_create's stem checks).
    remix = Remix.objects.create(
        fan=owner,
        recording=recording,
        title="Test remix",
        recipe={"version": 1},
        stem_set=stem_set,
        master_split_version_id=verdict.master_split_version_id,
        publishing_split_version_id=verdict.publishing_split_version_id,
    )
    remix.consent_events.set(verdict.consent_event_ids)
    return remix


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    fan = factory.SubFactory(UserFactory)
    remix = factory.LazyAttribute(lambda o: make_remix(owner=o.fan))
    amount_cents = 299
    currency = "usd"
    transfer_group = factory.LazyAttribute(lambda o: f"remix_{o.remix.pk}")
