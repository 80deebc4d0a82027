"""Remixing API views: parse input, call one service or selector, answer.

Errors are DomainError, mapped by marketplace.api_errors.exception_handler to
{"error": {"code", "message", "fields"}}; a bad recipe names each field as
"recipe.<path>".
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status, throttling
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api_fields import BoundedJSONField
from catalog.identifiers import MAX_ROW_ID
from catalog.models import Recording
from core.errors import DomainError, NotFound
from remixing import selectors, services
from remixing.access import studio_access_require
from remixing.api_refusals import (
    DESCRIBE_REFUSED,
    INVALID_RECIPE,
    PUBLISH_REFUSED,
    RECIPE_REFUSED,
    STEMS_REFUSED,
)
from remixing.engine import presets as engine_presets
from remixing.models import Remix, StemSet
from remixing.services.previews import stemset_light_streams_request
from remixing.storage import media_url


def _stem_set_data(stem_set: StemSet | None, request=None) -> dict | None:
    if stem_set is None:
        return None
    return {
        "id": stem_set.pk,
        "status": stem_set.status,
        "progress": stem_set.progress,
        "stage": stem_set.stage,
        # What the fan reads; the technical detail (error_detail) is staff-only.
        "error": stem_set.error,
        # Said plainly, so nobody mistakes an untrained test model for real stems.
        "backend": stem_set.backend,
        "model": stem_set.model_name,
        "source": stem_set.source_label,
        "official": stem_set.is_official,
        "device": stem_set.device,
        "runtime": stem_set.runtime,
    }


def _file_url(fieldfile, request) -> str | None:
    # Through the media view, which checks rights on every fetch; never the
    # storage's own URL (on S3, a signed link to the object itself).
    if not fieldfile:
        return None
    url = media_url(fieldfile)
    return request.build_absolute_uri(url) if request is not None else url


def _remix_data(remix: Remix, request) -> dict:
    return {
        "id": remix.pk,
        "recording_id": remix.recording_id,
        "title": remix.title,
        "description": remix.description,
        "status": remix.status,
        "progress": remix.progress,
        "stage": remix.stage,
        "error": remix.error,
        "recipe": remix.recipe,
        "recipe_version": remix.recipe_version,
        "preset": remix.preset,
        "stem_set": _stem_set_data(remix.stem_set),
        "paid": remix.paid_at is not None,
        "published_at": remix.published_at,
        "share_slug": remix.share_slug,
        "play_count": remix.play_count,
        "outputs": {
            "mp3": _file_url(remix.output_mp3, request),
            "ogg": _file_url(remix.output_ogg, request),
            "wav": _file_url(remix.output_wav, request),
        },
        "integrated_lufs": remix.integrated_lufs,
        "true_peak_dbtp": remix.true_peak_dbtp,
        "consent_event_ids": sorted(remix.consent_events.values_list("pk", flat=True)),
        "master_split_version_id": remix.master_split_version_id,
        "publishing_split_version_id": remix.publishing_split_version_id,
    }


class RemixCreateSerializer(serializers.Serializer):
    recording_id = serializers.IntegerField(min_value=1, max_value=MAX_ROW_ID)
    recipe = BoundedJSONField(required=False)
    preset = serializers.CharField(required=False, allow_blank=True, max_length=60)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)


class RecipeUpdateSerializer(serializers.Serializer):
    recipe = BoundedJSONField()
    recipe_version = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ROW_ID)


class DescribeSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=500, allow_blank=False, trim_whitespace=True)
    recipe = BoundedJSONField(required=False)


class PublishSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, allow_blank=True)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000
    )


class NoticeMarkReadSerializer(serializers.Serializer):
    """No ids: mark every unread notice read."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ROW_ID),
        required=False,
        max_length=500,
    )


class RemixListCreateApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="remix_list_create_get", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        remixes = selectors.remix_list_for_fan(fan=request.user)[:100]
        return Response({"results": [_remix_data(r, request) for r in remixes]})

    @extend_schema(
        operation_id="remix_list_create_post",
        responses={201: OpenApiTypes.OBJECT, 400: INVALID_RECIPE, 409: RECIPE_REFUSED},
        request=RemixCreateSerializer,
    )
    def post(self, request):
        studio_access_require(user=request.user)
        data = RemixCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recording = Recording.objects.filter(pk=data.validated_data["recording_id"]).first()
        if recording is None:
            raise DomainError("No such recording.", fields={"recording_id": ["Not found."]})
        remix = services.remix_create(
            fan=request.user,
            recording=recording,
            recipe=data.validated_data.get("recipe"),
            preset=data.validated_data.get("preset") or None,
            title=data.validated_data.get("title", ""),
        )
        return Response(_remix_data(remix, request), status=status.HTTP_201_CREATED)


class RemixDetailApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="remix_detail_get", responses=OpenApiTypes.OBJECT)
    def get(self, request, remix_id: int):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        return Response(_remix_data(remix, request))


class RemixRecipeApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="remix_recipe_get", responses=OpenApiTypes.OBJECT)
    def get(self, request, remix_id: int):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        return Response({"recipe": remix.recipe, "recipe_version": remix.recipe_version})

    @extend_schema(
        operation_id="remix_recipe_put",
        responses={200: OpenApiTypes.OBJECT, 400: INVALID_RECIPE, 409: RECIPE_REFUSED},
        request=RecipeUpdateSerializer,
    )
    def put(self, request, remix_id: int):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        studio_access_require(user=request.user)
        data = RecipeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        remix = services.remix_update_recipe(
            remix=remix,
            fan=request.user,
            recipe=data.validated_data["recipe"],
            expected_version=data.validated_data.get("recipe_version"),
        )
        return Response({"recipe": remix.recipe, "recipe_version": remix.recipe_version})

    @extend_schema(
        operation_id="remix_recipe_patch",
        responses={200: OpenApiTypes.OBJECT, 400: INVALID_RECIPE, 409: RECIPE_REFUSED},
        request=RecipeUpdateSerializer,
    )
    def patch(self, request, remix_id: int):
        return self.put(request, remix_id)


class RemixDescribeApi(APIView):
    """A sentence turned into recipe changes for this draft (nothing is saved)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="remix_describe_post",
        responses={200: OpenApiTypes.OBJECT, 400: INVALID_RECIPE, 409: DESCRIBE_REFUSED},
        request=DescribeSerializer,
    )
    def post(self, request, remix_id: int):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        studio_access_require(user=request.user)
        data = DescribeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            selectors.remix_describe(
                remix=remix,
                text=data.validated_data["text"],
                recipe=data.validated_data.get("recipe"),
            )
        )


class RemixStatusApi(APIView):
    """Small and cheap: polled by progress bars."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="remix_status_get", responses=OpenApiTypes.OBJECT)
    def get(self, request, remix_id: int):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        return Response(
            {
                "id": remix.pk,
                "status": remix.status,
                "progress": remix.progress,
                "stage": remix.stage,
                "error": remix.error,
                "attempts": remix.attempts,
                "stem_set": _stem_set_data(remix.stem_set),
            }
        )


