"""`{% page_url 'name' %}`: `{% url 'name' %}` for pages without arguments,
reversed once per URL configuration (marketplace.links)."""

from __future__ import annotations

from django import template

from marketplace.links import page_url as _reversed

register = template.Library()


@register.simple_tag
def page_url(name: str) -> str:
    return _reversed(name)
