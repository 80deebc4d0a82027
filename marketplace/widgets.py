"""Form widgets drawn in Python, for forms drawn on every request.

Django draws each widget through a template, and each <select> option
through a template of its own (about 50 µs each): the catalog's filter form
took about 2 ms per browse request, more than the search behind it, and the
remixes page's filters list every track and artist with a published remix.
`PythonWidgetRenderer` writes the same HTML for the stock input and select
widgets directly (a test holds it equal to Django's own output, whitespace
aside) and hands every other template to Django. A form opts in with
`default_renderer = PythonWidgetRenderer`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.safestring import SafeString, mark_safe

WIDGETS = "django/forms/widgets/"


def _escape(value: Any) -> str:
    # Django's conditional_escape, the same text, without its lazy-string
    # wrapper and SafeString result: about half its cost, paid about 120 times
    # per browse request (every option of every filter).
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape(str(value))


def _attrs(attrs: Mapping[str, Any]) -> str:
    # As django/forms/widgets/attrs.html: False drops the attribute, True
    # writes its bare name, anything else its escaped text.
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {_escape(name)}")
        if value is not True:
            parts.append(f'="{_escape(str(value))}"')
    return "".join(parts)


def _input(widget: Mapping[str, Any]) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{_escape(str(value))}"'
    return (
        f'<input type="{_escape(widget["type"])}" '
        f'name="{_escape(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'
    )


def _option(option: Mapping[str, Any]) -> str:
    return (
        f'<option value="{_escape(str(option["value"]))}"'
        f"{_attrs(option['attrs'])}>{_escape(option['label'])}</option>"
    )


def _select(widget: Mapping[str, Any]) -> str:
    parts = [f'<select name="{_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'<optgroup label="{_escape(group_name)}">')
        parts.extend(_option(option) for option in options)
        if group_name:
            parts.append("</optgroup>")
    parts.append("</select>")
    return "".join(parts)


DRAWN: dict[str, Callable[[Mapping[str, Any]], str]] = {
    f"{WIDGETS}input.html": _input,
    f"{WIDGETS}text.html": _input,
    f"{WIDGETS}search.html": _input,
    f"{WIDGETS}number.html": _input,
    f"{WIDGETS}checkbox.html": _input,
    f"{WIDGETS}select.html": _select,
}


class PythonWidgetRenderer(DjangoTemplates):
    """Django's template renderer, except for the widgets in `DRAWN`."""

    def render(self, template_name, context, request=None) -> SafeString:
        draw = DRAWN.get(template_name)
        if draw is None:
            return mark_safe(super().render(template_name, context, request))  # noqa: S308
        return mark_safe(draw(context["widget"]))  # noqa: S308  (every value escaped above)


def field_blocks_html(form: Any, *, exclude: tuple[str, ...] = ()) -> SafeString:
    """Each field of `form` as the filter bars draw it: a label, the widget
    and its errors, in a `div.field`. Drawn here, not by a template loop: the
    catalog's filter bar is drawn on every browse request, and the loop's
    lookups cost more than its widgets (tests/marketplace/test_widgets.py
    holds it equal to the template it replaced)."""
    parts = []
    for field in form:
        if field.name in exclude:
            continue
        label_for = _escape(field.id_for_label)
        errors = "".join(f"<li>{_escape(error)}</li>" for error in field.errors)
        listed = f'<ul class="errorlist" id="{label_for}-error">{errors}</ul>' if errors else ""
        parts.append(
            f'<div class="field"><label for="{label_for}">{_escape(field.label)}</label>'
            f"{field}{listed}</div>"
        )
    return mark_safe("".join(parts))  # noqa: S308  (every value escaped above)
