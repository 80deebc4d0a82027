"""Order rules that need no Stripe: refusals and frozen money."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from core.errors import Conflict, DomainError, PermissionDenied
from marketplace.billing.services.orders import order_checkout_start
from marketplace.models import Order
from tests.fixtures.accounts import UserFactory

from .factories import OrderFactory, entitle, make_remix

URLS = {"success_url": "http://testserver/ok", "cancel_url": "http://testserver/no"}


def test_fan_without_plans_is_told_what_is_missing(fan):
    remix = make_remix(owner=fan)
    with pytest.raises(DomainError) as caught:
        order_checkout_start(fan=fan, remix=remix, **URLS)
    assert caught.value.code == "not_entitled"
    assert "Premium" in caught.value.message and "Remix add-on" in caught.value.message
    assert not Order.objects.exists()


def test_someone_elses_remix_is_refused(fan):
    entitle(fan)
    remix = make_remix(owner=UserFactory())
    with pytest.raises(PermissionDenied) as caught:
        order_checkout_start(fan=fan, remix=remix, **URLS)
    assert "not yours" in caught.value.message
    assert not Order.objects.exists()


def test_not_remixable_is_refused(fan):
    entitle(fan)
    remix = make_remix(owner=fan, remixable=False)
    with pytest.raises(DomainError) as caught:
        order_checkout_start(fan=fan, remix=remix, **URLS)
    assert caught.value.code == "not_remixable"
    assert caught.value.status_code == 409  # as every remixing write refuses it
    assert not Order.objects.exists()


def test_already_paid_is_refused(fan):
    entitle(fan)
    paid = OrderFactory(fan=fan, status=Order.Status.PAID, paid_at=timezone.now())
    with pytest.raises(Conflict) as caught:
        order_checkout_start(fan=fan, remix=paid.remix, **URLS)
    assert caught.value.code == "already_paid"
    assert Order.objects.count() == 1


def test_money_fields_are_frozen_once_paid(fan):
    order = OrderFactory(fan=fan)
    # Before payment the amount may still be corrected.
    Order.objects.filter(pk=order.pk).update(amount_cents=399)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID, paid_at=timezone.now())
    for change in ({"amount_cents": 1}, {"currency": "eur"}, {"paid_at": None}):
        with pytest.raises(DatabaseError), transaction.atomic():
            Order.objects.filter(pk=order.pk).update(**change)
    # Status and refund bookkeeping still move.
    Order.objects.filter(pk=order.pk).update(status=Order.Status.REFUNDED, refunded_cents=399)
    order.refresh_from_db()
    assert (order.amount_cents, order.currency, order.status) == (399, "usd", "refunded")


def test_one_live_order_per_remix(fan):
    order = OrderFactory(fan=fan)
    with pytest.raises(DatabaseError), transaction.atomic():
        OrderFactory(fan=fan, remix=order.remix)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
    OrderFactory(fan=fan, remix=order.remix)  # a cancelled order frees the remix
