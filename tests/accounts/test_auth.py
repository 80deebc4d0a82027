"""Sign-up, email verification, login, lockout and password reset through the real views."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.fixtures.accounts import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_sign_up_requires_email_verification_then_logs_in(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "New.Fan@Example.com",
            "handle": "NewFan",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.fan@example.com")
    assert user.roles == ["fan"]
    assert user.handle == "NewFan"
    assert len(mail.outbox) == 1
    # Found: the email said "[example.com] … Hello from example.com!".
    assert mail.outbox[0].subject.startswith("[Clearmix] ")
    assert "example.com" not in mail.outbox[0].body.lower().replace("new.fan@example.com", "")
    assert "Clearmix" in mail.outbox[0].body
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)

    # Unverified: logging in sends to the verification notice, not the site.
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "new.fan@example.com", "password": PASSWORD}
    )
    assert "_auth_user_id" not in client.session

    path = link.split("testserver", 1)[1]
    response = client.post(path)
    assert response.status_code == 302
    response = client.post(
        reverse("account_login"), {"login": "new.fan@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_sign_up_rejects_a_weak_password_with_a_field_error(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "weak@example.com", "handle": "weakling", "password1": "123", "password2": "123"},
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="weak@example.com").exists()
    assert "too short" in response.content.decode()


def test_sign_up_with_a_taken_email_creates_nobody_and_does_not_leak_it(client):
    # allauth prevents account enumeration: the page looks like success and
    # the owner of the address gets an "account already exists" email instead.
    UserFactory(email="taken@example.com")
    client.post(
        reverse("account_signup"),
        {
            "email": "taken@example.com",
            "handle": "someone_new",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert User.objects.filter(email="taken@example.com").count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["taken@example.com"]


def test_login_and_logout(client):
    user = UserFactory(email="fan@example.com")
    response = client.post(
        reverse("account_login"), {"login": "fan@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk
    response = client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_repeated_failed_logins_lock_the_account(client):
    UserFactory(email="target@example.com")
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "target@example.com", "password": "no"})
    response = client.post(
        reverse("account_login"), {"login": "target@example.com", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_working_link(client):
    UserFactory(email="forgetful@example.com")
    client.post(reverse("account_reset_password"), {"email": "forgetful@example.com"})
    assert len(mail.outbox) == 1
    # Found: the email said "[example.com] … Hello from example.com!".
    assert mail.outbox[0].subject.startswith("[Clearmix] ")
    assert "example.com" not in mail.outbox[0].body.lower().replace("new.fan@example.com", "")
    assert "Clearmix" in mail.outbox[0].body
    link = re.search(r"http://testserver(\S+)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    new_password = "a-brand-new-long-passphrase"
    response = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    user = User.objects.get(email="forgetful@example.com")
    assert user.check_password(new_password)
