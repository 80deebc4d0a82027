"""My remixes, the fan's remix page, export, publish, unpublish, downloads."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from remixing.models import Remix, RemixNotice
from remixing.services import remix_unpublish
from tests.fixtures.accounts import UserFactory
from tests.marketplace.billing.factories import entitle, make_remix

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def owner(db):
    user = UserFactory(is_fan=True)
    entitle(user)
    return user


def rendered(remix: Remix, *, published: bool = False) -> Remix:
    remix.output_mp3.save("remix.mp3", ContentFile(b"ID3mp3"), save=False)
    remix.output_ogg.save("remix.ogg", ContentFile(b"OggSdata"), save=False)
    remix.status = Remix.Status.PUBLISHED if published else Remix.Status.READY
    remix.paid_at = timezone.now()
    remix.published_at = timezone.now() if published else None
    remix.save()
    return remix


def test_my_remixes_needs_login(client):
    response = client.get(reverse("marketplace:my_remixes"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_my_remixes_empty_state(client, owner):
    client.force_login(owner)
    body = client.get(reverse("marketplace:my_remixes")).content.decode()
    assert "No remixes yet" in body and "Browse remixable tracks" in body


def test_my_remixes_groups_only_my_remixes_and_shows_notices(client, owner):
    draft = make_remix(owner=owner)
    paid = rendered(make_remix(owner=owner))
    public = rendered(make_remix(owner=owner), published=True)
    stranger = make_remix(owner=UserFactory(is_fan=True))
    Remix.objects.filter(pk=stranger.pk).update(title="Not yours")
    RemixNotice.objects.create(
        fan=owner, remix=paid, kind="unpublished", message="Unpublished: consent revoked"
    )
    client.force_login(owner)
    body = client.get(reverse("marketplace:my_remixes")).content.decode()
    assert "Not yours" not in body
    assert reverse("remixing:studio", args=[draft.pk]) in body
    assert reverse("marketplace:my_remix", args=[paid.pk]) in body
    assert reverse("remixing:public_remix", args=[public.share_slug]) in body
    assert "consent revoked" in body
    response = client.post(reverse("marketplace:remix_notices_read"), {"notice": ["x"]})
    assert response.status_code == 302
    assert not RemixNotice.objects.filter(fan=owner, read_at__isnull=True).exists()


def test_revocation_unpublishes_with_a_notice_shown_on_my_remixes(client, owner):
    remix = rendered(make_remix(owner=owner), published=True)
    remix_unpublish(remix=remix, actor_kind="catalog", reason="The artist revoked consent.")
    client.force_login(owner)
    assert client.get(reverse("remixing:public_remix", args=[remix.share_slug])).status_code == 404
    body = client.get(reverse("marketplace:my_remixes")).content.decode()
    assert "The artist revoked consent." in body


@pytest.mark.parametrize(
    "name,method",
    [
        ("marketplace:my_remix", "get"),
        ("marketplace:remix_export", "post"),
        ("marketplace:remix_publish", "post"),
        ("marketplace:remix_unpublish", "post"),
    ],
)
def test_someone_elses_remix_is_not_found(client, owner, name, method):
    theirs = rendered(make_remix(owner=UserFactory(is_fan=True)), published=True)
    client.force_login(owner)
    response = getattr(client, method)(reverse(name, args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "published"


@pytest.mark.parametrize(
    "name,method",
    [
        ("marketplace:my_remix", "get"),
        ("marketplace:remix_export", "post"),
        ("marketplace:remix_publish", "post"),
        ("marketplace:remix_unpublish", "post"),
    ],
)
def test_fan_pages_need_login(client, owner, name, method):
    remix = make_remix(owner=owner)
    response = getattr(client, method)(reverse(name, args=[remix.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_actions_need_post(client, owner):
    remix = rendered(make_remix(owner=owner))
    client.force_login(owner)
    for name in ("marketplace:remix_export", "marketplace:remix_publish"):
        assert client.get(reverse(name, args=[remix.pk])).status_code == 405


def test_downloads_only_for_the_owner_of_a_rendered_remix(client, owner):
    remix = rendered(make_remix(owner=owner))
    draft = make_remix(owner=owner)
    client.force_login(owner)
    response = client.get(reverse("marketplace:remix_download", args=[remix.pk, "mp3"]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"ID3mp3"
    ogg = client.get(reverse("marketplace:remix_download", args=[remix.pk, "ogg"]))
    assert ogg.status_code == 200 and ogg["Content-Type"].startswith("audio/ogg")
    assert (
        client.get(reverse("marketplace:remix_download", args=[remix.pk, "wav"])).status_code == 404
    )
    assert (
        client.get(reverse("marketplace:remix_download", args=[draft.pk, "mp3"])).status_code == 404
    )
    client.force_login(UserFactory(is_fan=True))
    assert (
        client.get(reverse("marketplace:remix_download", args=[remix.pk, "mp3"])).status_code == 404
    )


def test_remix_page_states(client, owner):
    draft = make_remix(owner=owner)
    client.force_login(owner)
    body = client.get(reverse("marketplace:my_remix", args=[draft.pk])).content.decode()
    assert 'data-testid="export"' in body
    ready = rendered(make_remix(owner=owner))
    body = client.get(reverse("marketplace:my_remix", args=[ready.pk])).content.decode()
    assert "Download MP3" in body and "Download Ogg" in body and 'data-testid="publish"' in body
    # A running render holds a lease (the database insists).
    Remix.objects.filter(pk=ready.pk).update(
        status="rendering",
        progress=40,
        stage="Mixing",
        lease_owner="worker-host:123",
        lease_expires_at=timezone.now(),
    )
    body = client.get(reverse("marketplace:my_remix", args=[ready.pk])).content.decode()
    assert "Mixing" in body and 'value="40"' in body


def test_publish_and_unpublish_through_the_page(client, owner):
    remix = rendered(make_remix(owner=owner))
    client.force_login(owner)
    response = client.post(
        reverse("marketplace:remix_publish", args=[remix.pk]),
        {"title": "Harbor at dawn", "description": "Slow and warm."},
    )
    assert response.status_code == 302
    remix.refresh_from_db()
    assert remix.status == "published" and remix.title == "Harbor at dawn"
    public = client.get(reverse("remixing:public_remix", args=[remix.share_slug]))
    assert public.status_code == 200 and "Slow and warm." in public.content.decode()
    client.post(reverse("marketplace:remix_unpublish", args=[remix.pk]))
    remix.refresh_from_db()
    assert remix.status == "ready"
    assert client.get(reverse("remixing:public_remix", args=[remix.share_slug])).status_code == 404


def test_publish_without_title_shows_the_error(client, owner):
    remix = rendered(make_remix(owner=owner))
    client.force_login(owner)
    response = client.post(
        reverse("marketplace:remix_publish", args=[remix.pk]), {"title": " "}, follow=True
    )
    assert "Give your remix a title." in response.content.decode()
    remix.refresh_from_db()
    assert remix.status == "ready"


def test_unpaid_draft_cannot_be_published(client, owner):
    remix = make_remix(owner=owner)
    client.force_login(owner)
    response = client.post(
        reverse("marketplace:remix_publish", args=[remix.pk]), {"title": "X"}, follow=True
    )
    assert "Only a paid, rendered remix can be published." in response.content.decode()


def test_export_without_entitlement_explains(client):
    fan = UserFactory(is_fan=True)
    remix = make_remix(owner=fan)
    client.force_login(fan)
    response = client.post(reverse("marketplace:remix_export", args=[remix.pk]), follow=True)
    assert "You need an active Premium subscription." in response.content.decode()


def test_export_goes_to_hosted_checkout_and_back_to_the_remix(
    client, owner, stripe_sandbox, stripe_plans
):
    remix = make_remix(owner=owner)
    client.force_login(owner)
    response = client.post(reverse("marketplace:remix_export", args=[remix.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(stripe_sandbox.url)
    from marketplace.models import Order

    order = Order.objects.get(remix=remix)
    assert order.fan == owner and order.status == "pending"


def test_a_payment_refunded_at_checkout_says_so_on_the_remix_page(
    client, owner, stripe_plans, stripe_events
):
    # Probe: the artist changed their mind while the fan was on the checkout page;
    # the fan paid, was refunded at once, and came back to a page that said only
    # "We're confirming your payment…" above the Export button, then nothing.
    from catalog.services import consent_revoke
    from marketplace.billing.fulfilment import order_fulfil
    from marketplace.models import Order

    remix = make_remix(owner=owner)
    client.force_login(owner)
    client.post(reverse("marketplace:remix_export", args=[remix.pk]))
    order = Order.objects.get(remix=remix)
    artist = remix.master_split_version.shares.get().party
    consent_revoke(party=artist, actor=artist.user, reason="Changed my mind")
    stripe_events.sandbox.pay(order.checkout_url)
    stripe_events.deliver()
    order_fulfil(order_id=order.pk)
    stripe_events.deliver()
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED

    page = reverse("marketplace:my_remix", args=[remix.pk])
    for url in (f"{page}?session_id={order.stripe_checkout_session_id}", page):
        body = client.get(url).content.decode()
        assert "We&#x27;re confirming your payment" not in body
        assert "confirming your payment" not in body
        assert f"Your payment of {order.amount_display} was refunded in full" in body
        assert "revoked consent" in body


def test_a_fan_deletes_their_takes_from_the_remix_page_after_the_track_closed(
    client, owner, settings, django_capture_on_commit_callbacks
):
    # Probe: once the artist revoked consent the studio answered 409, and it was the
    # only place that listed the fan's recorded takes: their private recordings
    # could no longer be heard or deleted (short of deleting the whole account).
    from pathlib import Path

    from catalog.services import consent_revoke
    from remixing.models import CoverTake

    remix = make_remix(owner=owner)
    take = CoverTake(remix=remix, fan=owner, sha256="0" * 64, duration_s=3.0, lead_s=1.0)
    take.audio.save("take.flac", ContentFile(b"fLaC take"), save=False)
    take.save()
    stored = Path(settings.MEDIA_ROOT) / take.audio.name
    artist = remix.master_split_version.shares.get().party
    consent_revoke(party=artist, actor=artist.user, reason="Changed my mind")
    client.force_login(owner)

    page = reverse("marketplace:my_remix", args=[remix.pk])
    body = client.get(page).content.decode()
    assert "Your recorded takes" in body and "Take 1 · 3.0 s" in body
    assert f'src="/media/{take.audio.name}"' in body
    delete = reverse("marketplace:remix_take_delete", args=[remix.pk, take.ref])
    stranger = Client()
    stranger.force_login(UserFactory(is_fan=True))
    assert stranger.post(delete).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        with_messages = client.post(delete, follow=True)
    assert "Take 1 deleted." in with_messages.content.decode()
    assert not CoverTake.objects.filter(pk=take.pk).exists()
    assert not stored.exists()
    assert "Your recorded takes" not in client.get(page).content.decode()


def test_a_refund_for_a_term_switched_off_names_the_term_in_plain_words(
    client, owner, stripe_plans, stripe_events
):
    # Probe: the artist switched covers off while the fan paid; the refund said
    # "This track can no longer be remixed" (it still could be) and then
    # "recipe.cover: Recording a cover vocal is not allowed…" (a field path).
    from catalog.services import consent_terms_change
    from marketplace.billing.fulfilment import order_fulfil
    from marketplace.models import Order

    remix = make_remix(owner=owner)
    Remix.objects.filter(pk=remix.pk).update(recipe={**remix.recipe, "tempo_ratio": 1.2})
    client.force_login(owner)
    client.post(reverse("marketplace:remix_export", args=[remix.pk]))
    order = Order.objects.get(remix=remix)
    artist = remix.master_split_version.shares.get().party
    consent_terms_change(party=artist, actor=artist.user, terms={"tempo": False})
    stripe_events.sandbox.pay(order.checkout_url)
    stripe_events.deliver()
    order_fulfil(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert order.refund_reason.startswith("This remix can no longer be made as it is")
    assert "This track can no longer be remixed" not in order.refund_reason
    assert "recipe." not in order.refund_reason
    assert "The artist's terms no longer allow this remix." in order.refund_reason
