"""Remixing API views: parse input, call one service or selector, answer.

Errors are DomainError, mapped by marketplace.api.exception_handler to
{"error": {"code", "message", "fields"}}; a bad recipe names each field as
"recipe.<path>".
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.errors import DomainError, NotFound
from catalog.models import Recording
from remixing import selectors, services
from remixing.access import studio_blockers
from remixing.engine import presets as engine_presets
from remixing.models import Remix, StemSet


def _stem_set_data(stem_set: StemSet | None, request=None) -> dict | None:
    if stem_set is None:
        return None
    return {
        "id": stem_set.pk,
        "status": stem_set.status,
        "progress": stem_set.progress,
        "stage": stem_set.stage,
        "error": stem_set.error,
        # Said plainly, so nobody mistakes an untrained test model for real stems.
        "model": stem_set.model_name,
        "official": stem_set.is_official,
        "device": stem_set.device,
    }


def _file_url(fieldfile, request) -> str | None:
    if not fieldfile:
        return None
    url = fieldfile.url
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


def _require_studio_access(user) -> None:
    """Only entitled fans make remixes, through pages or the API alike."""
    blockers = studio_blockers(user=user)
    if blockers:
        raise DomainError(
            " ".join(item["message"] for item in blockers),
            code=blockers[0]["code"],
            status_code=403,
        )


class RemixCreateSerializer(serializers.Serializer):
    recording_id = serializers.IntegerField()
    recipe = serializers.JSONField(required=False)
    preset = serializers.CharField(required=False, allow_blank=True, max_length=60)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)


class RecipeUpdateSerializer(serializers.Serializer):
    recipe = serializers.JSONField()
    recipe_version = serializers.IntegerField(required=False, min_value=1)


class PublishSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class RemixListCreateApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="remix_list_create_get", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        remixes = selectors.remix_list_for_fan(fan=request.user)[:100]
        return Response({"results": [_remix_data(r, request) for r in remixes]})

    @extend_schema(
        operation_id="remix_list_create_post",
        responses=OpenApiTypes.OBJECT,
        request=RemixCreateSerializer,
    )
    def post(self, request):
        _require_studio_access(request.user)
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
        responses=OpenApiTypes.OBJECT,
        request=RecipeUpdateSerializer,
    )
    def put(self, request, remix_id: int):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        _require_studio_access(request.user)
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
        responses=OpenApiTypes.OBJECT,
        request=RecipeUpdateSerializer,
    )
    def patch(self, request, remix_id: int):
        return self.put(request, remix_id)


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
    """The stems for the browser studio: seekable compressed previews."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="remix_stems_get", responses=OpenApiTypes.OBJECT)
    def get(self, request, remix_id: int):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        stem_set = remix.stem_set
        stems = []
        if stem_set is not None and stem_set.is_ready:
            stems = [
                {
                    "name": stem.name,
                    "url": _file_url(stem.preview, request),
                    "duration_s": stem.duration_s,
                }
                for stem in selectors.stem_list(stem_set=stem_set)
            ]
        return Response({"stem_set": _stem_set_data(stem_set), "stems": stems})

    @extend_schema(operation_id="remix_stems_post", responses=OpenApiTypes.OBJECT, request=None)
    def post(self, request, remix_id: int):
        remix = selectors.remix_get_for_owner(remix_id=remix_id, user=request.user)
        stem_set = services.remix_request_stems(remix=remix)
        return Response({"stem_set": _stem_set_data(stem_set)}, status=status.HTTP_202_ACCEPTED)


class StemSetApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="stem_set_get", responses=OpenApiTypes.OBJECT)
    def get(self, request, stem_set_id: int):
        stem_set = get_object_or_404(StemSet, pk=stem_set_id)
        return Response(_stem_set_data(stem_set))


class RemixPublishApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="remix_publish_post", responses=OpenApiTypes.OBJECT, request=PublishSerializer
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


class RemixPlayApi(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []  # a public counter; no session, no CSRF

    @extend_schema(operation_id="remix_play_post", responses=OpenApiTypes.OBJECT, request=None)
    def post(self, request, share_slug: str):
        remix = selectors.remix_get_published(share_slug=share_slug)
        return Response({"play_count": services.remix_play_count_increment(remix=remix)})


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

    @extend_schema(operation_id="notice_list_post", responses=OpenApiTypes.OBJECT, request=None)
    def post(self, request):
        ids = request.data.get("ids") if isinstance(request.data, dict) else None
        count = services.remix_notice_mark_read(fan=request.user, notice_ids=ids)
        return Response({"marked_read": count})
