"""Stripe API resources; importing this package registers every ``/v1`` route."""

from . import (  # noqa: F401
    billing,
    catalog,
    checkout,
    connect,
    customers,
    events_api,
    payments,
    refunds,
    transfers,
)
