"""`{% remix_chain_trail remix %}`: the "remix this remix" chain on the
auditor's trail page, kept apart from the audit selectors (one include)."""

from __future__ import annotations

from django import template

from remixing.models import Remix
from remixing.selectors import remix_chain

register = template.Library()


@register.inclusion_tag("marketplace/audit/_remix_chain.html")
def remix_chain_trail(remix: Remix) -> dict:
    return {
        "chain": remix_chain(remix=remix),
        "forks": list(
            remix.forks.select_related("fan").order_by("pk").values_list("pk", "fan__handle")
        ),
    }
