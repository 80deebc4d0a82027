"""The four integrity checks, run on a schedule and on demand.

Each wraps an existing verification function (the same ones the management
commands call) and stores its result as a CheckRun, so the dashboard and the
staff banner can show the last result without re-running anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from catalog.audit_log import staff_audit_verify
from catalog.models import ConsentEvent, Recording, StaffAuditEntry
from catalog.selectors import (
    consent_chain_verify,
    consent_state_mismatches,
    recording_remixability_state_mismatches,
)
from marketplace.models import CheckRun
from royalties.audit import ledger_verify, stripe_reconcile
from royalties.models import Entry, LedgerTransaction

from .links import record_url

log = logging.getLogger(__name__)

# A check whose last success is older than this is shown as stale.
STALE_AFTER = timedelta(hours=26)


@dataclass
class CheckResult:
    ok: bool
    summary: str
    problems: list[str] = field(default_factory=list)
    evidence: list[dict] = field(default_factory=list)  # [{"label", "url"}]


def _chain_break_result(broken, *, what: str, model, count: int) -> CheckResult:
    if broken is None:
        return CheckResult(True, f"{what} intact: {count} verified.")
    where = f"#{broken.seq}" if broken.seq is not None else "the chain"
    evidence = []
    if broken.event_id is not None:
        evidence.append({"label": f"{what} {where}", "url": record_url(model, broken.event_id)})
    return CheckResult(
        False,
        f"{what} BROKEN at {where}: {broken.problem}.",
        problems=[f"{where}: {broken.problem}"],
        evidence=evidence,
    )


def check_consent_chain() -> CheckResult:

    result = _chain_break_result(
        consent_chain_verify(),
        what="Consent chain",
        model=ConsentEvent,
        count=ConsentEvent.objects.count(),
    )
    return _with_remixability_state(result) if result.ok else result


def _with_remixability_state(result: CheckResult) -> CheckResult:
    """The state derived from the chain (consent state, then each recording's
    stored verdict) must equal a fresh recomputation (verify_remixability)."""
    mismatches = recording_remixability_state_mismatches()
    problems = consent_state_mismatches()
    problems += [
        f"recording {m.recording_id}: stored {m.stored}, rule {m.rule}" for m in mismatches
    ]
    if not problems:
        return CheckResult(True, f"{result.summary} Remixability state agrees with the rule.")
    evidence = [
        {"label": f"Recording {m.recording_id}", "url": record_url(Recording, m.recording_id)}
        for m in mismatches[:20]
    ]
    return CheckResult(
        False,
        f"Remixability state differs from the rule: {problems[0]} ({len(problems)} in all).",
        problems=problems,
        evidence=evidence,
    )


def check_audit_log() -> CheckResult:

    return _chain_break_result(
        staff_audit_verify(),
        what="Staff audit log",
        model=StaffAuditEntry,
        count=StaffAuditEntry.objects.count(),
    )


def check_ledger() -> CheckResult:

    problems = ledger_verify()
    if problems:
        return CheckResult(
            False, f"Ledger discrepancy: {problems[0]} ({len(problems)} in all).", problems
        )
    return CheckResult(
        True,
        f"Ledger balanced: {LedgerTransaction.objects.count()} transactions, "
        f"{Entry.objects.count()} entries.",
    )


def check_stripe() -> CheckResult:

    problems = stripe_reconcile()
    if problems:
        return CheckResult(
            False, f"Stripe mismatch: {problems[0]} ({len(problems)} in all).", problems
        )
    return CheckResult(True, "Stripe and the ledger agree on every transfer and reversal.")


CHECKS: dict[str, Callable[[], CheckResult]] = {
    CheckRun.Name.CONSENT_CHAIN: check_consent_chain,
    CheckRun.Name.LEDGER: check_ledger,
    CheckRun.Name.STRIPE: check_stripe,
    CheckRun.Name.AUDIT_LOG: check_audit_log,
}


def check_run(*, name: str, triggered_by: str = "beat") -> CheckRun:
    """Run one check and store its result. A crash is stored too (ok=None),
    so a check that cannot run is as visible as one that fails."""
    if name not in CHECKS:
        raise ValueError(f"unknown check {name!r}; choose from {', '.join(CHECKS)}")
    # Committed before the check runs, so a run that hangs shows as running.
    run = CheckRun.objects.create(name=name, started_at=timezone.now(), triggered_by=triggered_by)
    try:
        result = CHECKS[name]()
    except Exception as exc:
        log.exception("audit check %s crashed", name)
        run.ok = None
        run.summary = f"The check could not run: {type(exc).__name__}: {exc}"[:500]
        run.details = {"error": repr(exc)[:2000]}
        run.finished_at = timezone.now()
        run.save(update_fields=["ok", "summary", "details", "finished_at"])
        return run
    run.ok = result.ok
    run.summary = result.summary[:500]
    run.details = {"problems": result.problems[:200], "evidence": result.evidence}
    run.finished_at = timezone.now()
    with transaction.atomic():
        run.save(update_fields=["ok", "summary", "details", "finished_at"])
    return run


def latest_runs() -> dict[str, CheckRun | None]:
    """The latest finished-or-running run of each check, in one query."""
    latest_ids = CheckRun.objects.filter(name=OuterRef("name")).order_by("-started_at", "-id")
    runs = CheckRun.objects.filter(pk=Subquery(latest_ids.values("pk")[:1]))
    by_name = {run.name: run for run in runs}
    return {name: by_name.get(name) for name in CHECKS}


def check_alerts() -> list[CheckRun]:
    """Latest runs that failed or crashed: what the staff banner shows."""
    return [
        run
        for run in latest_runs().values()
        if run is not None and run.finished_at is not None and run.ok is not True
    ]


def is_stale(run: CheckRun | None) -> bool:
    return run is None or run.started_at < timezone.now() - STALE_AFTER
