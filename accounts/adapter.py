"""allauth adapter: a new account gets the public name chosen at sign-up."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        # Set before the first save, so no account ever exists with a
        # placeholder handle that a visitor might glimpse.
        user = super().save_user(request, user, form, commit=False)
        data = form.cleaned_data
        if data.get("handle"):
            user.handle = data["handle"].strip()
        user.display_name = (data.get("display_name") or "").strip()
        if commit:
            user.save()
        return user
