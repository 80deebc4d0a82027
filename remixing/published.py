"""What published remixes show, cached exactly.

Pages of published remixes (lists, cards, a remix's own page) are cached
under two version tokens: the catalog's listing version (track titles,
credits, verdicts) and this one, which every change to what a published
remix shows replaces on commit: publishing and unpublishing (a revocation
or a takedown included), a published remix saved or deleted, its plays, its
forks setting, its remixer's public name, likes and this week's listeners
(marketplace). A value cached before such a change is never read after it.
Only what every visitor sees alike is cached: never a signed-in person's view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from catalog.selectors import LISTING_VERSION_KEY, versioned_cached
from catalog.services import cache_version_bump

T = TypeVar("T")

PUBLISHED_VERSION_KEY = "remixing:published-version"
# What a remixer's card shows of them: saving any of these changes cards.
PUBLIC_USER_FIELDS = frozenset({"handle", "display_name", "is_active"})


def remixes_published_changed() -> None:
    """Retire every cached page of published remixes (now and on commit)."""
    cache_version_bump(PUBLISHED_VERSION_KEY)


def published_cached(*, name: str, params: str, compute: Callable[[], T]) -> T:
    """`compute()`, cached under the listing and published-remix versions."""
    return versioned_cached(
        keys=(LISTING_VERSION_KEY, PUBLISHED_VERSION_KEY),
        name=name,
        params=params,
        compute=compute,
    )


def on_remix_saved(sender, instance, **kwargs) -> None:
    # A remix that is, or once was, published (an unpublished one keeps its
    # published_at): drafts and renders change nothing any page shows.
    if instance.status == "published" or instance.published_at is not None:
        remixes_published_changed()


def on_user_saved(sender, instance, created: bool = False, update_fields=None, **kwargs) -> None:
    if created:
        return
    if update_fields is None or PUBLIC_USER_FIELDS & set(update_fields):
        remixes_published_changed()
