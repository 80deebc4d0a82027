"""Rate limits on the doors a script would hammer: uploads, checkout, the API.

One table (``settings.RATE_LIMITS``) names each limit: which methods and
paths it counts, how many requests per window, and whether it counts per
signed-in user or per client address. Log-in and sign-up are limited by
allauth (``ACCOUNT_RATE_LIMITS``) and failed log-ins lock out through axes;
plays have their own DRF throttle. A request over a limit gets 429 with a
``Retry-After`` header and a plain sentence (the API's one error shape under
/api/), before any view runs, so nothing is stored.

Counting is a fixed window in a cache (``RATE_LIMIT_CACHE``): Redis in
production, where ``incr`` is atomic across processes.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest, HttpResponse

from .views.shell import refusal_response

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class RateLimit:
    name: str
    methods: frozenset[str]
    path: re.Pattern[str]
    count: int
    seconds: int
    per: str  # "user" (signed-in user, else address) or "ip"
    message: str


def parse_rate(rate: str) -> tuple[int, int]:
    """'30/minute' -> (30, 60); '20/hour' -> (20, 3600)."""
    count, _, period = rate.partition("/")
    if not count.isdigit() or period not in PERIODS:
        raise ValueError(f"bad rate {rate!r}: use N/second, N/minute, N/hour or N/day")
    return int(count), PERIODS[period]


def rate_limits() -> list[RateLimit]:
    """The configured limits, read at request time (tests may override them)."""
    limits = []
    for name, spec in settings.RATE_LIMITS.items():
        count, seconds = parse_rate(spec["rate"])
        limits.append(
            RateLimit(
                name=name,
                methods=frozenset(method.upper() for method in spec["methods"]),
                path=re.compile(spec["path"]),
                count=count,
                seconds=seconds,
                per=spec.get("per", "user"),
                message=spec["message"],
            )
        )
    return limits


def client_address(request: HttpRequest) -> str:
    """The client's address: the first hop a trusted proxy recorded, else the socket's."""
    if settings.RATE_LIMIT_TRUST_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            return forwarded.split(",")[0].strip()
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _who(request: HttpRequest, limit: RateLimit) -> str:
    user = getattr(request, "user", None)
    if limit.per == "user" and user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_address(request)}"


def _count(cache: BaseCache, key: str, *, timeout: int) -> int:
    """This request, counted in its window's counter."""
    # The Redis cache (config.cache.FallbackRedisCache) counts in one round trip.
    in_window = getattr(cache, "count_in_window", None)
    used = in_window(key, timeout) if in_window is not None else None
    if used is not None:
        return used
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: this request opens a window
        cache.set(key, 1, timeout=timeout)
        return 1


def rate_limit_hit(request: HttpRequest) -> tuple[RateLimit, int] | None:
    """Count this request against every limit it falls under; the first limit
    it exceeds and the seconds until its window ends, or None."""
    cache = caches[settings.RATE_LIMIT_CACHE]
    now = time.time()
    for limit in rate_limits():
        if request.method not in limit.methods or not limit.path.match(request.path):
            continue
        window = int(now // limit.seconds)
        key = f"rate-limit:{limit.name}:{_who(request, limit)}:{window}"
        used = _count(cache, key, timeout=limit.seconds + 1)
        if used > limit.count:
            return limit, max(1, math.ceil((window + 1) * limit.seconds - now))
    return None


class RateLimitMiddleware:
    """After authentication (limits count per user), before any view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        hit = rate_limit_hit(request)
        if hit is None:
            return self.get_response(request)
        limit, retry_after = hit
        wait = _plain_wait(retry_after)
        response = refusal_response(
            request,
            code="rate_limited",
            message=f"{limit.message} Please try again in {wait}.",
            status=429,
        )
        response["Retry-After"] = str(retry_after)
        return response


def _plain_wait(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"
