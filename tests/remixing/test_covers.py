"""Sing your own cover (issue 17, item 3): the take upload (CSRF, premium, terms,
owner; decoded and validated, 4xx with nothing stored), the recipe's cover naming
the remix's own take, consent re-checked at every door, and the take in the export
at its latency-compensated offset with the fan credited as its performer."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from mutagen import File as MutagenFile
from rest_framework.test import APIClient

from catalog.services.consent import consent_revoke, consent_terms_change
from catalog.terms import DEFAULT_CONSENT_TERMS
from core.errors import DomainError
from remixing import job_runner
from remixing.engine.audio_io import load_audio
from remixing.engine.tagging import read_tags
from remixing.models import CoverTake, Remix, RemixEvent
from remixing.services import remix_create, remix_render_start, remix_update_recipe
from tests.marketplace.billing.factories import entitle

from .covers_audio import SR, take_audio, tone_onset, webm_take

pytestmark = pytest.mark.django_db
COVERS_ON = {"covers": True, "vocals_removed": True}


@pytest.fixture(autouse=True)
def _entitled(fan):
    entitle(fan)


@pytest.fixture
def api():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def draft(make_recording, fan, django_capture_on_commit_callbacks):
    recording, artist = make_recording(terms=COVERS_ON, official_stems=True)
    with django_capture_on_commit_callbacks(execute=True):
        remix = remix_create(fan=fan, recording=recording)
    return remix, recording, artist


@pytest.fixture(scope="module")
def takes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("takes")
    return {
        "good": webm_take(folder, take_audio(silence_s=1.58)),
        "short": webm_take(folder, take_audio(silence_s=0.0, tone_s=0.3, tail_s=0.0), "s.webm"),
    }


def upload(client, remix, path: Path | None, **fields):
    data = {"lead_s": "1.0", "latency_ms": "80", **fields}
    if path is not None:
        data["audio"] = SimpleUploadedFile("take.webm", path.read_bytes(), "audio/webm")
    return client.post(f"/api/v1/remixes/{remix.pk}/takes/", data, format="multipart")


def stored_takes(media_root: Path) -> list[Path]:
    folder = media_root / "remixing" / "covers"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_a_take_is_decoded_kept_privately_and_listed(draft, fan, api, takes, settings):
    remix, _, _ = draft
    response = upload(api(fan), remix, takes["good"])
    assert response.status_code == 201, response.json()
    body = response.json()
    take = CoverTake.objects.get(ref=body["id"])
    assert take.remix == remix and take.fan == fan
    assert take.lead_s == 1.0 and take.latency_ms == 80.0
    assert abs(take.duration_s - 3.08) < 0.05
    assert take.audio.name == f"remixing/covers/{remix.pk}/take-{take.ref}.flac"
    assert body["url"] == f"/media/{take.audio.name}"
    assert stored_takes(Path(settings.MEDIA_ROOT)) == [Path(take.audio.path)]
    listed = api(fan).get(f"/api/v1/remixes/{remix.pk}/takes/").json()["results"]
    assert [t["id"] for t in listed] == [take.ref]
    # The audit trail names the fan as the cover's performer.
    event = remix.events.get(data__cover_take=take.ref)
    assert event.actor == fan and fan.display_name in event.reason
    assert event.data["cover_performer"] == fan.display_name


BAD_UPLOADS = {
    "no file": (None, {}, 400, "invalid_take"),
    "not audio": (b"hello, this is not audio at all" * 50, {}, 400, "invalid_take"),
    "damaged": ("truncated", {}, 400, "invalid_take"),
    "too short": ("short", {}, 400, "invalid_take"),
    "lead not a number": ("good", {"lead_s": "soon"}, 400, "invalid_take"),
    "negative lead": ("good", {"lead_s": "-1"}, 400, "invalid_take"),
    "latency too long": ("good", {"latency_ms": "5000"}, 400, "invalid_take"),
    "latency nan": ("good", {"latency_ms": "nan"}, 400, "invalid_take"),
    "tempo too slow": ("good", {"tempo_ratio": "0.2"}, 400, "invalid_take"),
    "tempo not a number": ("good", {"tempo_ratio": "fast"}, 400, "invalid_take"),
}


def test_a_take_keeps_the_tempo_it_was_sung_at(draft, fan, api, takes):
    # The studio sends the tempo the remix played at while the fan sang; choosing the
    # take puts it in the cover, so a later tempo change stretches the take with the track.
    remix, _, _ = draft
    response = upload(api(fan), remix, takes["good"], tempo_ratio="0.85")
    assert response.status_code == 201, response.json()
    assert response.json()["tempo_ratio"] == 0.85
    assert CoverTake.objects.get(ref=response.json()["id"]).tempo_ratio == 0.85
    listed = api(fan).get(f"/api/v1/remixes/{remix.pk}/takes/").json()["results"]
    assert [t["tempo_ratio"] for t in listed] == [0.85]


@pytest.mark.parametrize("case", BAD_UPLOADS, ids=list(BAD_UPLOADS))
def test_bad_uploads_are_4xx_and_nothing_is_stored(
    case, draft, fan, api, takes, settings, tmp_path
):
    remix, _, _ = draft
    source, fields, code, error = BAD_UPLOADS[case]
    if source == "truncated":
        data = takes["good"].read_bytes()
        path = tmp_path / "cut.webm"
        path.write_bytes(data[: len(data) // 3] + b"\x00garbage" * 200)
    elif isinstance(source, bytes):
        path = tmp_path / "fake.webm"
        path.write_bytes(source)
    else:
        path = takes[source] if source else None
    response = upload(api(fan), remix, path, **fields)
    assert response.status_code == code, response.content
    assert response.json()["error"]["code"] == error
    assert CoverTake.objects.count() == 0
    assert stored_takes(Path(settings.MEDIA_ROOT)) == []


def test_oversized_and_overlong_takes_are_refused(draft, fan, api, takes, settings):
    remix, _, _ = draft
    settings.REMIXING_COVER_TAKE_MAX_BYTES = 2000
    big = upload(api(fan), remix, takes["good"])
    assert big.status_code == 400 and "MB limit" in big.json()["error"]["message"]
    settings.REMIXING_COVER_TAKE_MAX_BYTES = 10_000_000
    settings.REMIXING_COVER_TAKE_MAX_SECONDS = 2
    long = upload(api(fan), remix, takes["good"])
    assert long.status_code == 400 and "too long" in long.json()["error"]["message"]
    assert CoverTake.objects.count() == 0 and stored_takes(Path(settings.MEDIA_ROOT)) == []


def test_who_may_upload(draft, fan, other_fan, api, takes, make_recording, settings):
    remix, _, _ = draft
    # Someone else's remix does not exist for them.
    entitle(other_fan)
    assert upload(api(other_fan), remix, takes["good"]).status_code == 404
    # Premium (the studio's entitlement) is required.
    from tests.fixtures.accounts import UserFactory

    plain = UserFactory(is_fan=True)
    with_plain = remix_create(fan=fan, recording=remix.recording)
    Remix.objects.filter(pk=with_plain.pk).update(fan=plain)
    refused = upload(api(plain), with_plain, takes["good"])
    assert refused.status_code == 403
    # Terms that do not allow covers (the default) refuse with a plain sentence.
    recording, _ = make_recording(official_stems=True)
    closed = remix_create(fan=fan, recording=recording)
    no_covers = upload(api(fan), closed, takes["good"])
    assert no_covers.status_code == 409
    assert no_covers.json()["error"]["message"] == (
        "The artist's terms for this track do not allow covers."
    )
    # The session's CSRF check holds for this endpoint like every other.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(fan)
    bare = browser.post(
        f"/api/v1/remixes/{remix.pk}/takes/",
        {"audio": SimpleUploadedFile("t.webm", takes["good"].read_bytes()), "lead_s": "1"},
    )
    assert bare.status_code == 403
    assert CoverTake.objects.count() == 0 and stored_takes(Path(settings.MEDIA_ROOT)) == []


def test_a_remix_keeps_a_bounded_number_of_takes(draft, fan, api, takes, settings):
    remix, _, _ = draft
    settings.REMIXING_COVER_TAKES_PER_REMIX = 2
    assert upload(api(fan), remix, takes["good"]).status_code == 201
    assert upload(api(fan), remix, takes["good"]).status_code == 201
    third = upload(api(fan), remix, takes["good"])
    assert third.status_code == 409 and third.json()["error"]["code"] == "too_many_takes"
    assert CoverTake.objects.count() == 2


def _cover(take: CoverTake, **extra) -> dict:
    return {"version": 1, "take": take.ref, "lead_s": take.lead_s, "latency_ms": 80.0, **extra}


def test_the_recipe_names_only_this_remixs_own_takes(draft, fan, api, takes, make_recording):
    remix, recording, _ = draft
    take = CoverTake.objects.get(ref=upload(api(fan), remix, takes["good"]).json()["id"])
    client = api(fan)
    url = f"/api/v1/remixes/{remix.pk}/recipe/"
    ok = client.put(url, {"recipe": {"version": 1, "cover": _cover(take)}}, format="json")
    assert ok.status_code == 200 and ok.json()["recipe"]["cover"]["take"] == take.ref
    other = remix_create(fan=fan, recording=recording)
    elsewhere = client.put(
        f"/api/v1/remixes/{other.pk}/recipe/",
        {"recipe": {"version": 1, "cover": _cover(take)}},
        format="json",
    )
    assert elsewhere.status_code == 400
    assert "recipe.cover.take" in elsewhere.json()["error"]["fields"]
    made_up = client.put(
        url, {"recipe": {"version": 1, "cover": _cover(take) | {"take": "ab" * 16}}}, format="json"
    )
    assert made_up.status_code == 400


def chosen_take(client, remix, path: Path) -> CoverTake:
    """A take recorded by the remix's fan, then chosen as its cover vocal."""
    take = CoverTake.objects.get(ref=upload(client, remix, path).json()["id"])
    remix_update_recipe(remix=remix, fan=remix.fan, recipe={"version": 1, "cover": _cover(take)})
    return take


