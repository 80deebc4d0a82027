"""The one remixability rule: may this recording be remixed now, and under which terms."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import (
    BPS_WHOLE,
    ConsentState,
    Party,
    Recording,
    RecordingArtist,
    SplitShare,
    SplitVersion,
    Takedown,
    WorkWriter,
)
from ..terms import normalize_terms, terms_intersection


class ReasonCode:
    """Why a recording is not remixable. Apps above read these (the audit's
    anomalies, for one); this is their one definition."""

    NO_MAIN_ARTIST = "no_main_artist"
    CONSENT_MISSING = "consent_missing"
    TAKEDOWN = "takedown"
    MASTER_SPLIT_INCOMPLETE = "master_split_incomplete"
    PUBLISHING_SPLIT_INCOMPLETE = "publishing_split_incomplete"


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    party_id: int | None = None


@dataclass(frozen=True)
class Remixability:
    remixable: bool
    reasons: list[Reason] = field(default_factory=list)
    terms: dict = field(default_factory=dict)
    consent_event_ids: list[int] = field(default_factory=list)
    master_split_version_id: int | None = None
    publishing_split_version_id: int | None = None

    @property
    def why_not(self) -> str:
        return " ".join(reason.message for reason in self.reasons)

    @property
    def reason_codes(self) -> str:
        """What the stored state keeps: the distinct codes, sorted, joined."""
        return ",".join(sorted({reason.code for reason in self.reasons}))


@dataclass(frozen=True)
class EffectiveConsent:
    """A party's consent as it applies to one recording."""

    granted: bool
    terms: dict | None
    event_id: int | None
    catalog_wide: bool  # whether the deciding statement was catalog-wide


def consent_from_states(states: Iterable[ConsentState]) -> EffectiveConsent:
    """The latest statement among a recording's own state and the
    catalog-wide state wins (see ConsentState)."""
    latest = max(states, key=lambda state: state.seq, default=None)
    if latest is None:
        return EffectiveConsent(False, None, None, False)
    return EffectiveConsent(
        latest.status == ConsentState.Status.GRANTED,
        normalize_terms(latest.terms),
        latest.event_id,
        latest.recording_id is None,
    )


def consent_effective(*, party: Party, recording: Recording | None) -> EffectiveConsent:
    """The consent that applies to `recording` (or to the catalog when None)."""
    scope = Q(recording__isnull=True)
    if recording is not None:
        scope |= Q(recording=recording)
    return consent_from_states(ConsentState.objects.filter(scope, party=party))


def current_split_versions(**owner_filter) -> dict[int, tuple[int, int]]:
    """owner id -> (current version id, total bps) for versions in effect now."""
    owner_field = "recording_id" if "recording_id__in" in owner_filter else "work_id"
    rows = (
        SplitVersion.objects.filter(effective_from__lte=timezone.now(), **owner_filter)
        .annotate(total=Sum("shares__bps"))
        .order_by(owner_field, "-effective_from", "-number")
        .values_list(owner_field, "id", "total")
    )
    current: dict[int, tuple[int, int]] = {}
    for owner_id, version_id, total in rows:
        current.setdefault(owner_id, (version_id, total or 0))
    return current


def _split_reason(side: str, current: tuple[int, int] | None, *, has_owner: bool = True):
    code = (
        ReasonCode.MASTER_SPLIT_INCOMPLETE
        if side == "master"
        else ReasonCode.PUBLISHING_SPLIT_INCOMPLETE
    )
    label = "Master" if side == "master" else "Publishing"
    if not has_owner:
        return Reason(code, "No composition (work) is linked, so there is no publishing split.")
    if current is None:
        return Reason(code, f"{label} splits have not been entered yet.")
    if current[1] != BPS_WHOLE:
        return Reason(code, f"{label} splits add up to {current[1] / 100:g}%, not 100%.")
    return None


def _main_credits_by_recording(
    recordings: list[Recording], ids: list[int]
) -> dict[int, list[RecordingArtist]]:
    main_by_recording: dict[int, list[RecordingArtist]] = defaultdict(list)
    if all("artists" in getattr(r, "_prefetched_objects_cache", {}) for r in recordings):
        for recording in recordings:
            main_by_recording[recording.id] = [
                credit for credit in recording.artists.all() if credit.role == "main"
            ]
    else:
        credits = RecordingArtist.objects.filter(recording_id__in=ids, role="main")
        for credit in credits.select_related("party").order_by("order", "id"):
            main_by_recording[credit.recording_id].append(credit)
    return main_by_recording


def _consent_states(
    party_ids: set[int], ids: list[int]
) -> dict[tuple[int, int | None], ConsentState]:
    """Each party's catalog-wide state and its states for these recordings."""
    states: dict[tuple[int, int | None], ConsentState] = {}
    state_rows = ConsentState.objects.filter(party_id__in=party_ids).filter(
        Q(recording__isnull=True) | Q(recording_id__in=ids)
    )
    for state in state_rows:
        states[(state.party_id, state.recording_id)] = state
    return states


def _consent_reasons(
    mains: list[RecordingArtist],
    states: dict[tuple[int, int | None], ConsentState],
    *,
    recording_id: int,
) -> tuple[list[Reason], list[EffectiveConsent]]:
    """Why the main artists' consent does not cover the recording, and the consents that do."""
    reasons: list[Reason] = []
    consents: list[EffectiveConsent] = []
    if not mains:
        reasons.append(Reason(ReasonCode.NO_MAIN_ARTIST, "No main artist is credited yet."))
    for credit in mains:
        own = states.get((credit.party_id, recording_id))
        wide = states.get((credit.party_id, None))
        consent = consent_from_states([s for s in (own, wide) if s is not None])
        if consent.granted:
            consents.append(consent)
            continue
        name = credit.party.name
        if consent.event_id is None:
            message = f"{name} has not given consent yet."
        elif consent.catalog_wide:
            message = f"{name} has revoked consent for their catalog."
        else:
            message = f"{name} has revoked consent for this recording."
        reasons.append(Reason(ReasonCode.CONSENT_MISSING, message, credit.party_id))
    return reasons, consents


