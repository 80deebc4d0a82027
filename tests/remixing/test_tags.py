"""File tags name the remixer by public name: display name, else handle, never email."""

from __future__ import annotations

import pytest

from remixing.job_runner import remix_file_tags
from tests.fixtures.accounts import UserFactory
from tests.marketplace.billing.factories import make_remix

pytestmark = pytest.mark.django_db


def test_the_remixer_tag_is_the_display_name():
    fan = UserFactory(email="named@example.com", handle="named", display_name="DJ Named")
    assert remix_file_tags(make_remix(owner=fan))["remixer"] == "DJ Named"


def test_without_a_display_name_the_tag_is_the_handle_not_the_email():
    fan = UserFactory(email="newfan1@example.com", handle="newfan1", display_name="")
    tags = remix_file_tags(make_remix(owner=fan))
    assert tags["remixer"] == "newfan1"
    assert "@" not in repr(tags)