def _render(remix, settings, django_capture_on_commit_callbacks):
    settings.REMIXING_RENDER_WAV = True
    with django_capture_on_commit_callbacks(execute=True):
        remix_render_start(remix=remix)
    remix.refresh_from_db()
    return remix


@pytest.fixture
def eager():
    from config.celery import app

    old = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


def test_the_export_has_the_take_at_its_compensated_offset_and_credits_the_singer(
    draft, fan, api, takes, settings, eager, django_capture_on_commit_callbacks
):
    remix, _, _ = draft
    with django_capture_on_commit_callbacks(execute=False):
        job_runner.stemset_execute(remix.stem_set_id)  # the official stems, imported
    # The fan sang the note 0.5 s into the music; the take has 1.0 s of count-in
    # before the music and the microphone path was 80 ms late: 1.58 s of silence.
    take = CoverTake.objects.get(ref=upload(api(fan), remix, takes["good"]).json()["id"])
    recipe = {"version": 1, "stems": {"vocals": {"mute": True}}, "cover": _cover(take)}
    remix_update_recipe(remix=remix, fan=fan, recipe=recipe)
    remix = _render(remix, settings, django_capture_on_commit_callbacks)
    assert remix.status == Remix.Status.READY, remix.error_detail
    audio, _ = load_audio(remix.output_wav.path, samplerate=SR)
    # Within a few samples of where it was sung (Opus take, 24-bit WAV export).
    assert abs(tone_onset(audio) - round(0.5 * SR)) <= 3
    assert read_tags(remix.output_mp3.path)["TXXX:COVER_PERFORMER"] == [fan.display_name]
    ogg = MutagenFile(remix.output_ogg.path).tags
    assert ogg["PERFORMER"] == [f"{fan.display_name} (cover vocal)"]
    rendered = remix.events.get(to_status="ready")
    assert rendered.data["cover_performer"] == fan.display_name


