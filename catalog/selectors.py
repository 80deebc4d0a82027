"""Reads of the rights catalog, including the one remixability rule.

Everything that asks "may this recording be remixed now, and under which
terms?" calls `recording_remixability` (one recording) or
`recording_remixability_map` / `recording_list_remixable` (many, in a fixed
number of queries).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

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

from .chain import ChainBreak, find_first_break
from .identifiers import format_iswc
from .models import (
    BPS_WHOLE,
    ConsentChainHead,
    ConsentEvent,
    ConsentState,
    Party,
    Recording,
    RecordingArtist,
    SplitShare,
    SplitVersion,
    Takedown,
    WorkWriter,
)
from .terms import normalize_terms, terms_intersection

# --- Remixability -----------------------------------------------------------


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


@dataclass(frozen=True)
class EffectiveConsent:
    """A party's consent as it applies to one recording."""

    granted: bool
    terms: dict | None
    event_id: int | None
    catalog_wide: bool  # whether the deciding statement was catalog-wide


def _effective(states: Iterable[ConsentState]) -> EffectiveConsent:
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
    return _effective(ConsentState.objects.filter(scope, party=party))


def _current_versions(**owner_filter) -> dict[int, tuple[int, int]]:
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
    code = f"{side}_split_incomplete"
    label = "Master" if side == "master" else "Publishing"
    if not has_owner:
        return Reason(code, "No composition (work) is linked, so there is no publishing split.")
    if current is None:
        return Reason(code, f"{label} splits have not been entered yet.")
    if current[1] != BPS_WHOLE:
        return Reason(code, f"{label} splits add up to {current[1] / 100:g}%, not 100%.")
    return None


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

    party_ids = {credit.party_id for credits in main_by_recording.values() for credit in credits}
    states: dict[tuple[int, int | None], ConsentState] = {}
    state_rows = ConsentState.objects.filter(party_id__in=party_ids).filter(
        Q(recording__isnull=True) | Q(recording_id__in=ids)
    )
    for state in state_rows:
        states[(state.party_id, state.recording_id)] = state

    master = _current_versions(recording_id__in=ids)
    publishing = _current_versions(work_id__in=work_ids) if work_ids else {}
    taken_down = dict(
        Takedown.objects.filter(recording_id__in=ids, lifted_event__isnull=True).values_list(
            "recording_id", "reason"
        )
    )

    result: dict[int, Remixability] = {}
    for recording in recordings:
        reasons: list[Reason] = []
        consents: list[EffectiveConsent] = []
        mains = main_by_recording.get(recording.id, [])
        if not mains:
            reasons.append(Reason("no_main_artist", "No main artist is credited yet."))
        for credit in mains:
            own = states.get((credit.party_id, recording.id))
            wide = states.get((credit.party_id, None))
            consent = _effective([s for s in (own, wide) if s is not None])
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
            reasons.append(Reason("consent_missing", message, credit.party_id))
        master_current = master.get(recording.id)
        publishing_current = publishing.get(recording.work_id) if recording.work_id else None
        for reason in (
            _split_reason("master", master_current),
            _split_reason("publishing", publishing_current, has_owner=bool(recording.work_id)),
        ):
            if reason is not None:
                reasons.append(reason)
        if recording.id in taken_down:
            reasons.append(Reason("takedown", f"Taken down: {taken_down[recording.id]}"))
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


def recording_list_remixable(
    *,
    q: str | None = None,
    artist: str | int | None = None,
    genre: str | None = None,
    tempo_min: int | None = None,
    tempo_max: int | None = None,
    key: str | None = None,
    mood: str | None = None,
    remixable_only: bool = True,
) -> QuerySet[Recording]:
    """Recordings with a `remixable` annotation computed in SQL, filtered.

    Credits are prefetched; pass the page you show to
    `recording_remixability_map` for the reasons and terms.
    """
    now = timezone.now()
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

    queryset = recording_queryset_with_credits().annotate(
        master_total=total(master_version), publishing_total=total(publishing_version)
    )
    queryset = queryset.annotate(remixable=_remixable_expression(now))
    if q:
        queryset = queryset.filter(
            Q(title__icontains=q)
            | Q(isrc__iexact=q.replace("-", ""))
            | Q(artists__party__name__icontains=q)
            | Q(work__title__icontains=q)
        )
    if artist not in (None, ""):
        if isinstance(artist, int) or str(artist).isdigit():
            queryset = queryset.filter(artists__party_id=int(artist))
        else:
            queryset = queryset.filter(artists__party__name__icontains=artist)
    if genre:
        queryset = queryset.filter(genre__iexact=genre)
    if key:
        queryset = queryset.filter(key__iexact=key)
    if mood:
        # JSON list of lower-case tags; matching the quoted tag works on both databases.
        queryset = queryset.filter(mood__icontains=f'"{mood.strip().lower()}"')
    if tempo_min is not None:
        queryset = queryset.filter(tempo_bpm__gte=tempo_min)
    if tempo_max is not None:
        queryset = queryset.filter(tempo_bpm__lte=tempo_max)
    if remixable_only:
        queryset = queryset.filter(remixable=True)
    return queryset.distinct().order_by("title", "id")


# --- Credits ----------------------------------------------------------------


@dataclass(frozen=True)
class Credits:
    title: str
    main_artists: list[str]
    featured_artists: list[str]
    songwriters: list[tuple[str, str]]  # (name, role label)
    isrc: str
    iswc: str
    work_title: str
    credit_line: str


def _join_names(names: list[str]) -> str:
    if len(names) <= 2:
        return " & ".join(names)
    return ", ".join(names[:-1]) + " & " + names[-1]


