"""Pages outside remixing that the studio's pages link to.

Remixing sits below the marketplace, so it must not know the marketplace's
URL names. It names what its pages need (the catalog, a track's page, the
fan's remixes, one remix, its export) and the app on top says where each one
is, once, at start-up (`studio_links_register` in its AppConfig.ready).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StudioLinks:
    catalog: Callable[[], str]
    track: Callable[[int], str]  # recording id
    my_remixes: Callable[[], str]
    my_remix: Callable[[int], str]  # remix id
    remix_export: Callable[[int], str]  # remix id
    embed: Callable[[str], str]  # share slug: the player other sites embed


_links: StudioLinks | None = None


def studio_links_register(links: StudioLinks) -> None:
    global _links
    _links = links


def studio_links() -> StudioLinks:
    if _links is None:
        raise LookupError("No app registered the studio's links (studio_links_register).")
    return _links
