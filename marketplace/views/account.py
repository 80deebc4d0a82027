"""The account page: public name, links to email and password management
(allauth's own pages), and account deletion."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts.forms import AccountDeleteForm, ProfileForm
from accounts.selectors import user_get_public
from accounts.services import user_update_profile
from core.errors import DomainError, NotFound
from marketplace.accounts.selectors import account_deletion_blockers
from marketplace.accounts.services import user_delete_account
from marketplace.views.discovery import profile_context


@login_required
@never_cache
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {"handle": user.handle, "display_name": user.display_name}
    form = ProfileForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            user_update_profile(
                user=user,
                handle=form.cleaned_data["handle"],
                display_name=form.cleaned_data["display_name"],
            )
        except DomainError as error:
            for field, problems in error.fields.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(request, "Your public name is saved.")
            return redirect("marketplace:account")
    return render(request, "marketplace/account/account.html", {"form": form})


@login_required
@never_cache
def account_delete(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user_delete_account(user=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            logout(request)
            messages.success(request, "Your account is deleted. Thank you for remixing with us.")
            return redirect("home")
    context = {"form": form, "blockers": account_deletion_blockers(user=request.user)}
    return render(request, "marketplace/account/delete.html", context)


def person(request: HttpRequest, handle: str) -> HttpResponse:
    """A person's public page: published remixes, likes, follows, their catalog."""
    try:
        user = user_get_public(handle=handle)
    except NotFound:
        raise Http404("Nobody has this handle.") from None
    return render(request, "marketplace/account/person.html", profile_context(request, user))
