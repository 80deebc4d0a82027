"""Seeded faults each show up on the dashboard with the right evidence;
clean data shows none."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog import services as catalog_services
from catalog.models import ConsentEvent
from marketplace.audit import anomalies
from marketplace.audit.links import record_url, remix_trail_url
from marketplace.models import CheckRun
from marketplace.tasks import audit_check_run
from royalties.models import Settlement, Transfer

from .conftest import bypass_consent_immutability, make_paid_order, make_remix, settle_and_pay

DASHBOARD = "marketplace:audit_dashboard"


def _counts(found):
    return {kind: len(items) for kind, items in found.items() if items}


def _dashboard(client, auditor):
    client.force_login(auditor)
    response = client.get(reverse(DASHBOARD))
    assert response.status_code == 200
    return response


def test_clean_world_has_no_anomalies(world, auditor, client):
    for name in CheckRun.Name.values:
        if name != "stripe":  # the fake Stripe client has no list endpoint
            audit_check_run(name)
    assert _counts(anomalies.anomalies_all()) == {}
    response = _dashboard(client, auditor)
    assert b'data-testid="anomaly-total">0 anomalies' in response.content
    assert b"Integrity check failing" not in response.content


def test_revoked_consent_after_publication(world, auditor, client):
    # Revocation commits, but its after-commit unpublish never ran (a lost
    # handler): the remix stays published against the artist's terms.
    revoke = catalog_services.consent_revoke(
        party=world.artist, actor=world.artist_user, reason="Changed my mind"
    )
    found = anomalies.anomalies_all()
    assert _counts(found) == {"published_after_revocation": 1}
    (item,) = found["published_after_revocation"]
    assert item.remix_id == world.remix.pk
    urls = [e.url for e in item.evidence]
    assert remix_trail_url(world.remix.pk) in urls
    assert record_url(revoke) in urls
    body = _dashboard(client, auditor).content.decode()
    assert f"consent event #{revoke.seq}" in body and remix_trail_url(world.remix.pk) in body


def test_revocation_that_lets_remixes_stay_up_is_not_an_anomaly(world):
    terms = {"unpublish_on_revoke": False}
    catalog_services.consent_terms_change(party=world.artist, actor=world.artist_user, terms=terms)
    catalog_services.consent_revoke(party=world.artist, actor=world.artist_user)
    assert _counts(anomalies.anomalies_all()) == {}


def test_unpublished_after_revocation_is_clean(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.consent_revoke(party=world.artist, actor=world.artist_user)
    world.remix.refresh_from_db()
    assert world.remix.status == "ready"
    assert _counts(anomalies.anomalies_all()) == {}


def test_published_under_takedown(world, auditor):
    catalog_services.takedown_place(recording=world.recording, actor=auditor, reason="DMCA")
    (item,) = anomalies.anomalies_all()["published_after_revocation"]
    assert "Taken down" in item.detail


def test_failed_transfer(world):
    remix = make_remix(world.fan, world.recording, events=[world.grant], title="Second")
    order = make_paid_order(world.fan, remix)
    world.stripe.fail_transfers = True
    settle_and_pay(order, stripe=world.stripe)
    found = anomalies.anomalies_all()
    assert _counts(found) == {"failed_transfer": 2}
    failed = Transfer.objects.filter(status="failed")
    urls = {e.url for item in found["failed_transfer"] for e in item.evidence}
    assert {record_url(t) for t in failed} <= urls
    assert remix_trail_url(remix.pk) in urls


def test_missing_settlement(world):
    remix = make_remix(world.fan, world.recording, events=[world.grant], title="Unsettled")
    order = make_paid_order(world.fan, remix, paid_at=timezone.now() - timedelta(hours=3))
    fresh = make_remix(world.fan, world.recording, events=[world.grant], title="Just paid")
    make_paid_order(world.fan, fresh, paid_at=timezone.now())  # within the grace period
    found = anomalies.anomalies_all()
    assert _counts(found) == {"paid_without_settlement": 1}
    (item,) = found["paid_without_settlement"]
    assert item.remix_id == remix.pk and record_url(order) in [e.url for e in item.evidence]


def test_tampered_consent_event(world, auditor, client):
    bypass_consent_immutability()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_consentevent SET reason = 'forged' WHERE id = %s", [world.grant.pk]
        )
    run = audit_check_run("consent_chain")
    assert run["status"] == "failed"
    found = anomalies.anomalies_all()
    assert _counts(found) == {"check_failed": 1}
    (item,) = found["check_failed"]
    urls = [e.url for e in item.evidence]
    assert record_url(ConsentEvent, world.grant.pk) in urls
    body = _dashboard(client, auditor).content.decode()
    assert "Integrity check failing" in body and "Consent chain BROKEN" in body


def test_remix_without_consent_basis(world):
    remix = make_remix(world.fan, world.recording, events=[], title="Bootleg")
    (item,) = anomalies.anomalies_all()["no_consent_basis"]
    assert item.remix_id == remix.pk


def test_settlement_not_transferred_after_n_days(world):
    remix = make_remix(world.fan, world.recording, events=[world.grant], title="Stuck")
    order = make_paid_order(world.fan, remix)
    from royalties.services.settlements import settlement_post

    settlement_post(
        order_ref=f"order_{order.pk}",
        gross_cents=order.amount_cents,
        currency="usd",
        master_split_version=remix.master_split_version,
        publishing_split_version=remix.publishing_split_version,
        charge_id=order.stripe_charge_id,
        transfer_group=order.transfer_group,
        remix_ref=f"remix_{remix.pk}",
        recording=world.recording,
        created_at=timezone.now() - timedelta(days=10),
    )
    found = anomalies.anomalies_all()
    assert _counts(found) == {"settlement_without_transfer": 2}
    assert {item.party_ids[0] for item in found["settlement_without_transfer"]} == {
        world.artist.pk,
        world.writer.pk,
    }


def test_dashboard_query_count_does_not_grow_with_rows(world, auditor, client):
    client.force_login(auditor)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(DASHBOARD))
    for i in range(4):
        remix = make_remix(world.fan, world.recording, events=[], title=f"r{i}")
        make_paid_order(world.fan, remix)
    catalog_services.consent_revoke(party=world.artist, actor=world.artist_user)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse(DASHBOARD))
    assert response.status_code == 200
    assert len(many.captured_queries) <= len(few.captured_queries) + 3


@pytest.mark.parametrize("kind", [k.key for k in anomalies.KINDS])
def test_each_anomaly_list_renders(world, auditor, client, kind):
    client.force_login(auditor)
    assert client.get(reverse("marketplace:audit_anomalies", args=[kind])).status_code == 200


def test_settlement_rows_exist(world):
    assert Settlement.objects.count() == 1


def test_staff_retry_of_a_failed_transfer_is_logged_and_queued(
    world, auditor, client, django_capture_on_commit_callbacks
):
    from catalog.models import StaffAuditEntry

    remix = make_remix(world.fan, world.recording, events=[world.grant], title="Retry me")
    order = make_paid_order(world.fan, remix)
    world.stripe.fail_transfers = True
    settle_and_pay(order, stripe=world.stripe)
    failed = Transfer.objects.filter(status="failed").first()
    client.force_login(auditor)
    page = client.get(reverse("marketplace:audit_anomalies", args=["failed_transfer"]))
    retry_url = reverse("marketplace:audit_transfer_retry", args=[failed.pk])
    assert retry_url in page.content.decode()

    before = StaffAuditEntry.objects.count()
    response = client.post(retry_url, {"reason": ""}, follow=True)
    assert "Give a reason" in response.content.decode()
    assert StaffAuditEntry.objects.count() == before

    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(retry_url, {"reason": "Payee fixed their bank account"})
    entry = StaffAuditEntry.objects.order_by("-pk").first()
    assert (entry.action, entry.subject_id) == ("transfer.retry", str(failed.pk))
    assert entry.reason == "Payee fixed their bank account"
    assert len(queued) == 1

    fan_client = client.__class__()
    fan_client.force_login(world.fan)
    assert fan_client.post(retry_url, {"reason": "x"}).status_code == 403
