"""Remixable recordings listed, searched and counted; the cached listing; checks that
the stored verdicts and consent states match the rule."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from ..identifiers import format_iswc, row_id_or_none
from ..models import (
    ConsentEvent,
    ConsentState,
    Recording,
    RecordingArtist,
    SplitShare,
)
from .remixability import (
    Reason,
    ReasonCode,
    Remixability,
    current_split_versions,
    recording_queryset_with_credits,
    recording_remixability_map,
)

T = TypeVar("T")


# Words this short match too much to be worth a typo-tolerant lookup.
_MIN_TYPO = 4
# Letters and digits: what a tsquery word may hold, so a query never carries
# tsquery syntax (the text is a parameter all the same).
_WORD = re.compile(r"[^\W_]+")
# search_vector is PostgreSQL's own generated column (migration 0006), which
# the model does not declare: raw SQL.
_WORDS_MATCH = """"catalog_recording"."search_vector" @@ to_tsquery('simple', %s)"""


def _words_match(words: list[str], *, prefix: bool) -> Q:
    query = " & ".join(f"{word}:*" if prefix else word for word in words)
    return Q(RawSQL(_WORDS_MATCH, (query,), BooleanField()))  # noqa: S611


def _search_condition(q: str, *, typos: bool) -> Q:
    """Search over the stored search text.

    PostgreSQL: every word, in any order (full text on the GIN-indexed
    search_vector), or, for anything typed with more than letters and
    digits (identifiers, names with punctuation), the text as a substring
    (trigram GIN index). With `typos` (callers ask when nothing matched):
    every word as the start of a word, as when a word is still being typed,
    or a close trigram match. Prefixes and substrings are not in the first
    try: their index scans cost four times the words' and made the planner
    misjudge how many rows match (up to 20 ms a search at 100,000 tracks).

    Elsewhere: the text, or every word, as a substring.
    """
    text = " ".join(q.lower().split())
    exact = Q(search_text__contains=text)
    # Identifiers are typed with separators (US-RC1-76-07839, T-034.524.680-1).
    compact = "".join(ch for ch in text if ch not in " .-")
    if compact and compact != text:
        exact |= Q(search_text__contains=compact)
    if connection.vendor != "postgresql":
        return exact | Q(*(Q(search_text__contains=word) for word in text.split()))
    words = _WORD.findall(text)
    if typos:
        close = Q(RawSQL('%s <%% "catalog_recording"."search_text"', (text,), BooleanField()))
        return _words_match(words, prefix=True) | close if words else close
    if not words:
        return exact
    if compact.isalnum() and " ".join(words) == text:
        return _words_match(words, prefix=False)
    return _words_match(words, prefix=False) | exact


def recording_search_may_retry(q: str | None) -> bool:
    """Whether an empty search result is worth a second, forgiving try
    (`typos`: words as prefixes, or close)."""
    text = (q or "").strip()
    return connection.vendor == "postgresql" and (
        len(text) >= _MIN_TYPO or bool(_WORD.search(text))
    )


def _artist_condition(artist: str | int) -> Q:
    # Exists, not a join: a join would repeat rows and force a DISTINCT
    # over the whole result before the page can be cut.
    credits = RecordingArtist.objects.filter(recording_id=OuterRef("pk"))
    artist_id = row_id_or_none(artist)
    if artist_id is not None:
        return Q(Exists(credits.filter(party_id=artist_id)))
    return Q(Exists(credits.filter(party__name__icontains=str(artist).strip())))


def _with_artists(queryset: QuerySet[Recording]) -> QuerySet[Recording]:
    return queryset.prefetch_related(
        Prefetch(
            "artists",
            queryset=RecordingArtist.objects.select_related("party").order_by("order", "id"),
        )
    )


def recording_list_by_ids(ids: Sequence[int]) -> list[Recording]:
    """These recordings as model instances, with their artist credits, in the
    order of `ids` (those that no longer exist left out): for asking the rule
    about listed rows (`recording_list_rows` reads what lists show)."""
    found = {r.pk: r for r in _with_artists(Recording.objects.filter(pk__in=ids))}
    return [found[pk] for pk in ids if pk in found]


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
    typos: bool = False,
) -> QuerySet[Recording]:
    """Recordings filtered on the stored remixability state (indexed),
    ordered by title; slice it for a page. `typos`: see `_search_condition`.

    Artist credits are prefetched; pass the page you show to
    `recording_remixability_listed` for each verdict.
    """
    # One Q and one filter(): each chained filter() copies the query (about
    # 0.1 ms of CPU per search, which runs on every request that types words).
    condition = Q()
    if remixable_only:
        # A row whose scheduled split change has come is left out until the
        # refresh task has re-derived it (within a minute): never list a
        # track as remixable on a verdict that may have expired.
        condition &= Q(is_remixable=True) & ~Q(remixability_due_at__lte=timezone.now())
    if q and q.strip():
        condition &= _search_condition(q, typos=typos)
    if artist not in (None, ""):
        condition &= _artist_condition(artist)
    if genre:
        condition &= Q(genre__iexact=genre)
    if key:
        condition &= Q(key__iexact=key)
    if mood:
        # JSON list of lower-case tags; matching the quoted tag works on both databases.
        condition &= Q(mood__icontains=f'"{mood.strip().lower()}"')
    if tempo_min is not None:
        condition &= Q(tempo_bpm__gte=tempo_min)
    if tempo_max is not None:
        condition &= Q(tempo_bpm__lte=tempo_max)
    return _with_artists(Recording.objects.filter(condition)).order_by("title", "id")


def _stored_verdict_current(recording: Recording, now: datetime) -> bool:
    due = recording.remixability_due_at
    return recording.is_remixable and (due is None or due > now)


def recording_remixability_listed(recordings: Sequence[Recording]) -> dict[int, Remixability]:
    """Verdicts for a listed page. A row whose stored state says remixable
    (and is not due for a refresh) is remixable: that state is the rule's
    answer, written with the last change. The others ask the rule, for their
    reasons, so a page of remixable tracks needs no query at all."""
    now = timezone.now()
    trusted = {
        r.pk: Remixability(remixable=True) for r in recordings if _stored_verdict_current(r, now)
    }
    return trusted | recording_remixability_map([r for r in recordings if r.pk not in trusted])


# What a list card says for each stored reason code: the codes are stored
# with the verdict, the full reasons (naming who must act) are the track
# page's, which asks the rule.
STORED_REASONS = {
    ReasonCode.NO_MAIN_ARTIST: "No main artist is credited yet.",
    ReasonCode.CONSENT_MISSING: "The artists' consent does not cover it.",
    ReasonCode.TAKEDOWN: "Taken down.",
    ReasonCode.MASTER_SPLIT_INCOMPLETE: "Master splits are incomplete.",
    ReasonCode.PUBLISHING_SPLIT_INCOMPLETE: "Publishing splits are incomplete.",
}
REASON_RECHECK = "Its rights are being re-checked."


def stored_verdict(
    *, is_remixable: bool, due_at: datetime | None, codes: str, now: datetime
) -> Remixability:
    """A list's verdict from a recording's stored state alone (no query): a
    row due for a refresh is shown as not remixable until the refresh has run."""
    if is_remixable and (due_at is None or due_at > now):
        return Remixability(remixable=True)
    if is_remixable:  # a scheduled split change has come: not trusted
        return Remixability(remixable=False, reasons=[Reason("recheck", REASON_RECHECK)])
    reasons = [
        Reason(code, STORED_REASONS.get(code, REASON_RECHECK)) for code in codes.split(",") if code
    ]
    return Remixability(remixable=False, reasons=reasons or [Reason("recheck", REASON_RECHECK)])


def recording_list_newest_remixable(*, limit: int) -> QuerySet[Recording]:
    """The home page's newest remixable tracks, off the (is_remixable,
    created_at) index."""
    queryset = recording_list_remixable(remixable_only=True)
    return queryset.order_by("-created_at", "-id")[:limit]


def recording_search_documents(recordings: Sequence[Recording]) -> dict[int, str]:
    """What search matches for each recording, lower case: title, artists,
    work title, songwriters (credited writers and the publishing split's
    parties), ISRC, ISWC. A fixed number of queries for any number."""
    ids = [recording.pk for recording in recordings]
    rows = recording_queryset_with_credits().filter(pk__in=ids)
    work_ids = {r.work_id for r in recordings if r.work_id}
    publishing = current_split_versions(work_id__in=work_ids) if work_ids else {}
    payees: dict[int, list[str]] = defaultdict(list)
    shares = SplitShare.objects.filter(version_id__in=[v for v, _ in publishing.values()])
    version_work = {version_id: work_id for work_id, (version_id, _) in publishing.items()}
    for version_id, name in shares.values_list("version_id", "party__name"):
        payees[version_work[version_id]].append(name)
    documents = {}
    for recording in rows:
        parts = [recording.title, *(c.party.name for c in recording.artists.all())]
        parts.append(recording.isrc or "")
        work = recording.work
        if work is not None:
            parts += [work.title, *(w.party.name for w in work.writers.all())]
            parts += payees.get(work.pk, [])
            if work.iswc:
                parts += [work.iswc, format_iswc(work.iswc)]
        documents[recording.pk] = " ".join(" ".join(p for p in parts if p).lower().split())
    return documents


def recording_ids_of_work(*, work_id: int) -> list[int]:
    return list(Recording.objects.filter(work_id=work_id).values_list("pk", flat=True))


def recording_ids_naming_party(*, party_id: int) -> list[int]:
    """Recordings whose search text names this party (artist, writer, payee)."""
    found: set[int] = set()
    for path in (
        "artists__party_id",
        "work__writers__party_id",
        "work__split_versions__shares__party_id",
    ):
        found.update(Recording.objects.filter(**{path: party_id}).values_list("pk", flat=True))
    return sorted(found)


@dataclass(frozen=True)
class Facets:
    genres: list[str]
    keys: list[str]
    moods: list[str]


def _facets_compute() -> Facets:
    rows = Recording.objects.order_by()
    genres = sorted(set(rows.exclude(genre="").values_list("genre", flat=True).distinct()))
    keys = sorted(set(rows.exclude(key="").values_list("key", flat=True).distinct()))
    if connection.vendor == "postgresql":
        # Unnested in the database: decoding every row's JSON in Python cost
        # ten times more at 100,000 recordings.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT jsonb_array_elements_text(mood) FROM catalog_recording"
                " WHERE jsonb_typeof(mood) = 'array'"
            )
            moods = sorted(row[0] for row in cursor.fetchall())
    else:
        values = rows.values_list("mood", flat=True).iterator()
        moods = sorted({m for ms in values for m in ms or []})
    return Facets(genres=genres, keys=keys, moods=moods)


# This process's copy of the current version's facets: a version's facets
# never change (any recording created or edited replaces the version), so a
# browse request reads them without a cache round trip.
_facets_seen: dict[str, Facets] = {}


def recording_facets(*, version: str | None = None) -> Facets:
    """The genres, keys and moods in the catalog, for filter menus. Scanning
    every recording per page view is what made browse slow: cached under the
    listing version, which every recording created or edited changes."""
    if settings.CATALOG_LIST_CACHE_SECONDS <= 0:
        return _facets_compute()
    version = version or catalog_listing_version()
    facets = _facets_seen.get(version)
    if facets is None:
        # Only recordings created or edited change facets, and both change the
        # version: they may live long (computing them scans the whole catalog).
        facets = catalog_listing_cached(
            name="facets",
            params="",
            compute=_facets_compute,
            lifetime=FACETS_LIFETIME,
            version=version,
        )
        _facets_seen.clear()  # only the current version's are ever read again
        _facets_seen[version] = facets
    return facets


FACETS_LIFETIME = 60


LISTING_VERSION_KEY = "catalog:listing-version"


def catalog_listing_version() -> str:
    """A token that changes with every write to a verdict or a searchable
    name (see `catalog_listing_changed`). Random, not a counter: a token lost
    from the cache can never come back and revive pages cached under it."""
    version = cache.get(LISTING_VERSION_KEY)
    if version is None:
        cache.add(LISTING_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(LISTING_VERSION_KEY)
    return version


def _page_key(name: str, params: str) -> str:
    digest = hashlib.sha256(f"{name}|{params}".encode()).hexdigest()
    return f"catalog:page:{digest}"


def catalog_listing_page(*, name: str, params: str, version: str | None = None) -> tuple[str, Any]:
    """The current listing version (or `version`, when the caller read it)
    and the value cached under (`name`, `params`) if it was made under that
    version, else None: one cache round trip. A cached value is keyed without
    the version and carries the version it was made under, so the version and
    the page are read together instead of one after the other."""
    if settings.CATALOG_LIST_CACHE_SECONDS <= 0:
        return version or catalog_listing_version(), None
    key = _page_key(name, params)
    if version is not None:
        found = cache.get(key)
    else:
        both = cache.get_many([LISTING_VERSION_KEY, key])
        version, found = both.get(LISTING_VERSION_KEY), both.get(key)
        version = version or catalog_listing_version()
    if isinstance(found, tuple) and len(found) == 2 and found[0] == version:
        return version, found[1]
    return version, None


def catalog_listing_page_store(
    *, name: str, params: str, version: str, value: Any, lifetime: int = 1
) -> None:
    """Cache `value`, made under the listing `version`, for `lifetime` times
    CATALOG_LIST_CACHE_SECONDS (see `catalog_listing_page`)."""
    seconds = settings.CATALOG_LIST_CACHE_SECONDS * lifetime
    if seconds > 0:
        cache.set(_page_key(name, params), (version, value), seconds)


def catalog_listing_cached(
    *,
    name: str,
    params: str,
    compute: Callable[[], T],
    lifetime: int = 1,
    version: str | None = None,
) -> T:
    """`compute()`, cached under the listing version for `lifetime` times
    CATALOG_LIST_CACHE_SECONDS. A page that reads several cached parts
    passes the `version` it read once (see `catalog_listing_page`)."""
    if settings.CATALOG_LIST_CACHE_SECONDS <= 0:
        return compute()
    version, value = catalog_listing_page(name=name, params=params, version=version)
    if value is None:
        value = compute()
        catalog_listing_page_store(
            name=name, params=params, version=version, value=value, lifetime=lifetime
        )
    return value


def catalog_listing_cached_rows(
    *,
    name: str,
    ids: Sequence[int],
    compute: Callable[[list[int]], dict[int, T]],
    version: str | None = None,
) -> dict[int, T]:
    """One cached value per recording (a card, an API row) under the listing
    version, for CATALOG_LIST_CACHE_SECONDS: a search nobody asked before
    still finds most of its cards drawn by earlier pages, and draws only the
    rest (`compute(missing ids)`). One cache round trip, plus one to store."""
    seconds = settings.CATALOG_LIST_CACHE_SECONDS
    if seconds <= 0:
        return compute(list(ids))
    version = version or catalog_listing_version()
    keys = {pk: f"catalog:row:{name}:{version}:{pk}" for pk in ids}
    found = cache.get_many(list(keys.values()))
    values = {pk: found[key] for pk, key in keys.items() if key in found}
    missing = [pk for pk in ids if pk not in values]
    if missing:
        made = compute(missing)
        cache.set_many({keys[pk]: made[pk] for pk in missing if pk in made}, seconds)
        values |= made
    return values


def cache_versions(keys: Sequence[str]) -> list[str]:
    """The current tokens of these version keys, in one cache round trip
    (see `catalog_listing_version`; a missing one is made)."""
    found = cache.get_many(list(keys))
    for key in keys:
        if found.get(key) is None:
            cache.add(key, uuid.uuid4().hex, None)
            found[key] = cache.get(key)
    return [found[key] for key in keys]


def versioned_cached(*, keys: Sequence[str], name: str, params: str, compute: Callable[[], T]) -> T:
    """`compute()`, cached for CATALOG_LIST_CACHE_SECONDS under the current
    tokens of the version `keys`: whoever changes what it shows replaces a
    token (on commit, see `cache_version_bump`), so a stale value is never
    read again. Two cache round trips."""
    seconds = settings.CATALOG_LIST_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    versions = "|".join(cache_versions(keys))
    digest = hashlib.sha256(f"{versions}|{name}|{params}".encode()).hexdigest()
    key = f"versioned:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value


@dataclass(frozen=True)
class StateMismatch:
    recording_id: int
    stored: tuple
    rule: tuple


def consent_state_mismatches() -> list[str]:
    """Replay the consent ledger and compare with the derived ConsentState
    rows the rule reads: the latest grant, revoke or terms change per party
    and scope decides."""
    latest: dict[tuple[int, int | None], tuple[str, int]] = {}
    events = (
        ConsentEvent.objects.filter(kind__in=["grant", "revoke", "terms_change"])
        .order_by("seq")
        .values_list("party_id", "recording_id", "kind", "id")
    )
    for party_id, recording_id, kind, event_id in events.iterator(chunk_size=5000):
        status = ConsentState.Status.REVOKED if kind == "revoke" else ConsentState.Status.GRANTED
        latest[(party_id, recording_id)] = (status, event_id)
    problems = []
    for party_id, recording_id, status, event_id in ConsentState.objects.values_list(
        "party_id", "recording_id", "status", "event_id"
    ).iterator(chunk_size=5000):
        replayed = latest.pop((party_id, recording_id), None)
        if replayed != (status, event_id):
            problems.append(
                f"party {party_id}, recording {recording_id or 'catalog-wide'}: state "
                f"{status} (event {event_id}), ledger says {replayed or 'nothing'}"
            )
    problems += [f"party {p}, recording {r or 'catalog-wide'}: no state row" for p, r in latest]
    return problems


def recording_remixability_state_mismatches(*, chunk: int = 2000) -> list[StateMismatch]:
    """Recompute every recording's verdict from the consent state, splits and
    takedowns (the Python rule, in chunks) and list where the stored state
    differs. Rows with a due refresh are compared too: the task should have
    run."""
    mismatches: list[StateMismatch] = []
    ids = list(Recording.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        recordings = list(
            Recording.objects.filter(pk__in=ids[start : start + chunk]).only(
                "id", "work_id", "is_remixable", "remixability_reasons"
            )
        )
        verdicts = recording_remixability_map(recordings)
        for recording in recordings:
            verdict = verdicts[recording.pk]
            rule = (verdict.remixable, verdict.reason_codes)
            stored = (recording.is_remixable, recording.remixability_reasons)
            if rule != stored:
                mismatches.append(StateMismatch(recording.pk, stored, rule))
    return mismatches
