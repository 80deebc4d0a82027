"""What higher apps add to a published remix's public page.

remixing must not import marketplace, yet likes, follows and counts are
marketplace's. Marketplace registers `fn(*, request, remix) -> dict` with
`register_public_extras`; each dict names a `template` to include and
whatever context it needs. With none registered the page still shows the
remix and its credits.
"""

from __future__ import annotations

from collections.abc import Callable

PublicExtras = Callable[..., dict]
_providers: list[PublicExtras] = []


def register_public_extras(fn: PublicExtras) -> PublicExtras:
    if fn not in _providers:
        _providers.append(fn)
    return fn


def public_extras(*, request, remix) -> list[dict]:
    return [provider(request=request, remix=remix) for provider in _providers]
