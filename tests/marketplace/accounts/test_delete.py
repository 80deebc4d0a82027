"""Deleting an account: personal data goes, the chains that name the account by
id keep verifying, and deletion is refused where it would break a promise."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import User
from catalog import services as catalog_services
from catalog.audit_log import staff_audit_append, staff_audit_verify
from catalog.models import ConsentEvent, Party, Recording, RecordingArtist, StaffAuditEntry, Work
from marketplace.accounts.services import user_delete_account
from marketplace.billing.services.customers import billing_customer_ensure, billing_customer_scrub
from marketplace.models import Order
from remixing.models import Remix
from royalties.audit import ledger_verify
from tests.fixtures.accounts import PASSWORD, UserFactory
from tests.marketplace.audit.conftest import make_paid_order, make_remix, settle_and_pay
from tests.marketplace.billing.factories import entitle
from tests.royalties.conftest import FakeStripe, onboard

pytestmark = pytest.mark.django_db


@dataclass
class World:
    artist_user: User
    artist: Party
    fan: User
    auditor: User
    remix: Remix
    order: Order


@pytest.fixture
def world(monkeypatch) -> World:
    monkeypatch.setattr("royalties.stripe_client.stripe_client", FakeStripe)
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
    fan = UserFactory(email="newfan1@example.com", handle="newfan1", display_name="New Fan")
    remix = make_remix(fan, recording, events=[grant])
    order = make_paid_order(fan, remix)
    settle_and_pay(order, stripe=FakeStripe())
    auditor = UserFactory(email="avery@example.com", is_auditor=True, is_staff=True)
    staff_audit_append(actor=auditor, action="export", subject_type="remixes", data={"rows": 1})
    return World(artist_user, artist, fan, auditor, remix, order)


def chains_verify() -> None:
    """The three integrity commands an auditor runs; each raises on a break."""
    call_command("verify_consent_chain")
    call_command("verify_audit_log")
    call_command("verify_ledger")
    assert staff_audit_verify() is None
    assert not ledger_verify()


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_deleting_a_fan_pseudonymises_and_every_chain_still_verifies(client, world):
    fan = world.fan
    other_device = logged_in(fan)
    client.force_login(fan)
    response = client.post(
        reverse("marketplace:account_delete"), {"password": PASSWORD, "confirm": "on"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")

    fan.refresh_from_db()
    assert fan.handle == f"deleted-user-{fan.pk}"
    assert fan.email == f"deleted-user-{fan.pk}@deleted.invalid"
    assert fan.display_name == "" and str(fan) == f"deleted-user-{fan.pk}"
    assert not fan.has_usable_password() and not fan.is_active
    assert fan.roles == []
    assert not EmailAddress.objects.filter(user=fan).exists()
    # Sessions ended: this one and the one on another device.
    assert "_auth_user_id" not in client.session
    assert other_device.get(reverse("marketplace:account")).status_code == 302

    # The remix leaves the public site; the order and the money stay, by id.
    world.remix.refresh_from_db()
    assert world.remix.status == Remix.Status.READY
    assert (
        client.get(reverse("remixing:public_remix", args=[world.remix.share_slug])).status_code
        == 404
    )
    assert Order.objects.get(pk=world.order.pk).fan_id == fan.pk

    # The deletion is recorded with it, without personal data.
    entry = StaffAuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.actor_id, entry.subject_id) == (
        "account.delete",
        fan.pk,
        str(fan.pk),
    )
    assert "newfan1@example.com" not in str(entry.data) + entry.reason
    chains_verify()

    # The address is free again, and the old login no longer works.
    stranger = Client()
    stranger.post(reverse("account_login"), {"login": "newfan1@example.com", "password": PASSWORD})
    assert "_auth_user_id" not in stranger.session
    UserFactory(email="newfan1@example.com", handle="newfan1")


def test_the_auditor_sees_the_tombstone_not_the_email(client, world):
    user_delete_account(user=world.fan)
    client.force_login(world.auditor)
    page = client.get(reverse("marketplace:audit_remix_trail", args=[world.remix.pk]))
    body = page.content.decode()
    assert f"deleted-user-{world.fan.pk}" in body
    assert "newfan1" not in body


def test_a_former_consent_actor_and_a_staff_member_can_leave_with_chains_intact(world):
    # The artist hands the profile over; the consent events still name the old account.
    successor = UserFactory(is_artist=True)
    Party.objects.filter(pk=world.artist.pk).update(user=successor)
    user_delete_account(user=world.artist_user)
    user_delete_account(user=world.auditor)
    assert ConsentEvent.objects.filter(actor=world.artist_user).exists()
    assert StaffAuditEntry.objects.filter(actor=world.auditor, action="export").exists()
    chains_verify()


def test_a_rights_holder_is_refused_with_the_reason(client, world):
    client.force_login(world.artist_user)
    page = client.get(reverse("marketplace:account_delete")).content.decode()
    assert "Ana Vale (artist)" in page and "hand the profile over" in page
    response = client.post(
        reverse("marketplace:account_delete"), {"password": PASSWORD, "confirm": "on"}, follow=True
    )
    assert "cannot be deleted yet" in response.content.decode()
    world.artist_user.refresh_from_db()
    assert world.artist_user.email == "ana@example.com" and world.artist_user.is_active


def test_a_renewing_subscription_blocks_deletion_until_cancelled(client):
    fan = UserFactory()
    entitle(fan)
    client.force_login(fan)
    page = client.get(reverse("marketplace:account_delete")).content.decode()
    assert "renews automatically" in page and "Billing" in page
    fan.subscriptions.update(cancel_at_period_end=True)
    page = client.get(reverse("marketplace:account_delete")).content.decode()
    assert "renews automatically" not in page
    assert 'name="password"' in page


def test_a_wrong_password_or_no_confirmation_deletes_nothing(client):
    fan = UserFactory(email="keep@example.com")
    client.force_login(fan)
    response = client.post(
        reverse("marketplace:account_delete"), {"password": "wrong", "confirm": "on"}
    )
    assert "not your current password" in response.content.decode()
    response = client.post(reverse("marketplace:account_delete"), {"password": PASSWORD})
    assert response.status_code == 200
    fan.refresh_from_db()
    assert fan.email == "keep@example.com" and fan.is_active


def test_the_stripe_customer_loses_the_email_but_keeps_its_id(stripe_sandbox):
    fan = UserFactory(email="payer@example.com", handle="payer")
    customer = billing_customer_ensure(user=fan)
    assert stripe_sandbox.api("GET", f"/v1/customers/{customer.stripe_customer_id}")["email"]
    user_delete_account(user=fan)
    fan.refresh_from_db()
    billing_customer_scrub(user=fan)  # what the queued task runs after commit
    at_stripe = stripe_sandbox.api("GET", f"/v1/customers/{customer.stripe_customer_id}")
    assert not at_stripe["email"]
    assert at_stripe["name"] == f"deleted-user-{fan.pk}"


def test_an_unverified_claim_is_withdrawn_not_blocking():
    claimant = UserFactory(is_artist=True)
    party = Party.objects.create(kind="artist", name="Maybe Me", user=claimant)
    user_delete_account(user=claimant)
    party.refresh_from_db()
    assert party.user_id is None and party.claim_requested_at is None


def test_a_fork_names_a_deleted_author_as_a_deleted_user_not_by_tombstone(world):
    # Probe: after @luma deleted her account, @kai_loops's fork of her remix said
    # "Inspired by … by @deleted-user-7" (the tombstone handle, with her row id).
    grant = ConsentEvent.objects.filter(kind="grant").first()
    kai = UserFactory(email="kai@example.com", handle="kai", is_fan=True)
    fork = make_remix(kai, world.remix.recording, events=[grant], title="Kai's flip")
    Remix.objects.filter(pk=fork.pk).update(parent=world.remix)
    user_delete_account(user=world.fan)

    pages = {
        "public": Client().get(reverse("remixing:public_remix", args=[fork.share_slug])),
        "own": logged_in(kai).get(reverse("marketplace:my_remix", args=[fork.pk])),
    }
    for name, response in pages.items():
        body = response.content.decode()
        assert response.status_code == 200, name
        assert "by a deleted user" in body, name
        assert "deleted-user-" not in body, name
