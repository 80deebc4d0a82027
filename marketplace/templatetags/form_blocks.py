"""`{{ form|field_blocks:"name,other" }}`: a form's fields drawn in Python
(marketplace.widgets.field_blocks_html), leaving out the named ones."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from marketplace.widgets import field_blocks_html

register = template.Library()


@register.filter
def field_blocks(form, exclude: str = "") -> SafeString:
    return field_blocks_html(form, exclude=tuple(name for name in exclude.split(",") if name))
