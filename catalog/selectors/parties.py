"""Parties and who speaks for them; what an upload will mean for consent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Q,
    QuerySet,
)

from ..models import (
    ConsentState,
    Party,
    Recording,
    RecordingArtist,
    SplitShare,
)
from ..terms import PERMISSION_KEYS, TERM_LABELS, normalize_terms
from .remixability import Remixability, recording_queryset_with_credits, recording_remixability_map


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


@dataclass(frozen=True)
class UploadConsentOutlook:
    """How one main artist's consent will apply to a track not yet uploaded.

    A new recording has no consent statement of its own, so the artist's
    catalog-wide statement (if any) decides; the uploader sees it before saving.
    """

    party: Party
    can_decide: bool  # the uploader speaks for this artist
    granted: bool
    revoked: bool  # a catalog-wide statement exists and it is a revocation
    since: datetime | None
    terms: dict | None

    @property
    def allowed(self) -> list[str]:
        return [TERM_LABELS[key] for key in PERMISSION_KEYS if self.terms and self.terms[key]]

    @property
    def refused(self) -> list[str]:
        return [TERM_LABELS[key] for key in PERMISSION_KEYS if self.terms and not self.terms[key]]


def upload_consent_outlook(*, user, artists: Sequence[Party]) -> list[UploadConsentOutlook]:
    """For each main artist of an upload, the catalog-wide consent that would cover it."""
    artists = list(artists)
    wide = {
        state.party_id: state
        for state in ConsentState.objects.filter(
            party__in=[a.pk for a in artists], recording__isnull=True
        )
    }
    outlook = []
    for party in artists:
        state = wide.get(party.pk)
        granted = state is not None and state.status == ConsentState.Status.GRANTED
        outlook.append(
            UploadConsentOutlook(
                party=party,
                can_decide=user_owns_party(user=user, party=party),
                granted=granted,
                revoked=state is not None and not granted,
                since=state.updated_at if state else None,
                terms=normalize_terms(state.terms) if granted else None,
            )
        )
    return outlook