def test_a_tempo_change_after_choosing_the_take_keeps_it_on_the_beat_in_the_export(
    draft, fan, api, takes, settings, eager, django_capture_on_commit_callbacks
):
    remix, _, _ = draft
    with django_capture_on_commit_callbacks(execute=False):
        job_runner.stemset_execute(remix.stem_set_id)
    # Sung at the original tempo, the note 0.5 s into the music (as above); then the fan
    # slows the remix to 0.85: that beat is now at 0.5 / 0.85 s, and so must the note be.
    take = CoverTake.objects.get(ref=upload(api(fan), remix, takes["good"]).json()["id"])
    cover = _cover(take) | {"version": 2, "sung_tempo_ratio": 1.0}
    recipe = {"version": 1, "stems": {"vocals": {"mute": True}}, "cover": cover}
    remix_update_recipe(remix=remix, fan=fan, recipe=recipe | {"tempo_ratio": 0.85})
    remix.refresh_from_db()
    assert remix.recipe["cover"]["sung_tempo_ratio"] == 1.0  # kept as sung
    remix = _render(remix, settings, django_capture_on_commit_callbacks)
    assert remix.status == Remix.Status.READY, remix.error_detail
    audio, _ = load_audio(remix.output_wav.path, samplerate=SR)
    assert abs(tone_onset(audio) - round(0.5 / 0.85 * SR)) <= 0.005 * SR


