from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace"

    def ready(self) -> None:
        from remixing.access import register_studio_gate
        from royalties import webhooks as royalty_webhooks

        from . import receivers
        from .billing import handlers  # noqa: F401 - registers billing's webhook handlers
        from .billing.signals import order_paid
        from .billing.webhooks import register_handler
        from .celery import ensure_broker_folders
        from .fulfilment import royalties_handler
        from .gates import studio_gate

        ensure_broker_folders()
        register_studio_gate(studio_gate)
        order_paid.connect(receivers.on_order_paid, dispatch_uid="marketplace.order_paid")
        # Money and Connect events belong to royalties; the one endpoint is here.
        for event_type, handler in royalty_webhooks.HANDLERS.items():
            register_handler(event_type, royalties_handler(handler))
