"""How billing sees a remix.

Billing must not decide consent (catalog owns the rule) but it must ask before
it charges: the owner check and catalog's remixability rule always run, and
other apps may add gates with `register_remix_gate(fn)`, where
`fn(*, fan, remix)` raises core.errors.DomainError when the remix may not be
bought now (for example a remix whose job was cancelled).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.selectors import recording_remixability
from core.errors import Conflict, NotFound, PermissionDenied
from remixing.models import Remix
from remixing.selectors import remix_delivery_readiness, remix_terms_refusal

RemixGate = Callable[..., None]
_gates: list[RemixGate] = []


def register_remix_gate(fn: RemixGate) -> RemixGate:
    if fn not in _gates:
        _gates.append(fn)
    return fn


def unregister_remix_gate(fn: RemixGate) -> None:
    if fn in _gates:
        _gates.remove(fn)


def remix_transfer_group(remix: Remix) -> str:
    """The Connect transfer_group shared by the charge and the royalty transfers."""
    return f"remix_{remix.pk}"


def remix_is_remixable(*, remix: Remix) -> tuple[bool, str]:
    """Remixable now, and under terms that still allow everything its recipe does."""
    result = recording_remixability(recording=remix.recording)
    if not result.remixable:
        return False, str(getattr(result, "why_not", "") or "")
    refusal = remix_terms_refusal(remix=remix, terms=dict(result.terms))
    return not refusal, refusal


def remix_purchase_check(*, fan: Any, remix: Remix) -> None:
    """Refuse a purchase the fan may not make, with a message they can act on."""
    if remix.fan_id != fan.pk:
        raise PermissionDenied("This remix is not yours to export.", code="remix_not_owned")
    if remix.status == Remix.Status.CANCELLED:
        raise Conflict("This remix was cancelled and cannot be exported.", code="remix_cancelled")
    remixable, why_not = remix_is_remixable(remix=remix)
    if not remixable:
        # A valid request the terms in force refuse: 409, as every remixing write answers.
        raise Conflict(
            f"This track is not open for remixing right now, so this remix cannot be exported. "
            f"{why_not}".strip(),
            code="not_remixable",
        )
    readiness = remix_delivery_readiness(remix=remix)
    if not readiness.ready:
        # Paid means delivered or refunded: never take money for a render
        # that has no stems to render from.
        raise Conflict(readiness.message, code="not_deliverable")
    for gate in _gates:
        gate(fan=fan, remix=remix)


def remix_get(*, remix_id: int) -> Remix:
    remix = Remix.objects.select_related("recording").filter(pk=remix_id).first()
    if remix is None:
        raise NotFound("No such remix.")
    return remix