def test_covers_revoked_after_the_draft_refuses_the_render_like_any_consent_failure(
    draft, fan, api, takes, settings, django_capture_on_commit_callbacks
):
    remix, recording, artist = draft
    chosen_take(api(fan), remix, takes["good"])
    consent_terms_change(
        party=recording.artist_party,
        actor=artist,
        terms={**DEFAULT_CONSENT_TERMS, "vocals_removed": True, "covers": False},
    )
    from marketplace.billing.remixes import remix_purchase_check

    remix.refresh_from_db()
    with pytest.raises(DomainError) as before_payment:
        remix_purchase_check(fan=fan, remix=remix)
    assert before_payment.value.code == "not_remixable"
    assert "Recording a cover vocal is not allowed" in before_payment.value.message
    with pytest.raises(DomainError) as at_render:
        remix_render_start(remix=remix)
    # The code fulfilment refunds on.
    assert at_render.value.code == "not_remixable"


def test_covers_revoked_while_queued_cancels_the_job(
    draft, fan, api, takes, django_capture_on_commit_callbacks
):
    remix, recording, artist = draft
    chosen_take(api(fan), remix, takes["good"])
    with django_capture_on_commit_callbacks(execute=False):
        remix_render_start(remix=remix)
    consent_terms_change(
        party=recording.artist_party,
        actor=artist,
        terms={**DEFAULT_CONSENT_TERMS, "covers": False},
    )
    assert job_runner.render_execute(remix.pk) == "cancelled"
    remix.refresh_from_db()
    assert remix.status == Remix.Status.CANCELLED
    cancel = remix.events.get(to_status="cancelled")
    assert "Recording a cover vocal is not allowed" in cancel.reason
    assert cancel.actor_kind == RemixEvent.Actor.WORKER


def test_a_take_is_served_only_to_its_fan_and_staff(
    draft, fan, other_fan, api, takes, auditor, django_capture_on_commit_callbacks
):
    remix, _recording, artist = draft
    take = CoverTake.objects.get(ref=upload(api(fan), remix, takes["good"]).json()["id"])
    url = f"/media/{take.audio.name}"
    from tests.fixtures.accounts import UserFactory

    staff = UserFactory(is_staff=True, is_fan=False)
    entitle(other_fan)  # a premium fan who may open the studio, but not this take

    def status_for(user) -> int:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client.get(url).status_code

    assert status_for(fan) == 200
    assert status_for(staff) == 200 and status_for(auditor) == 200
    assert status_for(other_fan) == 404
    assert status_for(artist) == 404  # the recording's own artist: still the fan's voice
    assert status_for(None) == 404
    served = Client()
    served.force_login(fan)
    response = served.get(url)
    assert b"".join(response.streaming_content)[:4] == b"fLaC"
    assert "private" in response["Cache-Control"]


def test_deleting_the_account_deletes_the_takes(
    draft, fan, api, takes, settings, django_capture_on_commit_callbacks
):
    remix, _, _ = draft
    first = upload(api(fan), remix, takes["good"]).json()["id"]
    upload(api(fan), remix, takes["good"])
    chosen = CoverTake.objects.get(ref=first)
    remix_update_recipe(remix=remix, fan=fan, recipe={"version": 1, "cover": _cover(chosen)})
    assert len(stored_takes(Path(settings.MEDIA_ROOT))) == 2
    from marketplace.accounts.services import user_delete_account
    from marketplace.models import Subscription

    # The fan cancelled their subscriptions first, as deleting asks.
    Subscription.objects.filter(user=fan).update(cancel_at_period_end=True)
    with django_capture_on_commit_callbacks(execute=True):
        user_delete_account(user=fan)
    assert CoverTake.objects.count() == 0
    assert stored_takes(Path(settings.MEDIA_ROOT)) == []
    from catalog.models import StaffAuditEntry

    entry = StaffAuditEntry.objects.latest("seq")
    assert entry.data["cover_takes_deleted"] == 2


