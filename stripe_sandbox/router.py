"""Route registry.

Resource modules register handlers with ``@api("GET", "/v1/customers/{customer}")``
using the *exact* path template from Stripe's OpenAPI spec; that template is
also the key used to look up the response schema, and :func:`served_operations`
(the registry of everything the sandbox serves) drives the schema-coverage test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

RouteKind = Literal["api", "page", "hook"]


@dataclass
class Response:
    """A non-JSON-API response (hosted pages, redirects, hooks)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def html(cls, status: int, text: str) -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8"})

    @classmethod
    def redirect(cls, location: str, status: int = 303) -> Response:
        return cls(status, b"", {"Location": location})


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    kind: RouteKind
    handler: Callable[..., Any]
    regex: re.Pattern[str]


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(f"^{pattern}/?$")


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(
        self, method: str, template: str, kind: RouteKind
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.routes.append(Route(method.upper(), template, kind, fn, _compile(template)))
            return fn

        return decorator

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            found = route.regex.match(path)
            if found:
                return route, found.groupdict()
        return None


ROUTER = Router()


def api(method: str, template: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a ``/v1`` operation; ``template`` must be the spec's path key."""
    return ROUTER.add(method, template, "api")


def page(method: str, template: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return ROUTER.add(method, template, "page")


def hook(method: str, template: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return ROUTER.add(method, template, "hook")


def load_routes() -> Router:
    """Import every module that registers routes (idempotent)."""
    from . import hooks, resources  # noqa: F401
    from .hosted import checkout_page, onboarding_page  # noqa: F401

    return ROUTER


def served_operations() -> list[tuple[str, str]]:
    """Every ``(METHOD, spec path)`` the sandbox serves under /v1."""
    load_routes()
    return sorted({(r.method, r.template) for r in ROUTER.routes if r.kind == "api"})
