"""Demo remixes: a handful published by demo fans (with handles), with plays,
likes, follows and one fork, so a newcomer sees a living site.

The remixes are made through the same service as any draft (consent events,
terms and split versions recorded), then their lossy file is mixed from the
track's official stems with the preset's stem gains (a quick stand-in for the
worker's render, which needs the worker running) and published, with an
event saying so. Running it again changes nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import soundfile
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from catalog.models import OfficialStem, Recording
from catalog.selectors import recording_remixability
from core.errors import DomainError
from marketplace.demo import catalog_data
from marketplace.discovery import services as discovery
from remixing.models import Remix, RemixEvent
from remixing.published import remixes_published_changed
from remixing.services import remix_create, remix_play_listener
from remixing.services.remixes import remix_event_record


@dataclass(frozen=True)
class DemoFan:
    handle: str
    name: str


FANS = (
    DemoFan("luma", "Luma Reyes"),
    DemoFan("dexbeats", "Dex"),
    DemoFan("kai_loops", "Kai Okoro"),
)


@dataclass(frozen=True)
class DemoRemix:
    fan: str
    track: str
    title: str
    preset: str
    allow_forks: bool = False
    parent: str = ""


LUMA_NIGHT = "Neon Tide (Luma's Late Night Mix)"
REMIXES = (
    DemoRemix("luma", "Neon Tide", LUMA_NIGHT, "chill", allow_forks=True),
    DemoRemix("dexbeats", "Neon Tide", "Neon Tide — Club Edit", "club"),
    DemoRemix("kai_loops", "Paper Lanterns", "Paper Lanterns (Study Loop)", "focus"),
    DemoRemix("luma", "Harbor Lights", "Harbor Lights Run", "workout"),
    DemoRemix(
        "kai_loops", "Neon Tide", "Neon Tide (Kai's Flip of Luma)", "chill", parent=LUMA_NIGHT
    ),
)


def _fans() -> dict[str, object]:
    User = get_user_model()
    fans = {}
    for spec in FANS:
        user = User.objects.filter(handle__iexact=spec.handle).first()
        if user is None:
            user = User.objects.create_user(
                f"{spec.handle}@clearmix.demo",
                catalog_data.DEMO_PASSWORD,
                handle=spec.handle,
                display_name=spec.name,
            )
        # Verified, like the other demo logins: the README offers them to log in with
        # (also when a log-in tried before this seed left the address unverified).
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        fans[spec.handle] = user
    return fans


def _lossy_mix(recording: Recording, recipe: dict) -> bytes:
    """The official stems summed with the recipe's gains and mutes, as Ogg Vorbis."""
    settings = recipe.get("stems") or {}
    mix = None
    samplerate = 44100
    for stem in OfficialStem.objects.filter(recording=recording).order_by("name"):
        with stem.file.open("rb") as handle:
            audio, samplerate = soundfile.read(io.BytesIO(handle.read()), dtype="float32")
        chosen = settings.get(stem.name) or {}
        if chosen.get("mute"):
            continue
        audio = audio * float(10 ** (float(chosen.get("gain_db", 0.0)) / 20))
        mix = audio if mix is None else mix[: len(audio)] + audio[: len(mix)]
    if mix is None:
        return b""
    peak = float(np.max(np.abs(mix))) or 1.0
    buffer = io.BytesIO()
    soundfile.write(buffer, mix / max(peak, 1.0) * 0.9, samplerate, format="OGG", subtype="VORBIS")
    return buffer.getvalue()


def _publish_demo(spec: DemoRemix, fan, recording: Recording, parent: Remix | None) -> Remix:
    remix = remix_create(
        fan=fan, recording=recording, preset=spec.preset, title=spec.title, parent=parent
    )
    lossy = _lossy_mix(recording, remix.recipe)
    if lossy:
        remix.output_ogg.save("remix.ogg", ContentFile(lossy), save=False)
    now = timezone.now()
    remix.status = Remix.Status.PUBLISHED
    remix.published_at = now
    remix.rendered_at = now
    remix.allow_forks = spec.allow_forks
    remix.save()
    remix_event_record(
        remix=remix,
        from_status=Remix.Status.DRAFT,
        to_status=Remix.Status.PUBLISHED,
        actor_kind=RemixEvent.Actor.SYSTEM,
        reason="Published as demo data (mixed from the official stems; not a paid export)",
    )
    return remix


@transaction.atomic
def seed_demo_remixes(*, users: dict, parties: dict, log: Callable[[str], None] = print) -> int:
    """Publish the demo remixes, then plays, likes and follows. Idempotent."""
    fans = _fans()
    by_title: dict[str, Remix] = {}
    created = 0
    for spec in REMIXES:
        fan = fans[spec.fan]
        existing = Remix.objects.filter(fan=fan, title=spec.title).first()
        if existing is None:
            recording = Recording.objects.filter(title=spec.track).first()
            if recording is None or not recording_remixability(recording=recording).remixable:
                continue
            try:
                existing = _publish_demo(spec, fan, recording, by_title.get(spec.parent))
            except DomainError as error:  # the terms may not allow this preset
                log(f"  skipped “{spec.title}”: {error.message}")
                continue
            created += 1
            log(f"  published “{spec.title}” by @{spec.fan}")
        by_title[spec.title] = existing
    demo_fan = users.get("fan@clearmix.demo")
    listeners = [*fans.values(), *([demo_fan] if demo_fan else [])]
    for index, remix in enumerate(by_title.values()):
        played = listeners[: len(listeners) - index % 3]
        for listener in played:
            identity = remix_play_listener(identity=f"user:{listener.pk}")
            discovery.remix_weekly_play_record(remix_id=remix.pk, listener=identity)
        Remix.objects.filter(pk=remix.pk, play_count__lt=len(played)).update(play_count=len(played))
        remixes_published_changed()
        for liker in listeners[index % 2 :: 2]:
            if liker.pk != remix.fan_id:
                discovery.remix_like(user=liker, remix_id=remix.pk)
    if demo_fan is not None:
        discovery.follow_remixer(follower=demo_fan, remixer_id=fans["luma"].pk)
        discovery.follow_artist(follower=demo_fan, party_id=parties["Nova Lane"].pk)
    for handle in ("dexbeats", "kai_loops"):
        discovery.follow_remixer(follower=fans[handle], remixer_id=fans["luma"].pk)
    return created
