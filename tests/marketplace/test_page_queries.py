"""The track page costs the same number of queries whatever the catalog's size
and however many remixes and artists it lists (exact counts: a change here is
a change in the page's cost, made on purpose)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog import services
from catalog.selectors import recording_remixability
from remixing.models import Remix
from tests.catalog.factories import RecordingFactory, artist_user, credit, remixable_recording
from tests.fixtures.accounts import UserFactory

pytestmark = pytest.mark.django_db

# A visitor: the recording, its credits with their parties, the work's writers;
# its stored verdict, current and remixable, so no rule (consent states,
# master and publishing split totals, takedowns: 4 more before); its
# preview (none here: the track has no audio, and asking for it no longer
# opens a savepoint first, which cost 2); the publishing
# split's shares for the credits (2); the published remixes with their fans,
# and (discovery) their cards' credits, likes and this week's plays (6,
# whatever their number).
TRACK_PAGE_QUERIES = 12


def _track_with(size: int):
    """A remixable track with `size` featured artists and `size` published
    remixes, in a catalog of `size` other tracks."""
    recording, _, _ = remixable_recording("Main", title="The Track")
    for n in range(size):
        credit(recording, artist_user(f"Guest {n}")[1], role="featured", order=n + 1)
        RecordingFactory(title=f"Other {n}")
    verdict = recording_remixability(recording=recording)
    for n in range(size):
        fan = UserFactory(is_fan=True, display_name=f"Fan {n}")
        Remix.objects.create(
            fan=fan,
            recording=recording,
            title=f"Remix {n}",
            recipe={"version": 1},
            master_split_version_id=verdict.master_split_version_id,
            publishing_split_version_id=verdict.publishing_split_version_id,
            status=Remix.Status.PUBLISHED,
            published_at=timezone.now(),
        )
    return recording


@pytest.mark.parametrize("size", [3, 60])
def test_track_page_costs_the_same_whatever_it_lists(client, size, django_assert_num_queries):
    recording = _track_with(size)
    url = reverse("marketplace:track_detail", args=[recording.pk])
    client.get(url)  # its preview is requested on the first visit
    with django_assert_num_queries(TRACK_PAGE_QUERIES):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert all(f"Remix {n}<" in html or f"Remix {n} " in html for n in range(size))
    assert all(f"Guest {n}" in html for n in range(size))


def test_a_track_that_cannot_be_remixed_names_who_must_act(client):
    """The stored verdict serves remixable tracks; the others ask the rule,
    whose reasons name the artist (a revocation shows at once)."""
    recording, party, user = remixable_recording("Nova Lane", title="The Track")
    url = reverse("marketplace:track_detail", args=[recording.pk])
    assert "Remix this track" in client.get(url).content.decode()
    services.consent_revoke(party=party, actor=user, reason="pause")
    html = client.get(url).content.decode()
    assert "Not remixable right now." in html and "Remix this track" not in html
    assert "Nova Lane has revoked consent for their catalog." in html
