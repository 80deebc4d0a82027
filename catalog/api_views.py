"""The catalog API: thin views over catalog selectors and services."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import user_reads_everything
from core.errors import DomainError, PermissionDenied

from . import services
from .api_serializers import (
    ConsentChangeSerializer,
    ConsentEventPageSerializer,
    ConsentEventSerializer,
    PartyConsentSerializer,
    TrackDetailSerializer,
    TrackFilterSerializer,
    TrackPageSerializer,
    track_list_row,
)
from .identifiers import MAX_ROW_ID
from .models import Party, Recording, SplitVersion
from .selectors import (
    catalog_listing_cached_rows,
    catalog_listing_page,
    catalog_listing_page_store,
    consent_history,
    consent_state_for_party,
    recording_credits,
    recording_list_by_ids,
    recording_list_remixable,
    recording_list_rows,
    recording_queryset_with_credits,
    recording_remixability,
    recording_remixability_map,
    recording_search_may_retry,
    user_owns_party,
)


class HistoryPagination(LimitOffsetPagination):
    """Limit/offset over one party's consent history: a page holds at most
    max_limit events, and an offset no table could reach is refused (SQLite
    cannot even bind it, PostgreSQL's bigint stops there)."""

    max_limit = 500

    def get_offset(self, request) -> int:
        offset = super().get_offset(request)
        if offset > MAX_ROW_ID:
            raise DomainError(
                "That offset is past any history.",
                code="offset_too_large",
                fields={"offset": [f"At most {MAX_ROW_ID}."]},
            )
        return offset


class BoundedPagination(LimitOffsetPagination):
    """Limit/offset with a ceiling: counting and skipping cost grows with
    the offset, so the count stops at COUNT_CAP (`count_capped` says so) and
    offsets past it are refused; filters narrow a search instead."""

    max_limit = 100
    COUNT_CAP = 1000

    def paginate_queryset(self, queryset, request, view=None):
        """The count and the page from one query: the first COUNT_CAP + 1
        rows (or up to the page's end). Meant for narrow rows (the track
        list pages ids): a second query to count cost more than the ids."""
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.offset = self.get_offset(request)
        window = list(queryset[: max(self.COUNT_CAP + 1, self.offset + self.limit)])
        self.capped = len(window) > self.COUNT_CAP
        self.count = min(len(window), self.COUNT_CAP)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        return window[self.offset : self.offset + self.limit]

    def get_offset(self, request) -> int:
        offset = super().get_offset(request)
        if offset > self.COUNT_CAP:
            raise DomainError(
                f"Offsets stop at {self.COUNT_CAP}; narrow the search with filters.",
                code="offset_too_large",
                fields={"offset": [f"At most {self.COUNT_CAP}."]},
            )
        return offset

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_capped"] = self.capped
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_capped"] = {"type": "boolean"}
        return schema


class TrackListApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[
            TrackFilterSerializer,
            OpenApiParameter("limit", int, description="Tracks per page (at most 100)."),
            OpenApiParameter("offset", int, description="Tracks to skip."),
        ],
        responses=TrackPageSerializer,
        operation_id="tracks_list",
        tags=["catalog"],
    )
    def get(self, request):
        """Remixable tracks (or all, with include_unremixable), searchable and filterable."""
        filters = TrackFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = dict(filters.validated_data)
        include_all = data.pop("include_unremixable", False)

        # Keyed by the whole URL: the page's next/previous links contain it.
        url = request.build_absolute_uri()
        # The listing version and this URL's page, in one cache round trip.
        version, page = catalog_listing_page(name="api-tracks", params=url)
        if page is None:
            page = _track_page(request, self, data, include_all, version)
            catalog_listing_page_store(name="api-tracks", params=url, version=version, value=page)
        return Response(page)


def _track_page(request, view, data: dict, include_all: bool, version: str) -> dict:
    paginator = BoundedPagination()
    ids: list[int] = paginator.paginate_queryset(_track_ids(data, include_all), request, view) or []
    if not ids and recording_search_may_retry(data.get("q")):
        # Nothing as typed: one more try that forgives a typo.
        found = _track_ids(data, include_all, typos=True)
        ids = paginator.paginate_queryset(found, request, view) or []
    rows = catalog_listing_cached_rows(
        name="api-track", ids=ids, compute=_track_rows, version=version
    )
    return paginator.get_paginated_response([rows[pk] for pk in ids if pk in rows]).data


def _track_ids(filters: dict, include_all: bool, *, typos: bool = False):
    found = recording_list_remixable(**filters, remixable_only=not include_all, typos=typos)
    return found.prefetch_related(None).values_list("pk", flat=True)


