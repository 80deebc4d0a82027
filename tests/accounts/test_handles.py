"""The handle rules, derivation and tombstones: pure, no database."""

from __future__ import annotations

import pytest

from accounts.handles import (
    STORED_HANDLE_RE,
    display_name_problem,
    handle_problem,
    placeholder_handle,
    tombstone_handle,
)


@pytest.mark.parametrize("handle", ["abc", "Frankie_Fan", "dj_2000", "a" * 30, "x9z"])
def test_good_handles_pass(handle):
    assert handle_problem(handle) is None


@pytest.mark.parametrize(
    ("handle", "words"),
    [
        ("ab", "at least 3"),
        ("a" * 31, "at most 30"),
        ("has space", "letters"),
        ("me@example.com", "letters"),
        ("dash-ed", "letters"),
        ("zoë", "letters"),
        ("12345", "one letter"),
        ("Admin", "reserved"),
        ("SUPPORT", "reserved"),
        ("clearmix_team", "reserved"),
        ("deleted_user_4", "reserved"),
    ],
)
def test_bad_handles_say_why(handle, words):
    assert words in handle_problem(handle)


def test_a_tombstone_can_never_be_chosen():
    assert handle_problem(tombstone_handle(12)) is not None
    assert tombstone_handle(12) == "deleted-user-12"


def test_placeholders_are_valid_and_random():
    first, second = placeholder_handle(), placeholder_handle()
    assert first != second
    assert handle_problem(first) is None


def test_display_names_cannot_hold_an_email_address():
    assert display_name_problem("Frankie (frankie@example.com)")
    assert display_name_problem("Frankie Fan") is None


def test_what_the_database_may_hold():
    assert STORED_HANDLE_RE.match("support")  # staff may name a house account
    assert STORED_HANDLE_RE.match(tombstone_handle(3))
    assert STORED_HANDLE_RE.match(placeholder_handle())
    assert not STORED_HANDLE_RE.match("me@example.com")