def test_a_fork_never_takes_the_parents_cover_take(draft, fan, other_fan, api, takes):
    remix, _, _ = draft
    chosen_take(api(fan), remix, takes["good"])
    from django.utils import timezone

    from remixing.services import remix_fork

    Remix.objects.filter(pk=remix.pk).update(
        status=Remix.Status.PUBLISHED, published_at=timezone.now(), allow_forks=True
    )
    remix.refresh_from_db()
    fork = remix_fork(fan=other_fan, parent=remix)
    assert "cover" not in fork.recipe  # the take is the parent's fan's own voice


def test_the_chosen_take_of_a_closed_track_is_taken_out_of_the_draft_then_deleted(
    draft, fan, api, takes, settings, django_capture_on_commit_callbacks
):
    # The artist revoked consent: the studio is closed, so "choose another take
    # first" cannot be done; the fan's own recording must still be deletable.
    remix, recording, artist = draft
    take = chosen_take(api(fan), remix, takes["good"])
    remix.refresh_from_db()
    version = remix.recipe_version
    consent_revoke(party=recording.artist_party, actor=artist, reason="closing the track")
    browser = Client()
    browser.force_login(fan)
    with django_capture_on_commit_callbacks(execute=True):
        page = browser.post(f"/my/remixes/{remix.pk}/takes/{take.ref}/delete/", follow=True)
    assert "Take 1 deleted." in page.content.decode()
    assert not CoverTake.objects.filter(pk=take.pk).exists()
    assert stored_takes(Path(settings.MEDIA_ROOT)) == []
    remix.refresh_from_db()
    assert remix.status == Remix.Status.DRAFT
    assert "cover" not in remix.recipe and remix.recipe_version == version + 1
    # Saved as the studio saves, and recorded: the new version, then the deletion.
    saved = remix.events.get(reason__startswith="Cover vocal taken out of the recipe")
    assert saved.data == {"cover_take": take.ref, "recipe_version": version + 1}
    assert saved.actor_id == fan.pk and saved.actor_kind == RemixEvent.Actor.FAN
    deleted = remix.events.get(reason="Cover take deleted by the fan")
    assert deleted.data == {"cover_take": take.ref} and deleted.pk > saved.pk


def test_the_chosen_take_goes_through_the_api_when_covers_were_revoked(
    draft, fan, api, takes, settings, django_capture_on_commit_callbacks
):
    remix, recording, artist = draft
    take = chosen_take(api(fan), remix, takes["good"])
    consent_terms_change(
        party=recording.artist_party, actor=artist, terms={**DEFAULT_CONSENT_TERMS, "covers": False}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api(fan).delete(f"/api/v1/remixes/{remix.pk}/takes/{take.ref}/")
    assert response.status_code == 204, response.content
    remix.refresh_from_db()
    assert "cover" not in remix.recipe and not CoverTake.objects.filter(pk=take.pk).exists()
    assert stored_takes(Path(settings.MEDIA_ROOT)) == []


def test_a_take_a_render_is_reading_waits_for_the_render(draft, fan, api, takes):
    remix, _, _ = draft
    take = chosen_take(api(fan), remix, takes["good"])
    Remix.objects.filter(pk=remix.pk).update(status=Remix.Status.QUEUED)
    refused = api(fan).delete(f"/api/v1/remixes/{remix.pk}/takes/{take.ref}/")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "take_rendering"
    assert CoverTake.objects.filter(pk=take.pk).exists()
    # Rendered: the paid recipe stays as it was, the take goes, the cover stays credited.
    Remix.objects.filter(pk=remix.pk).update(status=Remix.Status.READY)
    assert api(fan).delete(f"/api/v1/remixes/{remix.pk}/takes/{take.ref}/").status_code == 204
    remix.refresh_from_db()
    assert remix.recipe["cover"]["take"] == take.ref
    assert not CoverTake.objects.filter(pk=take.pk).exists()
