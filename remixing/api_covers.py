"""Cover takes API: the fan's recorded vocals for one remix (issue 17, item 3).

POST /api/v1/remixes/<id>/takes/ (multipart: `audio`, `lead_s`, `latency_ms`, `tempo_ratio`)
keeps one take; GET lists them; DELETE .../takes/<ref>/ throws one away.
Session authentication enforces CSRF; only the remix's fan, entitled to the
studio, on a track whose terms allow covers, may add one. Bad input is a 4xx
in the one error shape, with nothing stored.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from remixing import selectors, services
from remixing.access import studio_access_require
from remixing.api_refusals import TAKE_DELETE_REFUSED, TAKE_REFUSED
from remixing.models import CoverTake
from remixing.storage import media_url


def take_data(take: CoverTake) -> dict:
    return {
        "id": take.ref,
        "url": media_url(take.audio),
        "duration_s": take.duration_s,
        "lead_s": take.lead_s,
        "latency_ms": take.latency_ms,
        "tempo_ratio": take.tempo_ratio,
        "created_at": take.created_at,
    }


class CoverTakeListApi(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(operation_id="remix_takes_get", responses=OpenApiTypes.OBJECT)
    def get(self, request, remix_id: int):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        takes = selectors.cover_take_list(remix=remix)
        return Response({"results": [take_data(t) for t in takes]})

    @extend_schema(
        operation_id="remix_takes_post",
        responses={201: OpenApiTypes.OBJECT, 409: TAKE_REFUSED},
        request=OpenApiTypes.BINARY,
    )
    def post(self, request, remix_id: int):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        studio_access_require(user=request.user)
        upload = request.FILES.get("audio")
        take = services.cover_take_create(
            remix=remix,
            fan=request.user,
            upload=upload,
            lead_s=request.data.get("lead_s", "0"),
            latency_ms=request.data.get("latency_ms"),
            tempo_ratio=request.data.get("tempo_ratio", "1"),
        )
        return Response(take_data(take), status=status.HTTP_201_CREATED)


class CoverTakeDetailApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="remix_take_delete",
        responses={204: None, 409: TAKE_DELETE_REFUSED},
        request=None,
    )
    def delete(self, request, remix_id: int, ref: str):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        take = selectors.cover_take_get_for_owner(ref=ref, remix=remix, user=request.user)
        services.cover_take_delete(take=take, fan=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
