"""The remix trail, pinned: a full story (consent, a takedown placed and
lifted, splits, jobs, a paid order with transfers, a refund with reversals,
webhooks and staff actions) compared with a stored snapshot, and the exact
number of queries the trail page makes.

Ids, hashes and timestamps are normalised; everything an auditor reads
(titles, details, badges, link labels, amounts) is compared as is. To accept a
deliberate change, run with CLEARMIX_UPDATE_SNAPSHOTS=1 and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog import services as catalog_services
from catalog.audit_log import staff_audit_append
from marketplace.audit.selectors import remix_trail
from marketplace.models import Order, WebhookEvent
from remixing.models import RemixEvent
from royalties.services.refunds import refund_post

# Session, user, the trail (remix, consent, takedowns, orders, settlements and
# their lines, transfers, reversals and refunds, splits, blocks, webhooks, staff
# entries, payees, remix events), the site banner's check alerts and the remix's
# "remix this remix" chain (added by the discovery merge: 31 -> 32; the audit
# pages' own copy of the check alerts, which the banner already read: 32 -> 31).
TRAIL_PAGE_QUERIES = 31

SNAPSHOT = Path(__file__).parent / "snapshots" / "remix_trail.json"

# Order matters: the most specific patterns first.
VOLATILE = [
    (re.compile(r"\b[0-9a-f]{64}\b"), "<hash>"),
    (re.compile(r"hash [0-9a-f]{12}…"), "hash <hash>…"),
    (re.compile(r"\b(remix|order)_\d+_[0-9.]+\b"), r"\1_<id>_<ts>"),
    (re.compile(r"\b([a-z]+)_(\d+)\b"), r"\1_<id>"),
    (re.compile(r"#\d+"), "#<id>"),
    (re.compile(r"/\d+/"), "/<id>/"),
    (re.compile(r"clearmix-[a-z-]+-\d+-\d+-[0-9a-f]+"), "<idempotency-key>"),
]


def normalise(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


@pytest.fixture
def full_story(world, auditor):
    """The audit `world` (licensed, published, paid and transferred remix)
    plus a takedown placed and lifted, a failed render attempt, a full
    refund with its reversals, two webhooks and a staff refund action."""
    recording, remix, order = world.recording, world.remix, world.order
    # Fixed names: the factories draw random ones.
    for user, name in ((world.fan, "Fay Fan"), (auditor, "Audra Auditor")):
        type(user).objects.filter(pk=user.pk).update(display_name=name)
        user.refresh_from_db()
    catalog_services.takedown_place(recording=recording, actor=auditor, reason="Claim checked")
    catalog_services.takedown_lift(recording=recording, actor=auditor, reason="Claim withdrawn")
    RemixEvent.objects.create(
        remix=remix,
        from_status="queued",
        to_status="failed",
        actor_kind="worker",
        reason="Render crashed",
        attempt=1,
    )
    refund_post(
        refund_id="re_snapshot", amount_cents=order.amount_cents, charge_id=order.stripe_charge_id
    )
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.REFUNDED,
        refunded_cents=order.amount_cents,
        refunded_at=timezone.now(),
        stripe_refund_id="re_snapshot",
        refund_reason="Fan asked for it.",
    )
    for event_id, kind, object_id, status in (
        ("evt_paid", "checkout.session.completed", order.stripe_payment_intent_id, "processed"),
        ("evt_refunded", "charge.refunded", order.stripe_charge_id, "failed"),
        ("evt_other", "charge.refunded", "ch_not_this_order", "processed"),
    ):
        WebhookEvent.objects.create(
            stripe_event_id=event_id, type=kind, object_id=object_id, payload={}, status=status
        )
    staff_audit_append(
        actor=auditor,
        action="order.refund",
        subject_type="order",
        subject_id=str(order.pk),
        reason="Fan asked for it.",
    )
    staff_audit_append(
        actor=auditor, action="remix.note", subject_type="remix", subject_id=str(remix.pk)
    )
    return world


def trail_data(remix_id: int) -> dict:
    trail = remix_trail(remix_id=remix_id)
    data = {
        "licensed": trail.licensed,
        "consent_still_stands": trail.consent_still_stands,
        "remixable_now": trail.remixability_now.remixable,
        "consent": [
            {"kind": c.event.kind, "stands": c.stands, "now": c.now} for c in trail.consent
        ],
        "takedowns": [{"reason": t.reason, "in_force": t.in_force} for t in trail.takedowns],
        "splits": [
            {
                "side": v.side,
                "number": v.number,
                "shares": [(s.party.name, s.bps) for s in v.shares.all()],
            }
            for v in trail.splits
        ],
        "orders": [{"status": o.status, "refunded_cents": o.refunded_cents} for o in trail.orders],
        "settlements": [
            {"gross_cents": s.gross_cents, "lines": len(s.lines.all())} for s in trail.settlements
        ],
        "blocks": [b.reason for b in trail.blocks],
        "money": [
            {
                "party": m.party.name,
                "kind": m.kind,
                "amount": m.amount_cents,
                "refunded": m.refunded_cents,
                "paid": m.paid_cents,
                "owed": m.owed_cents,
                "receivable": m.receivable_cents,
                "currency": m.currency,
                "payee_status": m.payee_status,
            }
            for m in trail.money
        ],
        "staff": [(e.action, e.reason) for e in trail.staff_entries],
        "terms": trail.terms,
        "recipe_json": trail.recipe_json,
        "rendered_recipe_json": trail.rendered_recipe_json,
        "items": [
            {
                "has_time": item.when is not None,
                "category": item.category,
                "title": item.title,
                "detail": item.detail,
                "status": item.status,
                "status_label": str(item.status_label),
                "url": item.url,
                "link_label": item.link_label,
            }
            for item in trail.items
        ],
    }
    return json.loads(normalise(json.dumps(data, ensure_ascii=False, default=str)))


def test_full_trail_matches_the_snapshot(full_story):
    data = trail_data(full_story.remix.pk)
    if os.environ.get("CLEARMIX_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    assert SNAPSHOT.exists(), "No snapshot yet: run once with CLEARMIX_UPDATE_SNAPSHOTS=1."
    assert data == json.loads(SNAPSHOT.read_text())


def test_trail_page_query_count(full_story, client, auditor, django_assert_num_queries):
    client.force_login(auditor)
    url = reverse("marketplace:audit_remix_trail", args=[full_story.remix.pk])
    client.get(url)  # warm the session and content types
    with django_assert_num_queries(TRAIL_PAGE_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Refunded" in body and "Stripe event charge.refunded" in body
