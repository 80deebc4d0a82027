"""Remix cards as HTML for visitors who are not signed in, the part of a
page every such visitor sees alike, and so the part cached (under the
versions of `remixing.published`: exact, never stale after a change).

A signed-in person's cards carry their own like buttons and a CSRF token:
those are always drawn fresh for them, never cached.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from marketplace.discovery.selectors import RemixCard, remix_cards
from remixing.models import Remix

CARDS_TEMPLATE = "marketplace/discovery/_remix_cards.html"


def is_anonymous(request) -> bool:
    return not request.user.is_authenticated


def cards_html(cards: Sequence[RemixCard], *, empty: str = "") -> SafeString:
    """Cards as a visitor sees them (no like buttons)."""
    return render_to_string(CARDS_TEMPLATE, {"cards": cards, "empty": empty})


def remix_cards_html(remixes: Sequence[Remix], *, empty: str = "") -> SafeString:
    """The cards of these remixes as a visitor sees them."""
    return cards_html(remix_cards(remixes), empty=empty)