class RemixStemsApi(APIView):
    """The stems for the browser studio: light streams (Ogg Opus, MP3 for
    browsers without Opus) and waveform peaks; never the lossless files."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="remix_stems_get", responses=OpenApiTypes.OBJECT)
    def get(self, request, remix_id: int):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        stem_set = remix.stem_set
        if stem_set is not None and stem_set.is_ready:
            # Stems made before light streams play their Vorbis preview (the
            # studio draws peaks from it) while a worker makes the rest.
            stemset_light_streams_request(
                stem_set=stem_set, stems=list(selectors.stem_list(stem_set=stem_set))
            )
        stems = selectors.studio_stems(stem_set=stem_set, url=lambda f: _file_url(f, request))
        # The original for A/B: its full-length lossy preview, never the master.
        original = selectors.recording_preview_ready(recording_id=remix.recording_id)
        return Response(
            {
                "stem_set": _stem_set_data(stem_set),
                "stems": stems,
                "original": _file_url(original.full, request) if original else None,
                # Beats, bars and sections for re-arranging (null until analysed).
                "structure": selectors.stemset_structure(stem_set=stem_set),
            }
        )

    @extend_schema(
        operation_id="remix_stems_post",
        responses={200: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT, 409: STEMS_REFUSED},
        request=None,
    )
    def post(self, request, remix_id: int):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        stem_set = services.remix_request_stems(remix=remix)
        # 202 only while a job is queued or running; a ready set, or one
        # that failed for good (its message says what happens next), is 200.
        working = stem_set.status in (StemSet.Status.PENDING, StemSet.Status.RUNNING)
        code = status.HTTP_202_ACCEPTED if working else status.HTTP_200_OK
        return Response({"stem_set": _stem_set_data(stem_set)}, status=code)


class StemSetApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="stem_set_get", responses=OpenApiTypes.OBJECT)
    def get(self, request, stem_set_id: int):
        stem_set = selectors.stemset_get_for_user(stem_set_id=stem_set_id, user=request.user)
        return Response(_stem_set_data(stem_set))


class RemixPublishApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="remix_publish_post",
        responses={200: OpenApiTypes.OBJECT, 409: PUBLISH_REFUSED},
        request=PublishSerializer,
    )
    def post(self, request, remix_id: int):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        data = PublishSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        remix = services.remix_publish(remix=remix, fan=request.user, **data.validated_data)
        return Response(_remix_data(remix, request))


class RemixUnpublishApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="remix_unpublish_post", responses=OpenApiTypes.OBJECT, request=None)
    def post(self, request, remix_id: int):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        remix = services.remix_unpublish(remix=remix, actor=request.user)
        return Response(_remix_data(remix, request))


class ListenerSessionAuthentication(SessionAuthentication):
    """Who is listening, from the session, with no CSRF check: a play posted
    from another site can at most count once for that listener in a window."""

    def enforce_csrf(self, request):
        return None


class ListenerSessionScheme(OpenApiAuthenticationExtension):
    """Tells the schema the play counter reads the ordinary session cookie."""

    target_class = ListenerSessionAuthentication
    name = "listenerCookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


def _client_address(request) -> str:
    # REMOTE_ADDR, not X-Forwarded-For: a header the client writes would let
    # one client count as many listeners and dodge the rate limit.
    return request.META.get("REMOTE_ADDR") or "unknown"


class PlayRateThrottle(throttling.SimpleRateThrottle):
    scope = "remix_play"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": _client_address(request)}


class RemixPlayApi(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = [ListenerSessionAuthentication]
    throttle_classes = [PlayRateThrottle]

    @extend_schema(operation_id="remix_play_post", responses=OpenApiTypes.OBJECT, request=None)
    def post(self, request, share_slug: str):
        """Count a play: once per listener (account, or address for visitors) per window."""
        remix = selectors.remix_get_published(share_slug=share_slug)
        user = request.user
        identity = f"user:{user.pk}" if user.is_authenticated else f"ip:{_client_address(request)}"
        listener = services.remix_play_listener(identity=identity)
        return Response({"play_count": services.remix_play_record(remix=remix, listener=listener)})


class PresetListApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(operation_id="preset_list_get", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response({"results": selectors.preset_list()})


class RecordingPresetRecipeApi(APIView):
    """A preset turned into a recipe for one track's stems (and tempo)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="recording_preset_recipe_get", responses=OpenApiTypes.OBJECT)
    def get(self, request, recording_id: int, slug: str):
        recording = Recording.objects.filter(pk=recording_id).first()
        if recording is None:
            raise NotFound("No such recording.")
        stem_set = selectors.stemset_current_for_recording(recording=recording)
        stems = selectors.stem_names_for(stem_set=stem_set, recording=recording)
        try:
            recipe = engine_presets.preset_recipe(
                slug, stems=stems, source_tempo_bpm=recording.tempo_bpm
            )
        except engine_presets.PresetError as error:
            message = str(error)
            fields = {"preset": [message]}
            raise DomainError(message, code="invalid_preset", fields=fields) from None
        return Response(
            {"preset": slug, "recipe": recipe, "presets": selectors.preset_list(stems=stems)}
        )


class NoticeListApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="notice_list_get", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        notices = selectors.notice_list_unread(fan=request.user)[:50]
        return Response(
            {
                "results": [
                    {
                        "id": n.pk,
                        "kind": n.kind,
                        "remix_id": n.remix_id,
                        "message": n.message,
                        "created_at": n.created_at,
                    }
                    for n in notices
                ]
            }
        )

    @extend_schema(
        operation_id="notice_list_post",
        responses=OpenApiTypes.OBJECT,
        request=NoticeMarkReadSerializer,
    )
    def post(self, request):
        data = NoticeMarkReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data.get("ids")
        count = services.remix_notice_mark_read(fan=request.user, notice_ids=ids)
        return Response({"marked_read": count})
