"""A small, clean licensing world (one licensed, published, paid and fully
transferred remix) and the faults the audit must catch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from catalog import services as catalog_services
from catalog.models import ConsentEvent, Party, Recording, RecordingArtist, Work
from catalog.selectors import recording_remixability
from marketplace.models import Order
from remixing.models import Remix, RemixEvent
from royalties.models import SettlementLine
from tests.fixtures.accounts import UserFactory
from tests.royalties.conftest import FakeStripe, onboard


@dataclass
class World:
    artist_user: object
    artist: Party
    writer: Party
    recording: Recording
    fan: object
    grant: ConsentEvent
    remix: Remix
    order: Order
    settlement: object
    stripe: FakeStripe


def make_remix(fan, recording: Recording, *, events, published=True, title="Night Drive (remix)"):
    remixability = recording_remixability(recording=recording)
    now = timezone.now()
    remix = Remix.objects.create(
        fan=fan,
        recording=recording,
        title=title,
        recipe={"version": 1, "tempo": 1.0},
        terms=dict(remixability.terms),
        master_split_version_id=remixability.master_split_version_id,
        publishing_split_version_id=remixability.publishing_split_version_id,
        status=Remix.Status.PUBLISHED if published else Remix.Status.READY,
        published_at=now if published else None,
        paid_at=now,
    )
    remix.consent_events.set(events)
    RemixEvent.objects.create(
        remix=remix, to_status="draft", actor_kind="fan", actor=fan, reason="Draft created"
    )
    RemixEvent.objects.create(
        remix=remix,
        from_status="rendering",
        to_status="ready",
        actor_kind="worker",
        reason="Rendered",
    )
    if published:
        RemixEvent.objects.create(
            remix=remix,
            from_status="ready",
            to_status="published",
            actor_kind="fan",
            actor=fan,
            reason="Published by the fan",
        )
    return remix


def make_paid_order(fan, remix: Remix, *, paid_at=None, amount=500) -> Order:
    order = Order.objects.create(
        fan=fan,
        remix=remix,
        amount_cents=amount,
        currency="usd",
        status=Order.Status.PENDING,
        transfer_group=f"remix_{remix.pk}_{timezone.now().timestamp()}",
    )
    # Paid the way the webhook marks it: money fields frozen once paid_at is set.
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.PAID,
        paid_at=paid_at or timezone.now() - timedelta(hours=2),
        stripe_charge_id=f"ch_{order.pk}",
        stripe_payment_intent_id=f"pi_{order.pk}",
    )
    order.refresh_from_db()
    return order


def settle_and_pay(order: Order, *, stripe: FakeStripe, created_at=None):
    from royalties.services.settlements import settlement_post
    from royalties.services.transfers import transfer_line_pay

    remix = order.remix
    settlement = settlement_post(
        order_ref=f"order_{order.pk}",
        gross_cents=order.amount_cents,
        currency=order.currency,
        master_split_version=remix.master_split_version,
        publishing_split_version=remix.publishing_split_version,
        charge_id=order.stripe_charge_id,
        transfer_group=order.transfer_group,
        remix_ref=f"remix_{remix.pk}",
        recording=remix.recording,
        created_at=created_at,
    )
    for line in SettlementLine.objects.filter(settlement=settlement, party__isnull=False):
        try:
            transfer_line_pay(line_id=line.pk)
        except Exception:
            pass
    return settlement


@pytest.fixture
def stripe_fake(monkeypatch) -> FakeStripe:
    fake = FakeStripe()
    monkeypatch.setattr("royalties.stripe_client.stripe_client", lambda: fake)
    return fake


@pytest.fixture
def world(db, stripe_fake) -> World:
    return build_world(stripe_fake)


def build_world(stripe_fake: FakeStripe) -> World:
    artist_user = UserFactory(is_artist=True, is_fan=False, email="ana@example.com")
    artist = Party.objects.create(
        kind="artist", name="Ana Vale", user=artist_user, claim_verified=True
    )
    writer = Party.objects.create(kind="songwriter", name="Cy Writer")
    work = Work.objects.create(title="Night Drive")
    recording = Recording.objects.create(title="Night Drive", isrc="USRC17607839", work=work)
    RecordingArtist.objects.create(recording=recording, party=artist, role="main")
    catalog_services.split_version_create(
        recording=recording, shares=[(artist, 10_000)], check_permission=False
    )
    catalog_services.split_version_create(
        work=work, shares=[(writer, 10_000)], check_permission=False
    )
    grant = catalog_services.consent_grant(party=artist, actor=artist_user, reason="Opt in")
    onboard(artist)
    onboard(writer)
    fan = UserFactory(is_fan=True, email="fan@example.com")
    remix = make_remix(fan, recording, events=[grant])
    order = make_paid_order(fan, remix)
    settlement = settle_and_pay(order, stripe=stripe_fake)
    return World(
        artist_user, artist, writer, recording, fan, grant, remix, order, settlement, stripe_fake
    )


def bypass_consent_immutability() -> None:
    """What an attacker with database access would do first."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE catalog_consentevent DISABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute("DROP TRIGGER catalog_consentevent_no_update")


def bypass_audit_immutability() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE catalog_staffauditentry DISABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute("DROP TRIGGER catalog_staffauditentry_no_update")
