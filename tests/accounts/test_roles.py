"""Role checks every app makes through accounts.roles (no database needed)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from accounts.roles import user_is_auditor, user_public_name, user_reads_everything


def test_an_auditor_is_an_auditor_and_reads_everything():
    auditor = User(email="a@example.com", handle="audie", is_auditor=True)
    assert user_is_auditor(auditor) is True
    assert user_reads_everything(auditor) is True


def test_django_staff_reads_everything_without_being_an_auditor():
    staff = User(email="s@example.com", handle="stef", is_staff=True)
    assert user_is_auditor(staff) is False
    assert user_reads_everything(staff) is True


def test_a_fan_and_a_visitor_hold_neither_role():
    fan = User(email="f@example.com", handle="fanny")
    for person in (fan, AnonymousUser()):
        assert user_is_auditor(person) is False
        assert user_reads_everything(person) is False


def test_the_public_name_is_the_display_name_else_the_handle_never_the_email():
    assert user_public_name(User(email="z@example.com", handle="zed", display_name=" Zed Z ")) == (
        "Zed Z"
    )
    assert user_public_name(User(email="z@example.com", handle="zed")) == "zed"
    assert user_public_name(None, fallback="A Clearmix fan") == "A Clearmix fan"
