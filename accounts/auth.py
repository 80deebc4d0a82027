"""Glue between django-allauth and django-axes."""

from __future__ import annotations

from django.http import HttpRequest


def axes_username(request: HttpRequest, credentials: dict | None) -> str:
    """allauth authenticates with `email`; a plain form posts `login`."""
    credentials = credentials or {}
    for key in ("email", "username", "login"):
        if credentials.get(key):
            return str(credentials[key]).strip().lower()
    posted = request.POST.get("login", "") if request is not None else ""
    return posted.strip().lower()
