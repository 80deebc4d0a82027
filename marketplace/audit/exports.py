"""CSV exports: one function per list, each returning (header, rows) so the
view can stream them and log how many rows left the system."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence

from django.http import HttpResponse

from .anomalies import Anomaly
from .selectors import ArtistReport


def _cents(value: int | None) -> str:
    return "" if value is None else f"{value / 100:.2f}"


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        # Cells starting with = + - @ would run as formulas in a spreadsheet.
        writer.writerow([_safe(cell) for cell in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _safe(cell) -> str:
    text = "" if cell is None else str(cell)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


ANOMALY_HEADER = [
    "kind",
    "subject",
    "detail",
    "when",
    "remix_id",
    "recording_id",
    "party_ids",
    "amount",
    "currency",
    "evidence",
]


def anomaly_rows(items: Iterable[Anomaly]) -> list[list]:
    return [
        [
            a.kind,
            a.subject,
            a.detail,
            a.when.isoformat() if a.when else "",
            a.remix_id or "",
            a.recording_id or "",
            " ".join(str(p) for p in a.party_ids),
            _cents(a.amount_cents),
            a.currency,
            " ".join(e.url or "" for e in a.evidence),
        ]
        for a in items
    ]


REMIX_HEADER = [
    "remix_id",
    "created_at",
    "title",
    "recording",
    "isrc",
    "main_artists",
    "fan",
    "status",
    "published_at",
    "unpublished_at",
    "orders",
    "paid",
    "refunded",
    "currency",
]


def remix_rows(remixes) -> list[list]:
    return [
        [
            r.pk,
            r.created_at.isoformat(),
            r.title,
            r.recording.title,
            r.recording.isrc or "",
            "; ".join(c.party.name for c in r.recording.main_credits),
            r.fan.handle,
            r.status,
            r.published_at.isoformat() if r.published_at else "",
            r.unpublished_at.isoformat() if r.unpublished_at else "",
            r.order_count,
            _cents(r.paid_cents or 0),
            _cents(r.refunded_cents or 0),
            r.currency or "",
        ]
        for r in remixes
    ]


REPORT_HEADER = [
    "remix_id",
    "created_at",
    "title",
    "recording",
    "isrc",
    "fan",
    "status",
    "consent_events",
    "gross_paid",
    "refunded",
    "party_share",
    "paid_to_party",
    "owed_to_party",
    "currency",
]


def report_rows(report: ArtistReport) -> list[list]:
    return [
        [
            row.remix.pk,
            row.remix.created_at.isoformat(),
            row.remix.title,
            row.remix.recording.title,
            row.remix.recording.isrc or "",
            row.remix.fan.handle,
            row.remix.status,
            " ".join(f"#{seq}" for seq in row.consent_seqs),
            _cents(row.gross_cents),
            _cents(row.refunded_cents),
            _cents(row.share_cents),
            _cents(row.paid_cents),
            _cents(row.owed_cents),
            row.currency,
        ]
        for row in report.rows
    ]


LOG_HEADER = [
    "seq",
    "created_at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "reason",
    "data",
    "hash",
]


def log_rows(entries) -> list[list]:
    return [
        [
            e.seq,
            e.created_at.isoformat(),
            e.actor.handle,
            e.action,
            e.subject_type,
            e.subject_id,
            e.reason,
            json.dumps(e.data, sort_keys=True),
            e.hash,
        ]
        for e in entries
    ]
