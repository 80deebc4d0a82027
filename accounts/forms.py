"""Forms of the account pages and of sign-up (allauth's, plus a public name)."""

from __future__ import annotations

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.shortcuts import redirect

from accounts.handles import HANDLE_HELP, HANDLE_MAX
from accounts.selectors import handle_is_taken
from accounts.services import user_profile_errors

DISPLAY_NAME_HELP = "Optional. Shown beside your handle, e.g. on your published remixes."


def _handle_field() -> forms.CharField:
    return forms.CharField(
        label="Handle",
        max_length=HANDLE_MAX,
        help_text=HANDLE_HELP,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


def _display_name_field() -> forms.CharField:
    return forms.CharField(
        label="Display name",
        max_length=120,
        required=False,
        help_text=DISPLAY_NAME_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class _PublicNameMixin:
    """Checks handle and display name the way the service will."""

    user_id: int | None = None

    def clean(self):
        cleaned = super().clean()
        handle = (cleaned.get("handle") or "").strip()
        display_name = (cleaned.get("display_name") or "").strip()
        if "handle" in cleaned:
            errors = user_profile_errors(
                user_id=self.user_id, handle=handle, display_name=display_name
            )
            for field, message in errors.items():
                self.add_error(field, message)
        return cleaned


class SignupForm(_PublicNameMixin, AllauthSignupForm):
    """allauth's sign-up form with a handle (required) and a display name."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["handle"] = _handle_field()
        self.fields["display_name"] = _display_name_field()
        self.order_fields(["email", "handle", "display_name", "password1", "password2"])

    def try_save(self, request):
        # Two people can pass clean() with the same handle at once; the
        # database's Lower(handle) constraint lets one win. The other is asked
        # to choose again instead of seeing an error page.
        try:
            with transaction.atomic():
                return super().try_save(request)
        except IntegrityError:
            if not handle_is_taken(handle=self.cleaned_data.get("handle", "")):
                raise
        messages.error(request, "Someone just took that handle. Please choose another.")
        return None, redirect("account_signup")


class ProfileForm(_PublicNameMixin, forms.Form):
    handle = _handle_field()
    display_name = _display_name_field()

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user_id = user.pk


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="To confirm it is you.",
    )
    confirm = forms.BooleanField(
        label="I understand that my account cannot be restored.", required=True
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your current password.")
        return password
