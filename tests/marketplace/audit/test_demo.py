"""Clean demo data shows zero anomalies."""

import pytest

from marketplace.audit import anomalies
from marketplace.audit.checks import check_run
from marketplace.demo.seed import seed_demo


@pytest.mark.django_db
def test_clean_demo_has_no_anomalies(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path)
    seed_demo(log=lambda line: None)
    monkeypatch.setattr("marketplace.audit.checks.stripe_reconcile", lambda client=None: [])
    for name in ("consent_chain", "ledger", "stripe", "audit_log"):
        assert check_run(name=name).ok
    assert {k: v for k, v in anomalies.anomalies_all().items() if v} == {}
