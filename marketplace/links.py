"""The addresses of the site's fixed pages, reversed once per URL configuration.

The site shell (header, navigation, footer) names about nine URLs on every page,
and each `reverse()` costs about 20 µs of CPU: a fifth of a millisecond per page,
for answers that only change with the URL configuration or the script prefix.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse


def page_url(name: str) -> str:
    """`reverse(name)` for a URL that takes no arguments, remembered per URL
    configuration and script prefix. Raises NoReverseMatch as reverse does."""
    return _page_url(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


@lru_cache(maxsize=512)
def _page_url(name: str, urlconf: str | None, prefix: str) -> str:
    # `prefix` is part of the key: reverse() reads the current one itself.
    return reverse(name, urlconf=urlconf)
