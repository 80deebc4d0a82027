"""What marketplace adds to a published remix's public page (remixing's
page, through `remixing.public_extras`): likes, follow, the short and embed
links."""

from __future__ import annotations

from django.urls import reverse

from marketplace.discovery import selectors
from remixing.models import Remix


def remix_page_extras(*, request, remix: Remix) -> dict:
    viewer = request.user
    embed_path = reverse("marketplace:embed", args=[remix.share_slug])
    return {
        "template": "marketplace/discovery/_remix_social.html",
        "likes": selectors.like_count(remix_id=remix.pk),
        "liked": selectors.is_liked(viewer=viewer, remix_id=remix.pk),
        "following": selectors.is_following(viewer=viewer, remixer=remix.fan),
        "is_own": viewer.is_authenticated and viewer.pk == remix.fan_id,
        "short_url": request.build_absolute_uri(
            reverse("marketplace:share", args=[remix.share_slug])
        ),
        "embed_url": request.build_absolute_uri(embed_path),
    }
