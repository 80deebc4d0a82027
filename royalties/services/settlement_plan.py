"""Planning settlements: from a paid order to its split lines, for many orders
in two queries (their split versions and shares), or a block staff must see.

Nothing here writes the ledger; `settlements` posts the plans.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction

from catalog.models import Recording, SplitShare, SplitVersion
from core.errors import DomainError
from royalties.models import SettlementBlock
from royalties.splits import BPS_WHOLE, SplitError, SplitLine, compute_split

log = logging.getLogger(__name__)


class SettlementBlocked(DomainError):
    default_code = "settlement_blocked"
    status_code = 409


@dataclass(frozen=True)
class SettlementRequest:
    """A paid order to settle. Split versions and recording may be model
    instances or primary keys (a queued task carries keys)."""

    order_ref: str
    gross_cents: int
    currency: str
    master_split_version: SplitVersion | int | None
    publishing_split_version: SplitVersion | int | None
    charge_id: str
    transfer_group: str
    remix_ref: str = ""
    recording: Recording | int | None = None
    platform_fee_bps: int | None = None
    master_pool_bps: int | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class SettlementPlan:
    request: SettlementRequest
    currency: str
    recording_id: int | None
    master: SplitVersion
    publishing: SplitVersion
    platform_fee_bps: int
    master_pool_bps: int
    lines: list[SplitLine]


def _pk_of(value: object) -> int | None:
    return getattr(value, "pk", value)  # type: ignore[return-value]


def _versions_and_shares(
    requests: list[SettlementRequest],
) -> tuple[dict[int, SplitVersion], dict[int, list[tuple[int, int]]]]:
    """Every split version the requests name, and its shares: two queries."""
    versions: dict[int, SplitVersion] = {}
    wanted: set[int] = set()
    for r in requests:
        for value in (r.master_split_version, r.publishing_split_version):
            if isinstance(value, SplitVersion):
                versions[value.pk] = value
            elif value is not None:
                wanted.add(value)
    if wanted - versions.keys():
        versions |= SplitVersion.objects.in_bulk(list(wanted - versions.keys()))
    shares: dict[int, list[tuple[int, int]]] = {pk: [] for pk in versions}
    rows = SplitShare.objects.filter(version_id__in=list(versions)).values_list(
        "version_id", "party_id", "bps"
    )
    for version_id, party_id, bps in rows:
        shares[version_id].append((party_id, bps))
    return versions, shares


def _problems(
    master: SplitVersion | None,
    publishing: SplitVersion | None,
    shares: dict[int, list[tuple[int, int]]],
    recording_id: int | None,
    details: dict,
) -> list[str]:
    """Why these split versions cannot settle a sale of `recording_id` ([] if they can)."""
    problems: list[str] = []
    if master is None or master.side != SplitVersion.Side.MASTER:
        problems.append("master split version missing or not a master split")
    if publishing is None or publishing.side != SplitVersion.Side.PUBLISHING:
        problems.append("publishing split version missing or not a publishing split")
    if master and recording_id and master.recording_id != recording_id:
        problems.append("master split version belongs to another recording")
    for name, version in (("master", master), ("publishing", publishing)):
        if version is not None:
            total = sum(bps for _, bps in shares[version.pk])
            details[f"{name}_split_version"] = version.pk
            details[f"{name}_bps_total"] = total
            if total != BPS_WHOLE:
                problems.append(f"{name} split v{version.number} sums to {total} bps, not 10000")
    return problems


def _block(order_ref: str, problems: list[str], details: dict) -> SettlementBlocked:
    """Record why an order cannot settle, where staff see it, and say so."""
    reason = "; ".join(problems)
    details["problems"] = problems
    # Its own transaction (a savepoint when nested): staff see it even though
    # the settlement itself is refused.
    with transaction.atomic():
        SettlementBlock.objects.update_or_create(
            order_ref=order_ref,
            defaults={"reason": reason[:300], "details": details, "resolved_at": None},
        )
    log.error("settlement blocked for %s: %s", order_ref, reason)
    return SettlementBlocked(
        f"Settlement of {order_ref} is blocked: {reason}", fields={"order_ref": reason}
    )


def _plan_one(
    r: SettlementRequest,
    versions: dict[int, SplitVersion],
    shares: dict[int, list[tuple[int, int]]],
) -> SettlementPlan | SettlementBlocked:
    currency = (r.currency or "").lower()
    fee_bps = settings.PLATFORM_FEE_BPS if r.platform_fee_bps is None else r.platform_fee_bps
    pool_bps = settings.MASTER_POOL_BPS if r.master_pool_bps is None else r.master_pool_bps
    master = versions.get(_pk_of(r.master_split_version))  # type: ignore[arg-type]
    publishing = versions.get(_pk_of(r.publishing_split_version))  # type: ignore[arg-type]
    details: dict = {"gross_cents": r.gross_cents, "currency": currency}
    problems = _problems(master, publishing, shares, _pk_of(r.recording), details)
    if not problems:
        assert master is not None and publishing is not None
        try:
            lines = compute_split(
                gross_cents=r.gross_cents,
                currency=currency,
                platform_fee_bps=fee_bps,
                master_pool_bps=pool_bps,
                master_shares=shares[master.pk],
                publishing_shares=shares[publishing.pk],
            )
        except SplitError as exc:
            problems.append(str(exc))
    if problems:
        return _block(r.order_ref, problems, details)
    assert master is not None and publishing is not None
    recording_id = _pk_of(r.recording) or master.recording_id
    return SettlementPlan(r, currency, recording_id, master, publishing, fee_bps, pool_bps, lines)


def settlement_plans(
    requests: list[SettlementRequest],
) -> list[SettlementPlan | SettlementBlocked]:
    """A plan per request, in order, or the block recorded for it."""
    versions, shares = _versions_and_shares(requests)
    return [_plan_one(r, versions, shares) for r in requests]
