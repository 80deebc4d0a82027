"""The hosted Checkout page: ``GET /pay/<cs_id>`` shows it, ``POST`` pays or cancels.

Form fields: ``card_number`` (blank means the placeholder card 4242 4242 4242 4242),
``expiry`` (``MM / YY``, optional), ``cvc`` (ignored), ``name`` (optional), ``email``
(required unless the session already knows the customer's email) and ``action``
(``pay`` or ``cancel``). Success and cancel answer ``303 See Other``.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ..resources.checkout import (
    PayResult,
    card_form_from_post,
    expire_session,
    pay_session,
    session_email,
    success_redirect,
)
from ..resources.common import format_amount
from ..router import Response, page
from .layout import Page, message_page

if TYPE_CHECKING:
    from ..core import Ctx

TEST_CARDS_HELP = [
    ("4242 4242 4242 4242", "succeeds"),
    ("4000 0000 0000 0002", "is declined"),
    ("4000 0000 0000 0341", "succeeds now, later renewal charges fail"),
    ("4000 0000 0000 9995", "is declined for insufficient funds"),
]


def _load(ctx: Ctx, session_id: str) -> dict[str, Any] | None:
    session = ctx.store.get(session_id)
    if session is None or session.get("object") != "checkout.session":
        return None
    if session["status"] == "open" and session["expires_at"] <= ctx.now():
        expire_session(ctx, session)
    return session


def _summary(ctx: Ctx, session: dict[str, Any]) -> str:
    items = ctx.store.peek_meta(session["id"]).get("line_items", [])
    rows = []
    for item in items:
        price = item["price"]
        per = f" / {price['recurring']['interval']}" if price.get("recurring") else ""
        amount = format_amount(item["amount_total"], item["currency"])
        rows.append(
            f'<tr><td>{escape(item["description"])}</td><td class="num">{item["quantity"]}</td>'
            f'<td class="num">{escape(amount)}{per}</td></tr>'
        )
    total = escape(format_amount(session["amount_total"], session["currency"]))
    return (
        '<h2 id="summary-heading">Order summary</h2>\n'
        '<table aria-labelledby="summary-heading">\n'
        '<thead><tr><th scope="col">Item</th><th scope="col" class="num">Qty</th>'
        '<th scope="col" class="num">Amount</th></tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + f'\n</tbody>\n<tfoot><tr><th scope="row" colspan="2">Total due today</th>'
        f'<td class="num"><strong>{total}</strong></td></tr></tfoot>\n</table>'
    )


def _field(
    name: str,
    label: str,
    *,
    error: PayResult | None,
    value: str = "",
    hint: str | None = None,
    **attrs: str,
) -> str:
    described = []
    if hint:
        described.append(f"{name}-hint")
    invalid = error is not None and error.field == name
    if invalid:
        described.append("form-error")
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    html = f'<label for="{name}">{escape(label)}</label>\n'
    html += f'<input id="{name}" name="{name}" value="{escape(value)}"{extra}'
    if described:
        html += f' aria-describedby="{" ".join(described)}"'
    if invalid:
        html += ' aria-invalid="true"'
    html += ">\n"
    if hint:
        html += f'<p class="hint" id="{name}-hint">{escape(hint)}</p>\n'
    return html


def render_form(
    ctx: Ctx,
    session: dict[str, Any],
    error: PayResult | None = None,
    values: dict[str, str] | None = None,
) -> Page:
    values = values or {}
    known_email = session_email(ctx, session)
    title = "Subscribe" if session["mode"] == "subscription" else "Checkout"
    parts = [
        f"<h1>{escape(title)} &middot; {escape(ctx.config.platform_name)}</h1>",
        _summary(ctx, session),
    ]
    parts.append(f'<form method="post" action="/pay/{escape(session["id"])}">')
    if error is not None:
        parts.append(
            f'<div class="error" role="alert" id="form-error">{escape(error.message or "")}</div>'
        )
    parts.append('<h2 id="pay-heading">Payment details</h2>')
    if known_email:
        parts.append(f"<p>Paying as <strong>{escape(known_email)}</strong></p>")
    else:
        parts.append(
            _field(
                "email",
                "Email",
                error=error,
                value=values.get("email", ""),
                type="email",
                autocomplete="email",
                required="required",
            )
        )
    parts.append("<fieldset>\n<legend>Card information</legend>")
    parts.append(
        _field(
            "card_number",
            "Card number",
            error=error,
            value=values.get("card_number", ""),
            hint="Test mode: leave blank to pay with the card shown, 4242 4242 4242 4242.",
            inputmode="numeric",
            autocomplete="cc-number",
            placeholder="4242 4242 4242 4242",
        )
    )
    parts.append(
        _field(
            "expiry",
            "Expiry date (MM / YY)",
            error=error,
            value=values.get("expiry", ""),
            inputmode="numeric",
            autocomplete="cc-exp",
            placeholder="12 / 34",
        )
    )
    parts.append(
        _field(
            "cvc",
            "Security code (CVC)",
            error=error,
            inputmode="numeric",
            autocomplete="cc-csc",
            placeholder="123",
        )
    )
    parts.append(
        _field(
            "name",
            "Name on card",
            error=error,
            value=values.get("name", ""),
            autocomplete="cc-name",
        )
    )
    parts.append("</fieldset>")
    parts.append(
        '<div class="actions">\n'
        '<button type="submit" name="action" value="pay">Pay</button>\n'
        '<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>'
        "Cancel</button>\n"
        "</div>\n</form>"
    )
    cards = "\n".join(f"<li><code>{escape(n)}</code> {escape(d)}</li>" for n, d in TEST_CARDS_HELP)
    parts.append(f"<details>\n<summary>Test cards</summary>\n<ul>\n{cards}\n</ul>\n</details>")
    return Page(f"{title} - {ctx.config.platform_name}", "\n".join(parts))


def _not_found() -> Response:
    page_ = message_page("Checkout session not found", "This payment link is not valid.", 404)
    return Response.html(page_.status, page_.render())


def _closed(session: dict[str, Any]) -> Response:
    if session["status"] == "complete":
        page_ = message_page(
            "Payment complete",
            "This checkout session has already been paid.",
            200,
            (success_redirect(session), "Continue"),
        )
    else:
        page_ = message_page("Session expired", "This checkout session has expired.", 410)
    return Response.html(page_.status, page_.render())


@page("GET", "/pay/{session_id}")
def show(ctx: Ctx, body: bytes, session_id: str) -> Response:
    session = _load(ctx, session_id)
    if session is None:
        return _not_found()
    if session["status"] != "open":
        return _closed(session)
    return Response.html(200, render_form(ctx, session).render())


@page("POST", "/pay/{session_id}")
def submit(ctx: Ctx, body: bytes, session_id: str) -> Response:
    session = _load(ctx, session_id)
    if session is None:
        return _not_found()
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    action = form.get("action", "pay")
    if session["status"] == "complete" and action == "pay":
        # A double-submitted form lands where the first submit went.
        return Response.redirect(success_redirect(session))
    if session["status"] != "open":
        return _closed(session)
    if action == "cancel":
        # Like Stripe, cancelling leaves the session open; the customer may come back.
        return Response.redirect(session["cancel_url"])
    if action != "pay":
        return Response.html(
            400, render_form(ctx, session, PayResult(False, "Unknown action.")).render()
        )
    card = card_form_from_post(form)
    if isinstance(card, PayResult):
        return Response.html(400, render_form(ctx, session, card, form).render())
    result = pay_session(ctx, session, card)
    if result.ok:
        return Response.redirect(success_redirect(session))
    status = 402 if result.field == "card_number" else 400
    return Response.html(status, render_form(ctx, session, result, form).render())
