"""Create Clearmix's Stripe products and prices (idempotently) and store their ids."""

from __future__ import annotations

import stripe
from django.core.management.base import BaseCommand, CommandError

from marketplace.billing.services.plans import plan_catalog_sync


class Command(BaseCommand):
    help = "Create or find the Premium and Remix add-on prices in Stripe (by lookup_key)."

    def handle(self, *args, **options) -> None:
        try:
            plans = plan_catalog_sync(log=lambda line: self.stdout.write(f"  {line}"))
        except stripe.StripeError as exc:
            raise CommandError(f"Stripe refused the catalog sync: {exc}") from exc
        for plan in plans:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{plan.code}: {plan.stripe_price_id} ({plan.price_display}/{plan.interval})"
                )
            )
