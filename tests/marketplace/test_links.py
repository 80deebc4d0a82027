"""The shell's remembered page addresses equal reverse() under every URL
configuration and script prefix, and the shell draws them."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix, set_urlconf

from marketplace.links import page_url

pytestmark = pytest.mark.django_db

urlpatterns: list = []  # an empty URL configuration, for the override below


@pytest.mark.parametrize(
    "name", ["home", "marketplace:catalog", "account_login", "api-docs", "healthz"]
)
def test_a_page_url_is_what_reverse_says(name):
    assert page_url(name) == reverse(name)


def test_a_script_prefix_moves_every_page_url():
    before = page_url("marketplace:catalog")
    set_script_prefix("/mounted/")
    try:
        assert page_url("marketplace:catalog") == "/mounted" + before
        assert page_url("marketplace:catalog") == reverse("marketplace:catalog")
    finally:
        clear_script_prefix()
    assert page_url("marketplace:catalog") == before


def test_another_url_configuration_is_never_answered_from_memory(settings):
    assert page_url("home") == "/"
    set_urlconf(__name__)
    try:
        with pytest.raises(NoReverseMatch):
            page_url("home")
    finally:
        set_urlconf(None)
    settings.ROOT_URLCONF = __name__
    with pytest.raises(NoReverseMatch):
        page_url("home")


def test_the_shell_links_where_reverse_does(client):
    page = client.get(reverse("marketplace:catalog")).content.decode()
    for name in ("home", "account_login", "account_signup", "api-docs", "healthz"):
        assert f'href="{reverse(name)}"' in page
    assert f'<a class="btn btn-ghost" href="{reverse("marketplace:catalog")}">Reset</a>' in page
