"""Content-Security-Policy on every response.

Scripts come only from our own static files (no inline script, no eval, no
CDN: none exists). A per-request nonce is offered for an inline script that
cannot be a file (`{{ csp_nonce }}`), though none needs it today. Styles
allow inline `style` attributes (cover hues, progress widths); that is the
one relaxation, and it runs no code. Media and fetches reach our own origin
(and the media storage's when media lives on S3: the media view redirects
there); `blob:` lets the studio play what Web Audio renders. Forms post to
us; Stripe's hosted pages are where checkout and onboarding redirect.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"
STRIPE_HOSTED = ("https://checkout.stripe.com", "https://connect.stripe.com")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(*, nonce: str) -> str:
    media = " ".join(settings.CSP_MEDIA_ORIGINS)
    checkout = " ".join(o for o in (_origin(settings.STRIPE_API_BASE), *STRIPE_HOSTED) if o)
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "media-src": f"'self' blob: {media}",
        "connect-src": f"'self' {media}",
        "worker-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "form-action": f"'self' {checkout}",
    }
    return "; ".join(f"{name} {value.strip()}" for name, value in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = content_security_policy(nonce=request.csp_nonce)
        return response


def csp_nonce(request: HttpRequest) -> dict:
    """Template context: `<script nonce="{{ csp_nonce }}">` (use a file if you can)."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
