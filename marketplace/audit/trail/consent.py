"""The consent a remix relied on, how it stands now, and takedowns."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.models import ConsentEvent, Recording, Takedown
from catalog.selectors import consent_effective
from marketplace.audit.links import record_url
from remixing.models import Remix

from .items import TrailItem


@dataclass
class ConsentBasis:
    event: ConsentEvent
    stands: bool
    now: str  # how it stands now, in words
    current_event_id: int | None


def consent_basis(remix: Remix) -> list[ConsentBasis]:
    events = list(
        remix.consent_events.select_related("party", "actor", "recording").order_by("seq")
    )
    basis = []
    for event in events:
        if event.party_id is None:
            basis.append(ConsentBasis(event, True, "Staff event", None))
            continue
        # A handful of parties per remix: one small query each is fine here.
        effective = consent_effective(party=event.party, recording=remix.recording)
        if not effective.granted:
            now = "Revoked since" if effective.event_id else "Never granted"
            stands = False
        elif effective.event_id == event.pk:
            now, stands = "Still in force", True
        else:
            now, stands = "Still granted (restated since)", True
        basis.append(ConsentBasis(event, stands, now, effective.event_id))
    return basis


def takedown_list(recording: Recording) -> list[Takedown]:
    return list(
        Takedown.objects.filter(recording=recording).select_related(
            "placed_event__actor", "lifted_event__actor"
        )
    )


def consent_items(consent: list[ConsentBasis]) -> list[TrailItem]:
    items = []
    for basis in consent:
        event = basis.event
        scope = event.recording.title if event.recording_id else "whole catalog"
        who = event.party.name if event.party_id else "staff"
        items.append(
            TrailItem(
                event.created_at,
                "consent",
                f"{event.get_kind_display()} by {who} ({scope})",
                f"Consent event #{event.seq}, hash {event.hash[:12]}…; relied on by this remix. "
                f"Now: {basis.now}.",
                "ok" if basis.stands else "bad",
                "stands" if basis.stands else "no longer stands",
                record_url(event),
                f"Consent event #{event.seq}",
            )
        )
    return items


def takedown_items(takedowns: list[Takedown]) -> list[TrailItem]:
    items = []
    for takedown in takedowns:
        items.append(
            TrailItem(
                takedown.placed_at,
                "takedown",
                "Track taken down by staff",
                takedown.reason,
                "bad" if takedown.in_force else "muted",
                "in force" if takedown.in_force else "lifted",
                record_url(takedown.placed_event),
                f"Consent event #{takedown.placed_event.seq}",
            )
        )
        if takedown.lifted_event_id:
            items.append(
                TrailItem(
                    takedown.lifted_at,
                    "takedown",
                    "Takedown lifted",
                    takedown.lifted_event.reason,
                    "ok",
                    "lifted",
                    record_url(takedown.lifted_event),
                    f"Consent event #{takedown.lifted_event.seq}",
                )
            )
    return items
