"""Every audit view and export: auditors only; exports logged; the trail
tells the whole story with links to each source record."""

import csv
import io

import pytest
from django.urls import reverse

from catalog.models import StaffAuditEntry
from marketplace.audit.links import record_url
from marketplace.models import CheckRun
from royalties.models import SettlementLine, Transfer
from tests.fixtures.accounts import UserFactory
from tests.fixtures.shared_world import rolled_back
from tests.royalties.conftest import FakeStripe

from .conftest import build_world


def _urls(world):
    return [
        ("get", reverse("marketplace:audit_dashboard")),
        ("get", reverse("marketplace:audit_anomalies", args=["failed_transfer"])),
        ("get", reverse("marketplace:audit_anomalies", args=["failed_transfer"]) + "?format=csv"),
        ("get", reverse("marketplace:audit_remixes")),
        ("get", reverse("marketplace:audit_remixes") + "?format=csv"),
        ("get", reverse("marketplace:audit_remix_trail", args=[world.remix.pk])),
        ("get", reverse("marketplace:audit_record", args=["order", world.order.pk])),
        ("get", reverse("marketplace:audit_artists")),
        ("get", reverse("marketplace:audit_artist_report", args=[world.artist.pk])),
        ("get", reverse("marketplace:audit_artist_report", args=[world.artist.pk]) + "?format=csv"),
        ("get", reverse("marketplace:audit_artist_report", args=[world.artist.pk]) + "?print=1"),
        ("get", reverse("marketplace:audit_log")),
        ("get", reverse("marketplace:audit_log") + "?format=csv"),
        ("get", reverse("marketplace:audit_checks")),
        ("post", reverse("marketplace:audit_check_run")),
        ("post", reverse("marketplace:audit_order_refund", args=[world.order.pk])),
    ]


@pytest.fixture(scope="class")
def shared_world(django_db_setup, django_db_blocker):
    """One world for the class's tests (tests/fixtures/shared_world.py), its
    transfers paid through a fake Stripe patched in for the class."""
    with pytest.MonkeyPatch.context() as patch, rolled_back(django_db_blocker):
        stripe = FakeStripe()
        patch.setattr("royalties.stripe_client.stripe_client", lambda: stripe)
        yield build_world(stripe)


class TestWhoMayOpenEachPage:
    """Every audit page and action, asked by each kind of visitor."""

    @pytest.fixture
    def world(self, shared_world, db):
        return shared_world

    @pytest.mark.parametrize("index", range(16))
    def test_anonymous_is_sent_to_login(self, world, client, index):
        method, url = _urls(world)[index]
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    @pytest.mark.parametrize("index", range(16))
    @pytest.mark.parametrize("role", ["fan", "artist", "staff_not_auditor"])
    def test_non_auditors_are_forbidden(self, world, client, index, role):
        user = {
            "fan": lambda: UserFactory(is_fan=True),
            "artist": lambda: UserFactory(is_artist=True),
            "staff_not_auditor": lambda: UserFactory(
                is_staff=True, is_superuser=True, is_auditor=False
            ),
        }[role]()
        client.force_login(user)
        method, url = _urls(world)[index]
        assert getattr(client, method)(url).status_code == 403
        assert not StaffAuditEntry.objects.filter(action="export").exists()
        assert not CheckRun.objects.exists()

    @pytest.mark.parametrize("index", [i for i in range(14)])
    def test_auditor_can_read_everything(self, world, client, auditor, index):
        client.force_login(auditor)
        method, url = _urls(world)[index]
        assert getattr(client, method)(url).status_code == 200


def test_every_export_is_logged(world, client, auditor):
    client.force_login(auditor)
    exports = [url for method, url in _urls(world) if "format=csv" in url]
    for url in exports:
        response = client.get(url)
        assert response["Content-Type"].startswith("text/csv")
    entries = StaffAuditEntry.objects.filter(action="export", actor=auditor)
    assert entries.count() == len(exports)
    assert set(entries.values_list("subject_id", flat=True)) == {
        "anomalies-failed_transfer",
        "remixes",
        f"licensing-report-party-{world.artist.pk}",
        "staff-audit-log",
    }


def test_remix_csv_and_filters(world, client, auditor):
    client.force_login(auditor)
    url = reverse("marketplace:audit_remixes")
    rows = list(
        csv.reader(io.StringIO(client.get(url + "?format=csv&artist=ana").content.decode()))
    )
    assert rows[1][0] == str(world.remix.pk) and rows[1][5] == "Ana Vale" and rows[1][11] == "5.00"
    rows = list(
        csv.reader(io.StringIO(client.get(url + "?format=csv&artist=nobody").content.decode()))
    )
    assert len(rows) == 1
    assert (
        client.get(url + "?fan=fan@example&status=published&from=2000-01-01&to=2999-01-01")
        .context["page"]
        .paginator.count
        == 1
    )
    assert client.get(url + "?status=draft").context["page"].paginator.count == 0
    assert client.get(url + "?recording=USRC17607839").context["page"].paginator.count == 1


