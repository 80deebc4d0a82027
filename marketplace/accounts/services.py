"""Account deletion: it reaches into remixes, claims and billing, so it is the
site shell's; the rules about users and their names live in accounts/."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.handles import tombstone_handle
from catalog.audit_log import staff_audit_append
from catalog.models import Party
from core.errors import DomainError
from marketplace.accounts.selectors import account_deletion_blockers
from marketplace.models import BillingCustomer
from marketplace.staff_actions import Action
from marketplace.tasks import billing_customer_scrub_task
from remixing.models import Remix, RemixEvent, RemixNotice
from remixing.services import cover_takes_delete_for_user, remix_unpublish

# RFC 2606 reserves .invalid: a tombstone address can never receive mail.
TOMBSTONE_EMAIL_DOMAIN = "deleted.invalid"


def _remixes_unpublish(*, user) -> list[int]:
    # A deleted person's remixes leave the public site with them; the remixes
    # themselves stay, because orders, settlements and consent refer to them.
    ids = []
    for remix in Remix.objects.filter(fan=user, status=Remix.Status.PUBLISHED).order_by("pk"):
        remix_unpublish(
            remix=remix,
            actor=user,
            actor_kind=RemixEvent.Actor.FAN,
            reason="The fan deleted their account",
        )
        ids.append(remix.pk)
    return ids


def _personal_data_erase(*, user) -> None:
    login_email = user.email
    tombstone = tombstone_handle(user.pk)
    user.email = f"{tombstone}@{TOMBSTONE_EMAIL_DOMAIN}"
    user.handle, user.display_name = tombstone, ""
    # An unusable password also changes the session hash, which ends every
    # session of this account on its next request.
    user.set_unusable_password()
    user.is_active = user.is_staff = user.is_superuser = False
    user.is_fan = user.is_artist = user.is_songwriter = user.is_auditor = False
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    EmailAddress.objects.filter(user=user).delete()
    RemixNotice.objects.filter(fan=user).delete()
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__iexact=login_email).delete()


@transaction.atomic
def user_delete_account(*, user):
    """Delete an account by pseudonymising it.

    The row stays (orders, remixes, consent events, ledger lines and staff
    audit entries point at it, and their hash chains cover only its id), but
    everything that names the person goes: email, names, handle, password,
    roles, sessions, login records. Refused, with every reason, where it would
    break a promise (see account_deletion_blockers).
    """
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    blockers = account_deletion_blockers(user=user)
    if blockers:
        raise DomainError(
            "Your account cannot be deleted yet: " + " ".join(blockers),
            code="account_delete_blocked",
            status_code=409,
        )
    unpublished = _remixes_unpublish(user=user)
    # Claims staff never verified carry no consent or earnings: withdraw them.
    Party.objects.filter(user=user, claim_verified=False).update(user=None, claim_requested_at=None)
    _personal_data_erase(user=user)
    # Cover takes are the fan's recorded voice: their data, gone with them.
    takes_deleted = cover_takes_delete_for_user(user=user)
    # The record of the deletion commits with it. It holds no personal data
    # (no free text either): the chain is append-only, nothing could be erased.
    staff_audit_append(
        actor=user,
        action=Action.ACCOUNT_DELETE,
        subject_type="user",
        subject_id=user.pk,
        reason="Deleted by the account holder",
        data={
            "handle": user.handle,
            "unpublished_remixes": unpublished,
            "cover_takes_deleted": takes_deleted,
        },
    )
    if BillingCustomer.objects.filter(user=user).exclude(stripe_customer_id="").exists():
        billing_customer_scrub_task.delay_on_commit(user.pk)
    return user
