"""Fixtures for remixing tests: remixable recordings with short real audio."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
import soundfile
from django.core.files.base import ContentFile

from catalog.models import OfficialStem, Party, Recording, RecordingArtist, Work, WorkWriter
from catalog.services.consent import consent_grant
from catalog.services.splits import split_version_create
from catalog.terms import DEFAULT_CONSENT_TERMS
from tests.fixtures.accounts import UserFactory

SR = 44100


def tone_mix(seconds: float = 3.0, *, seed: int = 0) -> np.ndarray:
    """A short stereo 'song': bass, chord, a noisy hat; enough for Demucs to chew."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    bass = 0.3 * np.sin(2 * np.pi * 55 * t)
    chord = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (220, 277.2, 329.6))
    hat = 0.05 * rng.standard_normal(t.size) * (np.sin(2 * np.pi * 4 * t) > 0.9)
    mono = (bass + chord + hat).astype(np.float32)
    return np.stack([mono, 0.9 * mono])


def wav_bytes(audio: np.ndarray) -> bytes:
    buf = io.BytesIO()
    soundfile.write(buf, audio.T, SR, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.fixture
def make_recording(db):
    """Build a recording; remixable unless told otherwise. Returns (recording, artist_user)."""
    counter = iter(range(1, 10_000))

    def make(
        *,
        terms: dict | None = None,
        remixable: bool = True,
        seed: int | None = None,
        seconds: float = 3.0,
        title: str | None = None,
        official_stems: bool = False,
    ):
        n = next(counter)
        artist = UserFactory(is_artist=True, is_fan=False, display_name=f"Artist {n}")
        party = Party.objects.create(
            kind="artist", name=f"The Artist {n}", user=artist, claim_verified=True
        )
        writer = Party.objects.create(kind="songwriter", name=f"Writer {n}")
        work = Work.objects.create(title=f"Song {n}")
        WorkWriter.objects.create(work=work, party=writer)
        recording = Recording(
            title=title or f"Track {n}",
            work=work,
            tempo_bpm=120,
            key="A minor",
            duration_ms=int(seconds * 1000),
            isrc=f"USAAA26{n:05d}",
        )
        recording.audio.save(
            f"track{n}.wav", ContentFile(wav_bytes(tone_mix(seconds, seed=seed or n))), save=False
        )
        recording.audio.open("rb")
        recording.audio_sha256 = hashlib.sha256(recording.audio.read()).hexdigest()
        recording.audio.close()
        recording.save()
        RecordingArtist.objects.create(recording=recording, party=party, role="main")
        split_version_create(recording=recording, shares=[(party, 10_000)], check_permission=False)
        split_version_create(work=work, shares=[(writer, 10_000)], check_permission=False)
        if official_stems:
            # Supplied stems: renders run without the model (fast tests).
            for index, name in enumerate(("bass", "drums", "other", "vocals")):
                OfficialStem.objects.create(
                    recording=recording,
                    name=name,
                    file=ContentFile(
                        wav_bytes(0.5 * tone_mix(seconds, seed=n * 10 + index)), name=f"{name}.wav"
                    ),
                    sha256=hashlib.sha256(f"{n}-{name}".encode()).hexdigest(),
                )
        if remixable:
            consent_grant(
                party=party, actor=artist, terms={**DEFAULT_CONSENT_TERMS, **(terms or {})}
            )
        recording.artist_party = party
        return recording, artist

    return make


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path, request):
    # Worker tests share the fixed test MEDIA_ROOT with the worker process. The
    # marker, not `request.keywords`: those hold the checkout's folder name too, and
    # in a checkout named "worker" no test had its own media folder.
    if request.node.get_closest_marker("worker") is None:
        settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def other_fan(db):
    return UserFactory(is_fan=True)