def test_artist_report(world, client, auditor):
    client.force_login(auditor)
    url = reverse("marketplace:audit_artist_report", args=[world.writer.pk])
    report = client.get(url).context["report"]
    (row,) = report.rows
    # The songwriter's publishing line, paid in full.
    line = SettlementLine.objects.get(party=world.writer)
    assert row.share_cents == line.amount_cents == row.paid_cents and row.owed_cents == 0
    assert row.consent_seqs == [world.grant.seq]
    rows = list(csv.reader(io.StringIO(client.get(url + "?format=csv").content.decode())))
    assert rows[1][0] == str(world.remix.pk)
    assert client.get(url + "?from=2999-01-01").context["report"].rows == []
    printable = client.get(url + "?print=1")
    assert b"Clearmix licensing report" in printable.content


def test_trail_tells_the_whole_story(world, client, auditor):
    client.force_login(auditor)
    response = client.get(reverse("marketplace:audit_remix_trail", args=[world.remix.pk]))
    trail = response.context["t"]
    categories = [item.category for item in trail.items]
    for expected in (
        "consent",
        "split",
        "job",
        "publication",
        "order",
        "payment",
        "settlement",
        "split line",
        "transfer",
    ):
        assert expected in categories, expected
    assert trail.licensed and trail.consent_still_stands
    body = response.content.decode()
    assert record_url(world.grant) in body
    assert record_url(world.order) in body
    for tr in Transfer.objects.all():
        assert record_url(tr) in body
    assert all(item.url for item in trail.items)


def test_trail_shows_consent_no_longer_stands(world, client, auditor):
    from catalog import services

    services.consent_revoke(party=world.artist, actor=world.artist_user)
    client.force_login(auditor)
    trail = client.get(reverse("marketplace:audit_remix_trail", args=[world.remix.pk])).context["t"]
    assert trail.licensed and not trail.consent_still_stands


def test_record_page_links_foreign_keys(world, client, auditor):
    client.force_login(auditor)
    response = client.get(reverse("marketplace:audit_record", args=["order", world.order.pk]))
    assert (
        reverse("marketplace:audit_record", args=["remix", world.remix.pk])
        in response.content.decode()
    )
    assert client.get(reverse("marketplace:audit_record", args=["nope", 1])).status_code == 404
    assert (
        client.get(reverse("marketplace:audit_record", args=["order", 999999])).status_code == 404
    )


def test_refund_from_the_trail_needs_a_reason_and_is_logged(world, client, auditor, monkeypatch):
    monkeypatch.setattr(
        "marketplace.audit.services.order_refund_full", lambda *, order, reason: order
    )
    client.force_login(auditor)
    url = reverse("marketplace:audit_order_refund", args=[world.order.pk])
    client.post(url, {"reason": " "})
    assert not StaffAuditEntry.objects.filter(action="order.refund").exists()
    response = client.post(url, {"reason": "Duplicate charge"})
    assert response.status_code == 302
    assert StaffAuditEntry.objects.get(action="order.refund").reason == "Duplicate charge"


def test_check_runs_from_the_dashboard(world, client, auditor, monkeypatch):
    monkeypatch.setattr("marketplace.audit.checks.stripe_reconcile", lambda client=None: [])
    client.force_login(auditor)
    client.post(reverse("marketplace:audit_check_run"))
    runs = {run.name: run for run in CheckRun.objects.all()}
    assert set(runs) == set(CheckRun.Name.values)
    assert (
        all(run.ok for run in runs.values()) and runs["ledger"].triggered_by == f"@{auditor.handle}"
    )


def test_crashing_check_is_recorded(db, monkeypatch):
    from marketplace.tasks import audit_check_run

    def boom(client=None):
        raise ConnectionError("Stripe unreachable")

    monkeypatch.setattr("marketplace.audit.checks.stripe_reconcile", boom)
    result = audit_check_run("stripe")
    assert result["status"] == "error" and "Stripe unreachable" in result["summary"]
    from marketplace.audit.checks import check_alerts

    assert [run.name for run in check_alerts()] == ["stripe"]


def test_ledger_check_failure_shows(world, monkeypatch):
    from marketplace.tasks import audit_check_run

    monkeypatch.setattr(
        "marketplace.audit.checks.ledger_verify", lambda: ["transaction #1 is unbalanced"]
    )
    assert audit_check_run("ledger")["status"] == "failed"


def test_audit_checks_command(world, monkeypatch):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    monkeypatch.setattr("marketplace.audit.checks.stripe_reconcile", lambda client=None: [])
    call_command("audit_checks")
    monkeypatch.setattr("marketplace.audit.checks.ledger_verify", lambda: ["bad"])
    with pytest.raises(CommandError):
        call_command("audit_checks", "ledger")


def test_dashboard_names_the_separation_backend(world, client, auditor, settings, tmp_path):
    settings.SEPARATION_BACKEND = "auto"
    settings.DEMUCS_MODEL = "htdemucs"
    settings.DEMUCS_MODEL_REPO = str(tmp_path)  # no weights installed
    client.force_login(auditor)
    page = client.get(reverse("marketplace:audit_dashboard")).content.decode()
    assert "embedded librosa-hpss-v1" in page
    assert "Demucs htdemucs: no weights installed" in page