def recording_remixability_map(
    recordings: Sequence[Recording],
) -> dict[int, Remixability]:
    """Remixability for many recordings in five queries, whatever their number.

    Uses `recording.artists` when prefetched (see recording_list_remixable).
    """
    recordings = list(recordings)
    if not recordings:
        return {}
    ids = [recording.id for recording in recordings]
    work_ids = {recording.work_id for recording in recordings if recording.work_id}

    main_by_recording = _main_credits_by_recording(recordings, ids)
    party_ids = {credit.party_id for credits in main_by_recording.values() for credit in credits}
    states = _consent_states(party_ids, ids)

    master = current_split_versions(recording_id__in=ids)
    publishing = current_split_versions(work_id__in=work_ids) if work_ids else {}
    taken_down = dict(
        Takedown.objects.filter(recording_id__in=ids, lifted_event__isnull=True).values_list(
            "recording_id", "reason"
        )
    )

    result: dict[int, Remixability] = {}
    for recording in recordings:
        reasons, consents = _consent_reasons(
            main_by_recording.get(recording.id, []), states, recording_id=recording.id
        )
        master_current = master.get(recording.id)
        publishing_current = publishing.get(recording.work_id) if recording.work_id else None
        for reason in (
            _split_reason("master", master_current),
            _split_reason("publishing", publishing_current, has_owner=bool(recording.work_id)),
        ):
            if reason is not None:
                reasons.append(reason)
        if recording.id in taken_down:
            reasons.append(Reason(ReasonCode.TAKEDOWN, f"Taken down: {taken_down[recording.id]}"))
        remixable = not reasons
        result[recording.id] = Remixability(
            remixable=remixable,
            reasons=reasons,
            terms=terms_intersection(c.terms for c in consents) if remixable else {},
            consent_event_ids=sorted(c.event_id for c in consents if c.event_id),
            master_split_version_id=master_current[0] if master_current else None,
            publishing_split_version_id=publishing_current[0] if publishing_current else None,
        )
    return result


def recording_remixability(*, recording: Recording) -> Remixability:
    """The rule: every main artist's current consent covers the recording,
    master and publishing splits each sum to 10000 bps, no takedown in force."""
    return recording_remixability_map([recording])[recording.id]


def _remixable_expression(now: datetime) -> ExpressionWrapper:
    """The same rule as SQL, for filtering lists; tests keep both in step."""
    latest_status = Subquery(
        ConsentState.objects.filter(party_id=OuterRef("party_id"))
        .filter(Q(recording__isnull=True) | Q(recording_id=OuterRef("recording_id")))
        .order_by("-seq")
        .values("status")[:1]
    )
    uncovered_main = (
        RecordingArtist.objects.filter(recording_id=OuterRef("pk"), role="main")
        .annotate(latest_status=latest_status)
        .filter(Q(latest_status__isnull=True) | Q(latest_status="revoked"))
    )

    return ExpressionWrapper(
        Exists(RecordingArtist.objects.filter(recording_id=OuterRef("pk"), role="main"))
        & ~Exists(uncovered_main)
        & Q(master_total=BPS_WHOLE)
        & Q(publishing_total=BPS_WHOLE)
        & ~Exists(Takedown.objects.filter(recording_id=OuterRef("pk"), lifted_event__isnull=True)),
        output_field=BooleanField(),
    )


def recording_queryset_with_credits() -> QuerySet[Recording]:
    return Recording.objects.select_related("work").prefetch_related(
        Prefetch(
            "artists",
            queryset=RecordingArtist.objects.select_related("party").order_by("order", "id"),
        ),
        Prefetch("work__writers", queryset=WorkWriter.objects.select_related("party")),
    )


def recording_list_remixable_sql(*, now: datetime | None = None) -> QuerySet[Recording]:
    """Every recording with `remixable` computed by the SQL twin of the rule.

    Too slow for pages (it runs the rule over the whole catalog); it is how
    the stored state is verified (`recording_remixability_state_mismatches`)
    and how tests keep the SQL and Python forms in step.
    """
    now = now or timezone.now()
    master_version = (
        SplitVersion.objects.filter(recording_id=OuterRef(OuterRef("pk")), effective_from__lte=now)
        .order_by("-effective_from", "-number")
        .values("id")[:1]
    )
    publishing_version = (
        SplitVersion.objects.filter(work_id=OuterRef(OuterRef("work_id")), effective_from__lte=now)
        .order_by("-effective_from", "-number")
        .values("id")[:1]
    )

    def total(version) -> Coalesce:
        # Coalesce: a missing split must compare as 0, not as SQL NULL.
        return Coalesce(
            Subquery(
                SplitShare.objects.filter(version_id=Subquery(version))
                .values("version_id")
                .annotate(total=Sum("bps"))
                .values("total")[:1],
                output_field=IntegerField(),
            ),
            0,
        )

    return (
        Recording.objects.annotate(
            master_total=total(master_version), publishing_total=total(publishing_version)
        )
        .annotate(remixable=_remixable_expression(now))
        .order_by("pk")
    )
