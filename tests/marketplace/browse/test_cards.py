"""A track card says what the track is and whether it can be remixed, from
its stored state, escaped, linking to the track's page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from catalog.models import Recording
from tests.catalog.factories import PartyFactory, RecordingFactory, credit, remixable_recording

pytestmark = pytest.mark.django_db


def _cards(client, url: str) -> dict[str, str]:
    html = client.get(url).content.decode()
    cards = re.findall(r'<li class="track-card card">(.*?)</li>', html, re.S)
    return {re.search(r'class="track-title">([^<]*)<', card).group(1): card for card in cards}


def test_a_card_names_artists_meta_and_links_to_the_track(client):
    recording, _, _ = remixable_recording("Nova <Lane>", title="Blue & Gold", duration_ms=185_400)
    credit(recording, PartyFactory(name="Kite"), role="featured", order=1)
    card = _cards(client, "/tracks/")["Blue &amp; Gold"]
    assert f'href="{reverse("marketplace:track_detail", args=[recording.pk])}"' in card
    assert '<span class="track-artists">Nova &lt;Lane&gt; feat. Kite</span>' in card
    assert '<span class="track-meta">electronic · 120 BPM · A minor · 3:05</span>' in card
    cover = r'<span class="cover" style="--hue: \d+" aria-hidden="true"><span>B</span></span>'
    assert re.search(cover, card)
    assert '<span class="badge badge-ok">Remixable</span>' in card


def test_a_card_that_cannot_be_remixed_says_why_and_leaves_out_what_is_unknown(client):
    recording = RecordingFactory(title="Demo", genre="", tempo_bpm=None, key="", duration_ms=None)
    credit(recording, PartyFactory(name="Nobody Asked"))
    credit(recording, PartyFactory(name="Also"), order=1)
    assert not Recording.objects.get(pk=recording.pk).is_remixable
    card = _cards(client, "/tracks/?show_all=on")["Demo"]
    assert '<span class="track-artists">Nobody Asked &amp; Also</span>' in card
    assert '<span class="track-meta"></span>' in card
    assert '<span class="badge badge-muted">Not remixable yet</span>' in card
    why = (
        "The artists&#x27; consent does not cover it. "
        "Master splits are incomplete. Publishing splits are incomplete."
    )
    assert f'<span class="why-not">{why}</span>' in card
