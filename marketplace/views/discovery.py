"""Discovery pages: published remixes, search, artists, profiles, the feed,
follows, likes, the embeddable player and the short share link."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_POST

from accounts.selectors import user_get_public
from catalog.identifiers import MAX_ROW_ID, row_id_or_none
from catalog.models import Party, Recording
from catalog.selectors import party_search, recording_list_remixable, user_owns_party
from core.errors import DomainError, NotFound
from marketplace.browse.cards import track_grid
from marketplace.csp import HEADER as CSP_HEADER
from marketplace.csp import content_security_policy
from marketplace.discovery import selectors, services
from marketplace.discovery.cached_cards import is_anonymous, remix_cards_html
from marketplace.discovery.selectors import remix_cards
from marketplace.widgets import PythonWidgetRenderer
from remixing.published import published_cached
from remixing.selectors import remix_get_published
from royalties.selectors import payout_summaries

SEARCH_TRACKS = 12
SEARCH_PEOPLE = 12


class RemixFilterForm(forms.Form):
    # Its selects list every track and artist with a published remix.
    default_renderer = PythonWidgetRenderer

    q = forms.CharField(
        label="Search remixes",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Remix, track, artist, songwriter or @handle"}
        ),
    )
    sort = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[("new", "Newest"), ("popular", "Popular this week")],
        widget=forms.Select,
    )
    # Any id filters; the select lists the most remixed (selectors.FACET_LIMIT).
    # Bounded by the largest row id: a larger number overflowed the database (a 500).
    track = forms.IntegerField(
        label="Track",
        required=False,
        min_value=1,
        max_value=MAX_ROW_ID,
        error_messages={"max_value": "No such track."},
        widget=forms.Select,
    )
    artist = forms.IntegerField(
        label="Artist",
        required=False,
        min_value=1,
        max_value=MAX_ROW_ID,
        error_messages={"max_value": "No such artist."},
        widget=forms.Select,
    )
    mood = forms.ChoiceField(label="Mood", required=False, widget=forms.Select)
    preset = forms.ChoiceField(label="Preset", required=False, widget=forms.Select)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        facets = selectors.remix_facets()
        tracks, artists = list(facets.tracks), list(facets.artists)
        chosen = row_id_or_none(self.data.get("track")) if self.is_bound else None
        if chosen and chosen not in {pk for pk, _ in tracks}:
            tracks += Recording.objects.filter(pk=chosen).values_list("pk", "title")
        chosen = row_id_or_none(self.data.get("artist")) if self.is_bound else None
        if chosen and chosen not in {pk for pk, _ in artists}:
            artists += Party.objects.filter(pk=chosen).values_list("pk", "name")
        self.fields["track"].widget.choices = [("", "Any track"), *tracks]
        self.fields["artist"].widget.choices = [("", "Any artist"), *artists]
        self.fields["mood"].choices = [
            ("", "Any mood"),
            *((m, m.capitalize()) for m in facets.moods),
        ]
        self.fields["preset"].choices = [("", "Any preset"), *facets.presets]


def _remix_rows(sort: str, filters: dict) -> list:
    if sort == "popular":
        return selectors.remix_list_popular(**filters)
    return list(selectors.remix_list(**filters)[: selectors.PAGE_SIZE])


def remixes(request: HttpRequest) -> HttpResponse:
    form = RemixFilterForm(request.GET or None)
    filters: dict = {}
    sort = "new"
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        sort = data["sort"] or "new"
        filters = {
            "q": data["q"] or None,
            "recording_id": data["track"],
            "artist_id": data["artist"],
            "mood": data["mood"] or None,
            "preset": data["preset"] or None,
        }
    context: dict = {
        "form": form,
        "sort": sort,
        "cache_seconds": settings.CATALOG_LIST_CACHE_SECONDS,
    }
    if is_anonymous(request):
        # What every visitor sees alike, cached exactly (remixing.published).
        context["cards_html"] = published_cached(
            name="remixes",
            params=repr((sort, sorted(filters.items()))),
            compute=lambda: remix_cards_html(
                _remix_rows(sort, filters), empty="No published remixes match."
            ),
        )
    else:
        context["cards"] = remix_cards(_remix_rows(sort, filters), viewer=request.user)
    return render(request, "marketplace/discovery/remixes.html", context)


def _search_results(q: str, viewer=None) -> dict:
    rows = list(selectors.remix_list(q=q)[: selectors.PAGE_SIZE])
    count, grid = track_grid(recording_list_remixable(q=q, remixable_only=False)[:SEARCH_TRACKS])
    found = {
        "track_count": count,
        "track_grid": grid,
        "artists": list(party_search(q=q, kinds=[Party.Kind.ARTIST], limit=SEARCH_PEOPLE)),
        "songwriters": list(party_search(q=q, kinds=[Party.Kind.SONGWRITER], limit=SEARCH_PEOPLE)),
    }
    if viewer is None:
        return found | {"cards_html": remix_cards_html(rows, empty="No remixes match.")}
    return found | {"cards": remix_cards(rows, viewer=viewer)}


def search(request: HttpRequest) -> HttpResponse:
    """One box for remixes, tracks, artists and songwriters."""
    q = (request.GET.get("q") or "").strip()[:100]
    context: dict = {"q": q}
    if q and is_anonymous(request):
        # Parties made or renamed retire it too (the catalog's listing version).
        context |= published_cached(name="search", params=q, compute=lambda: _search_results(q))
    elif q:
        context |= _search_results(q, viewer=request.user)
    return render(request, "marketplace/discovery/search.html", context)


def artist(request: HttpRequest, party_id: int) -> HttpResponse:
    """An artist's public page: their tracks, the remixes of them, followers,
    how many fans remixed them and, to the artist only, what remixes earned."""
    party = Party.objects.filter(pk=party_id, kind=Party.Kind.ARTIST).first()
    if party is None:
        raise Http404("No such artist.")
    _, grid = track_grid(recording_list_remixable(artist=party.pk, remixable_only=False)[:60])
    summary = selectors.artist_summaries([party])[0]
    own = user_owns_party(user=request.user, party=party)
    context = {
        "party": party,
        "summary": summary,
        "track_grid": grid,
        "cards": remix_cards(
            selectors.remix_list(artist_id=party.pk)[: selectors.PAGE_SIZE], viewer=request.user
        ),
        "is_own": own,
        "earnings": payout_summaries([party])[0]["totals"] if own else None,
        "following": selectors.is_following(viewer=request.user, artist=party),
    }
    return render(request, "marketplace/discovery/artist.html", context)


def profile_context(request: HttpRequest, person) -> dict:
    """A person's public page: published remixes, likes, follows and, for an
    artist, their catalog (earnings shown to themselves only)."""
    parties = list(
        Party.objects.filter(user=person, claim_verified=True, kind=Party.Kind.ARTIST).order_by(
            "name", "pk"
        )
    )
    summaries = selectors.artist_summaries(parties)
    if request.user.is_authenticated and request.user.pk == person.pk and parties:
        earnings = {row["party"].pk: row["totals"] for row in payout_summaries(parties)}
        for summary in summaries:
            summary.earnings = earnings.get(summary.party.pk, [])
    viewer = request.user
    return {
        "person": person,
        "remixes": remix_cards(
            selectors.remix_list(fan_id=person.pk)[: selectors.PAGE_SIZE], viewer=viewer
        ),
        "liked": remix_cards(selectors.remixes_liked_by(user=person), viewer=viewer),
        "following": selectors.following_of(user=person),
        "followers": selectors.follower_count(remixer=person),
        "is_following": selectors.is_following(viewer=viewer, remixer=person),
        "is_self": viewer.is_authenticated and viewer.pk == person.pk,
        "artists": summaries,
    }


@login_required
def feed(request: HttpRequest) -> HttpResponse:
    notices = list(selectors.notices_for(user=request.user))
    context = {
        "cards": remix_cards(selectors.feed_for(user=request.user), viewer=request.user),
        "notices": notices,
        "unread": sum(1 for n in notices if n.read_at is None),
        "following": selectors.following_of(user=request.user),
    }
    return render(request, "marketplace/discovery/feed.html", context)


@login_required
@require_POST
def notices_read(request: HttpRequest) -> HttpResponse:
    services.notices_mark_read(user=request.user)
    return redirect("marketplace:feed")


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


def _wants(request: HttpRequest, yes: str) -> bool:
    return request.POST.get("action", yes) == yes


@login_required
@require_POST
def follow_artist(request: HttpRequest, party_id: int) -> HttpResponse:
    try:
        services.follow_artist(
            follower=request.user, party_id=party_id, follow=_wants(request, "follow")
        )
    except NotFound:
        raise Http404("No such artist.") from None
    return _back(request, reverse("marketplace:artist", args=[party_id]))


@login_required
@require_POST
def follow_person(request: HttpRequest, handle: str) -> HttpResponse:
    try:
        person = user_get_public(handle=handle)
        services.follow_remixer(
            follower=request.user, remixer_id=person.pk, follow=_wants(request, "follow")
        )
    except NotFound:
        raise Http404("Nobody has this handle.") from None
    except DomainError as error:
        messages.error(request, error.message)
    return _back(request, reverse("marketplace:person", args=[handle]))


@login_required
@require_POST
def like(request: HttpRequest, share_slug: str) -> HttpResponse:
    try:
        remix = remix_get_published(share_slug=share_slug)
        services.remix_like(user=request.user, remix_id=remix.pk, like=_wants(request, "like"))
    except NotFound:
        raise Http404("This remix is not available.") from None
    return _back(request, reverse("remixing:public_remix", args=[share_slug]))


def share(request: HttpRequest, share_slug: str) -> HttpResponse:
    """The short share link: /s/<ref> opens the remix's page."""
    return redirect("remixing:public_remix", share_slug=share_slug)


@xframe_options_exempt
def embed(request: HttpRequest, share_slug: str) -> HttpResponse:
    """The embeddable player: the published lossy file and its credits. Any
    site may frame this page (and only this one)."""
    try:
        remix = remix_get_published(share_slug=share_slug)
    except NotFound:
        response = render(request, "marketplace/discovery/embed_gone.html", status=404)
    else:
        card = remix_cards([selectors.remixes_published().get(pk=remix.pk)])[0]
        response = render(
            request, "marketplace/discovery/embed.html", {"remix": remix, "card": card}
        )
    policy = content_security_policy(nonce=request.csp_nonce)
    response[CSP_HEADER] = policy.replace("frame-ancestors 'none'", "frame-ancestors *")
    return response
