"""Handles at sign-up, their uniqueness in the database, and the account page."""

from __future__ import annotations

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.forms import SignupForm
from accounts.models import User
from remixing.models import Remix
from tests.fixtures.accounts import PASSWORD, UserFactory
from tests.marketplace.billing.factories import make_remix

pytestmark = pytest.mark.django_db


def signup(client, **fields):
    data = {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD}
    return client.post(reverse("account_signup"), {**data, **fields})


def test_the_signup_form_asks_for_a_labelled_handle(client):
    page = client.get(reverse("account_signup")).content.decode()
    assert 'name="handle"' in page
    assert "Handle" in page
    assert 'name="display_name"' in page


def test_signup_requires_a_handle(client):
    response = signup(client)
    assert response.status_code == 200
    assert not User.objects.filter(email="new@example.com").exists()
    assert "This field is required." in response.content.decode()


def test_signup_keeps_the_chosen_handle_and_display_name(client):
    response = signup(client, handle="Night_Owl", display_name="Night Owl")
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert (user.handle, user.display_name) == ("Night_Owl", "Night Owl")


def test_signup_refuses_a_handle_taken_in_another_case(client):
    UserFactory(handle="nightowl")
    response = signup(client, handle="NightOwl")
    assert response.status_code == 200
    assert "That handle is taken" in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.parametrize(
    ("handle", "words"), [("admin", "reserved"), ("a b", "letters"), ("x", "at least")]
)
def test_signup_refuses_bad_handles_in_plain_words(client, handle, words):
    response = signup(client, handle=handle)
    assert words in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


def test_the_database_refuses_a_handle_differing_only_in_case():
    UserFactory(handle="Frankie")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="other@example.com", handle="fRANKIE")


def test_accounts_made_without_a_handle_get_distinct_placeholders():
    first = User.objects.create_user("one@example.com", PASSWORD)
    second = User.objects.create_user("two@example.com", PASSWORD)
    assert first.handle != second.handle
    assert "@" not in first.handle and "one" not in first.handle


def test_str_of_a_user_is_never_the_email():
    user = UserFactory(email="private@example.com", handle="pub", display_name="")
    assert str(user) == "pub"
    user.display_name = "Pub Lic"
    assert str(user) == "Pub Lic"


# ------------------------------------------------------------------ account page


@pytest.fixture
def me(client):
    user = UserFactory(email="me@example.com", handle="me_myself", display_name="Me")
    client.force_login(user)
    return user


def test_the_account_page_needs_login(client):
    response = client.get(reverse("marketplace:account"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_the_account_page_shows_the_public_name_and_links_to_email_and_password(client, me):
    page = client.get(reverse("marketplace:account")).content.decode()
    assert "@me_myself" in page
    assert reverse("account_email") in page
    assert reverse("account_change_password") in page
    assert reverse("marketplace:account_delete") in page


def test_changing_handle_and_display_name(client, me):
    response = client.post(
        reverse("marketplace:account"), {"handle": "New_Me", "display_name": "New Me"}
    )
    assert response.status_code == 302
    me.refresh_from_db()
    assert (me.handle, me.display_name) == ("New_Me", "New Me")
    # Keeping one's own handle in another case is allowed.
    client.post(reverse("marketplace:account"), {"handle": "new_me", "display_name": ""})
    me.refresh_from_db()
    assert (me.handle, me.display_name) == ("new_me", "")


def test_the_account_page_refuses_a_taken_handle_and_an_email_as_name(client, me):
    UserFactory(handle="taken_one")
    response = client.post(
        reverse("marketplace:account"),
        {"handle": "TAKEN_ONE", "display_name": "reach me at me@example.com"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "That handle is taken" in page
    assert "cannot contain an email address" in page
    me.refresh_from_db()
    assert (me.handle, me.display_name) == ("me_myself", "Me")


def test_change_email_and_password_through_allauth(client, me):
    response = client.post(reverse("account_email"), {"action_add": "", "email": "new@example.com"})
    assert response.status_code == 302
    assert me.emailaddress_set.filter(email="new@example.com", verified=False).exists()
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "another-long-pass-phrase",
            "password2": "another-long-pass-phrase",
        },
    )
    assert response.status_code == 302
    me.refresh_from_db()
    assert me.check_password("another-long-pass-phrase")


def test_the_header_names_me_by_public_name_not_email(client, me):
    page = client.get(reverse("marketplace:catalog")).content.decode()
    assert "me@example.com" not in page
    assert reverse("marketplace:account") in page


# ---------------------------------------------------------------- public page


def test_a_persons_public_page_lists_their_published_remixes_by_handle_any_case(client):
    fan = UserFactory(email="dj@example.com", handle="DJ_Pub", display_name="DJ Pub")
    remix = make_remix(owner=fan)
    Remix.objects.filter(pk=remix.pk).update(
        status=Remix.Status.PUBLISHED, title="Pub mix", published_at=timezone.now()
    )
    make_remix(owner=fan)  # a draft stays private
    page = client.get(reverse("marketplace:person", args=["dj_pub"]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "DJ Pub" in body and "@DJ_Pub" in body and "Pub mix" in body
    assert body.count("Test remix") == 0
    assert "dj@example.com" not in body


def test_nobody_and_deleted_accounts_have_no_public_page(client):
    assert client.get(reverse("marketplace:person", args=["nobody_here"])).status_code == 404
    gone = UserFactory(handle="gone_fan", is_active=False)
    assert client.get(reverse("marketplace:person", args=[gone.handle])).status_code == 404


def test_losing_a_race_for_a_handle_asks_again_instead_of_failing(rf):
    form = SignupForm(
        data={
            "email": "racer@example.com",
            "handle": "FastOne",
            "password1": PASSWORD,
            "password2": PASSWORD,
        }
    )
    assert form.is_valid()
    UserFactory(handle="fastone")  # wins between the check and the save
    request = rf.post(reverse("account_signup"))
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    user, response = form.try_save(request)
    assert user is None
    assert response.status_code == 302 and response["Location"] == reverse("account_signup")
    assert not User.objects.filter(email="racer@example.com").exists()
