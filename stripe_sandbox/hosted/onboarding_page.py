"""Hosted Connect onboarding: ``GET /connect/onboard/<token>`` and its form ``POST``.

``action=complete`` enables the account; ``action=leave`` leaves requirements due. Both mark
the link used, emit ``account.updated`` and 303-redirect to the link's ``return_url``. A used
or expired link redirects to ``refresh_url`` like Stripe's.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ..resources.connect import complete_onboarding, leave_requirements_due
from ..router import Response, page
from .layout import Page, message_page

if TYPE_CHECKING:
    from ..core import Ctx


def _link(ctx: Ctx, token: str) -> tuple[dict[str, Any] | None, Response | None]:
    link = ctx.store.link_tokens.get(token)
    if link is None:
        page_ = message_page("Link not found", "This onboarding link is not valid.", 404)
        return None, Response.html(404, page_.render())
    if link["used"] or link["expires_at"] < ctx.now():
        return None, Response.redirect(link["refresh_url"])
    return link, None


@page("GET", "/connect/onboard/{token}")
def show(ctx: Ctx, body: bytes, token: str) -> Response:
    link, early = _link(ctx, token)
    if early is not None:
        return early
    assert link is not None
    acct = ctx.store.get(link["account"]) or {}
    due = acct.get("requirements", {}).get("currently_due", [])
    due_html = (
        "\n".join(f"<li><code>{escape(item)}</code></li>" for item in due) or "<li>Nothing</li>"
    )
    body_html = (
        f"<h1>Set up payouts for {escape(ctx.config.platform_name)}</h1>\n"
        f"<p>Connected account <code>{escape(acct.get('id', ''))}</code>"
        + (f" for <strong>{escape(acct['email'])}</strong>" if acct.get("email") else "")
        + ".</p>\n"
        '<h2 id="due-heading">Information Stripe still needs</h2>\n'
        f'<ul aria-labelledby="due-heading">\n{due_html}\n</ul>\n'
        f'<form method="post" action="/connect/onboard/{escape(token)}">\n'
        '<p class="hint">Test mode: choose how this onboarding session ends.</p>\n'
        '<div class="actions">\n'
        '<button type="submit" name="action" value="complete">Complete onboarding</button>\n'
        '<button type="submit" name="action" value="leave" class="secondary">'
        "Leave requirements due</button>\n"
        "</div>\n</form>"
    )
    return Response.html(200, Page("Account onboarding", body_html).render())


@page("POST", "/connect/onboard/{token}")
def submit(ctx: Ctx, body: bytes, token: str) -> Response:
    link, early = _link(ctx, token)
    if early is not None:
        return early
    assert link is not None
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    action = form.get("action")
    acct = ctx.store.get(link["account"])
    if acct is None:
        page_ = message_page(
            "Account not found", "The account for this link no longer exists.", 404
        )
        return Response.html(404, page_.render())
    if action == "complete":
        complete_onboarding(ctx, acct)
    elif action == "leave":
        leave_requirements_due(ctx, acct)
    else:
        page_ = message_page(
            "Unknown action", "Choose Complete onboarding or Leave requirements due.", 400
        )
        return Response.html(400, page_.render())
    link["used"] = True
    ctx.store.touch()
    return Response.redirect(link["return_url"])