def recording_credits(*, recording: Recording) -> Credits:
    """Everything a remix page or file tag must name. Writers come from the
    work's writer credits, else from songwriters in its publishing split."""
    credits = list(recording.artists.all())
    main = [c.party.name for c in credits if c.role == RecordingArtist.Role.MAIN]
    featured = [c.party.name for c in credits if c.role == RecordingArtist.Role.FEATURED]
    writers: list[tuple[str, str]] = []
    work = recording.work
    if work is not None:
        writers = [(w.party.name, w.get_role_display()) for w in work.writers.all()]
        if not writers:
            current = _current_versions(work_id__in=[work.id]).get(work.id)
            if current:
                shares = SplitShare.objects.filter(
                    version_id=current[0], party__kind=Party.Kind.SONGWRITER
                ).select_related("party")
                writers = [(share.party.name, "Songwriter") for share in shares]
    line = f"Remix of “{recording.title}”"
    if main:
        line += f" by {_join_names(main)}"
    if featured:
        line += f" feat. {_join_names(featured)}"
    if writers:
        line += f", written by {', '.join(name for name, _ in writers)}"
    return Credits(
        title=recording.title,
        main_artists=main,
        featured_artists=featured,
        songwriters=writers,
        isrc=recording.isrc or "",
        iswc=format_iswc(work.iswc) if work and work.iswc else "",
        work_title=work.title if work else "",
        credit_line=line,
    )


# --- Parties and ownership ----------------------------------------------------


def user_owns_party(*, user, party: Party) -> bool:
    """Only a verified claim lets a person speak for a party."""
    return bool(
        user is not None
        and user.is_authenticated
        and party.user_id == user.id
        and party.claim_verified
    )


def party_list_owned(*, user, kinds: Iterable[str] | None = None) -> QuerySet[Party]:
    if user is None or not user.is_authenticated:
        return Party.objects.none()
    queryset = Party.objects.filter(user=user, claim_verified=True)
    if kinds:
        queryset = queryset.filter(kind__in=list(kinds))
    return queryset.order_by("name", "id")


def party_list_claims(*, user) -> QuerySet[Party]:
    """Verified and pending claims of this person."""
    return Party.objects.filter(user=user).order_by("claim_verified", "name")


def party_search(*, q: str, kinds: Iterable[str] | None = None, limit: int = 25):
    queryset = Party.objects.all()
    if kinds:
        queryset = queryset.filter(kind__in=list(kinds))
    q = (q or "").strip()
    if not q:
        return queryset.none()
    compact = q.replace(" ", "").replace("-", "").replace(".", "")
    return queryset.filter(Q(name__icontains=q) | Q(ipi=compact))[:limit]


def party_list_pending_claims() -> QuerySet[Party]:
    return (
        Party.objects.filter(user__isnull=False, claim_verified=False)
        .select_related("user")
        .order_by("claim_requested_at")
    )


def recording_list_for_party_owner(*, user) -> list[tuple[Recording, Remixability]]:
    """The recordings an artist or label speaks for, each with its remixability."""
    parties = party_list_owned(user=user)
    recordings = list(
        recording_queryset_with_credits()
        .filter(
            Q(artists__party__in=parties)
            | Q(split_versions__shares__party__in=parties)
            | Q(created_by=user)
        )
        .distinct()
        .order_by("title", "id")
    )
    remixability = recording_remixability_map(recordings)
    return [(recording, remixability[recording.id]) for recording in recordings]


def user_can_edit_splits(*, user, recording: Recording) -> bool:
    """Staff, or whoever speaks for a main artist or a label on the recording."""
    if not (user and user.is_authenticated):
        return False
    if user.is_staff:
        return True
    owned = party_list_owned(user=user, kinds=[Party.Kind.ARTIST, Party.Kind.LABEL])
    return (
        RecordingArtist.objects.filter(recording=recording, role="main", party__in=owned).exists()
        or SplitShare.objects.filter(version__recording=recording, party__in=owned).exists()
    )


# --- Consent ledger reads -------------------------------------------------------


def consent_history(*, party: Party | None = None, recording: Recording | None = None):
    queryset = ConsentEvent.objects.select_related("party", "recording", "actor")
    if party is not None:
        queryset = queryset.filter(party=party)
    if recording is not None:
        queryset = queryset.filter(recording=recording)
    return queryset.order_by("-seq")


def consent_state_for_party(*, party: Party) -> dict:
    """Catalog-wide consent and each recording's effective consent."""
    recordings = list(
        Recording.objects.filter(artists__party=party, artists__role="main")
        .distinct()
        .order_by("title", "id")
    )
    states = {s.recording_id: s for s in ConsentState.objects.filter(party=party)}
    wide = states.get(None)
    per_recording = []
    for recording in recordings:
        own = states.get(recording.id)
        effective = _effective([s for s in (own, wide) if s is not None])
        per_recording.append((recording, effective, own))
    return {
        "catalog_wide": _effective([wide] if wide else []),
        "catalog_wide_state": wide,
        "recordings": per_recording,
    }


def consent_chain_verify() -> ChainBreak | None:
    """Recompute every hash; None when the ledger is intact."""
    events = ConsentEvent.objects.order_by("seq").values(
        "id",
        "seq",
        "kind",
        "party_id",
        "recording_id",
        "actor_id",
        "created_at",
        "reason",
        "terms",
        "prev_hash",
        "hash",
    )
    head = ConsentChainHead.objects.filter(pk=1).first()

    def as_content(rows):
        for row in rows.iterator(chunk_size=2000):
            row["created_at"] = canonical_time(row["created_at"])
            yield row

    return find_first_break(
        as_content(events),
        head_seq=head.seq if head else 0,
        head_hash=head.hash if head and head.seq else None,
    )


def canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
