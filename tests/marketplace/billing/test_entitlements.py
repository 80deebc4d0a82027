from django.contrib.auth.models import AnonymousUser

from marketplace.billing.entitlements import fan_entitlement
from marketplace.models import Plan, Subscription

from .factories import SubscriptionFactory, entitle, plan


def codes(entitlement) -> list[str]:
    return [item["code"] for item in entitlement.missing]


def test_anonymous_must_log_in(db):
    entitlement = fan_entitlement(user=AnonymousUser())
    assert not entitlement.can_remix
    assert codes(entitlement) == ["login_required"]


def test_nothing_active_lists_both_with_fix_links(fan):
    entitlement = fan_entitlement(user=fan)
    assert not entitlement.can_remix
    assert codes(entitlement) == ["premium_required", "remix_addon_required"]
    assert all(item["fix_url"].startswith("/pricing/") for item in entitlement.missing)
    assert all(item["message"] for item in entitlement.missing)


def test_premium_alone_is_not_enough(fan):
    SubscriptionFactory(user=fan, plan=plan(Plan.Code.PREMIUM))
    entitlement = fan_entitlement(user=fan)
    assert entitlement.premium_active and not entitlement.can_remix
    assert codes(entitlement) == ["remix_addon_required"]


def test_both_active_can_remix(fan):
    entitlement_before = fan_entitlement(user=fan)
    entitle(fan)
    entitlement = fan_entitlement(user=fan)
    assert not entitlement_before.can_remix
    assert entitlement.can_remix and entitlement.missing == []


def test_past_due_points_to_billing(fan):
    entitle(fan)
    Subscription.objects.filter(user=fan, plan__code=Plan.Code.PREMIUM).update(
        status=Subscription.Status.PAST_DUE
    )
    entitlement = fan_entitlement(user=fan)
    assert not entitlement.can_remix
    assert codes(entitlement) == ["premium_past_due"]
    assert entitlement.missing[0]["fix_url"] == "/billing/"


def test_canceled_is_missing_again(fan):
    entitle(fan)
    Subscription.objects.filter(user=fan, plan__code=Plan.Code.REMIX_ADDON).update(
        status=Subscription.Status.CANCELED
    )
    assert codes(fan_entitlement(user=fan)) == ["remix_addon_required"]