def _track_rows(ids: list[int]) -> dict[int, dict]:
    """The list's rows for these tracks, cached per track (a new search
    mostly shows rows that earlier pages drew). Read narrowly; a track whose
    stored state says it cannot be remixed asks the rule for its reasons."""
    listed = recording_list_rows(ids)
    unsure = [row.id for row in listed if not row.verdict.remixable]
    reasons = recording_remixability_map(recording_list_by_ids(unsure)) if unsure else {}
    return {row.id: track_list_row(row, reasons.get(row.id, row.verdict)) for row in listed}


def _split_data(version: SplitVersion | None) -> dict | None:
    if version is None:
        return None
    return {
        "version_id": version.id,
        "number": version.number,
        "effective_from": version.effective_from,
        "shares": [
            {"party_id": s.party_id, "name": s.party.name, "bps": s.bps}
            for s in version.shares.select_related("party")
        ],
    }


class TrackDetailApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=TrackDetailSerializer, tags=["catalog"])
    def get(self, request, recording_id: int):
        """Full credits, splits in effect and remixability (with reasons) of one track."""
        recording = get_object_or_404(recording_queryset_with_credits(), pk=recording_id)
        rule = recording_remixability(recording=recording)
        master = SplitVersion.objects.filter(pk=rule.master_split_version_id).first()
        publishing = SplitVersion.objects.filter(pk=rule.publishing_split_version_id).first()
        data = {
            "id": recording.id,
            "title": recording.title,
            "genre": recording.genre,
            "mood": recording.mood,
            "tempo_bpm": recording.tempo_bpm,
            "key": recording.key,
            "duration_ms": recording.duration_ms,
            "credits": recording_credits(recording=recording),
            "remixability": rule,
            "master_split": _split_data(master),
            "publishing_split": _split_data(publishing),
        }
        return Response(TrackDetailSerializer(data).data)


def _readable_party(request, party_id: int) -> Party:
    """Consent state and history: the owner, staff and auditors may read."""
    party = get_object_or_404(Party, pk=party_id, kind=Party.Kind.ARTIST)
    user = request.user
    if not (user_owns_party(user=user, party=party) or user_reads_everything(user)):
        raise PermissionDenied("Only the artist, staff or auditors can read this consent.")
    return party


def _scope(recording, effective) -> dict:
    return {
        "recording_id": recording.id if recording else None,
        "recording_title": recording.title if recording else None,
        "granted": effective.granted,
        "terms": effective.terms,
        "event_id": effective.event_id,
        "decided_by_catalog_wide": effective.catalog_wide,
    }


class PartyConsentApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=PartyConsentSerializer, tags=["consent"])
    def get(self, request, party_id: int):
        """An artist's current consent: catalog-wide and per recording."""
        party = _readable_party(request, party_id)
        state = consent_state_for_party(party=party)
        data = {
            "party_id": party.id,
            "party_name": party.name,
            "catalog_wide": _scope(None, state["catalog_wide"]),
            "recordings": [_scope(r, effective) for r, effective, _ in state["recordings"]],
        }
        return Response(PartyConsentSerializer(data).data)


class PartyConsentHistoryApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", int, description="Events per page."),
            OpenApiParameter("offset", int, description="Events to skip."),
        ],
        responses=ConsentEventPageSerializer,
        operation_id="party_consent_history_list",
        tags=["consent"],
    )
    def get(self, request, party_id: int):
        """The party's consent events, newest first, with their chain hashes."""
        party = _readable_party(request, party_id)
        paginator = HistoryPagination()
        page = paginator.paginate_queryset(consent_history(party=party), request, view=self)
        return paginator.get_paginated_response(ConsentEventSerializer(page, many=True).data)


SERVICES = {
    "grant": services.consent_grant,
    "revoke": services.consent_revoke,
    "terms_change": services.consent_terms_change,
}


class ConsentChangeApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=ConsentChangeSerializer,
        responses={201: ConsentEventSerializer},
        tags=["consent"],
        parameters=[OpenApiParameter("format", exclude=True)],
    )
    def post(self, request):
        """Grant, revoke or change terms, as the verified owner of the artist.

        Someone who does not own the party gets 400 with a `party` field error;
        nothing is written.
        """
        payload = ConsentChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        party = Party.objects.filter(pk=data["party"]).first()
        if party is None:
            raise DomainError("No such artist.", fields={"party": ["Unknown party."]})
        recording = None
        if data.get("recording") is not None:
            recording = Recording.objects.filter(pk=data["recording"]).first()
            if recording is None:
                raise DomainError("No such recording.", fields={"recording": ["Unknown."]})
        kwargs = {"party": party, "actor": request.user, "recording": recording}
        kwargs["reason"] = data.get("reason", "")
        if data["action"] != "revoke":
            kwargs["terms"] = data.get("terms")
        event = SERVICES[data["action"]](**kwargs)
        return Response(ConsentEventSerializer(event).data, status=status.HTTP_201_CREATED)
