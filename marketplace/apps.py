from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.urls import reverse

        from catalog import signals as catalog_signals
        from remixing.access import register_studio_gate
        from remixing.links import StudioLinks, studio_links_register
        from remixing.public_extras import register_public_extras
        from remixing.signals import remix_played, remix_published, remix_undelivered
        from royalties.labels import register_remix_labeler

        from . import receivers
        from .billing.fulfilment import remix_labels_for_settlements
        from .billing.signals import order_paid
        from .db_deadline import install_reply_deadline
        from .discovery.public_page import remix_page_extras
        from .gates import studio_gate

        # A database that takes a statement and goes silent fails the call in time.
        connection_created.connect(install_reply_deadline, dispatch_uid="marketplace.db_deadline")
        register_studio_gate(studio_gate)
        studio_links_register(
            StudioLinks(
                catalog=lambda: reverse("marketplace:catalog"),
                track=lambda pk: reverse("marketplace:track_detail", args=[pk]),
                my_remixes=lambda: reverse("marketplace:my_remixes"),
                my_remix=lambda pk: reverse("marketplace:my_remix", args=[pk]),
                remix_export=lambda pk: reverse("marketplace:remix_export", args=[pk]),
                embed=lambda slug: reverse("marketplace:embed", args=[slug]),
            )
        )
        register_public_extras(remix_page_extras)
        register_remix_labeler(remix_labels_for_settlements)
        order_paid.connect(receivers.on_order_paid, dispatch_uid="marketplace.order_paid")
        remix_undelivered.connect(
            receivers.on_remix_undelivered, dispatch_uid="marketplace.remix_undelivered"
        )
        # Discovery: weekly plays, and notices for followers.
        remix_played.connect(receivers.on_remix_played, dispatch_uid="marketplace.remix_played")
        remix_published.connect(
            receivers.on_remix_published, dispatch_uid="marketplace.remix_published"
        )
        catalog_signals.consent_changed.connect(
            receivers.on_consent_changed, dispatch_uid="marketplace.consent_changed"
        )
        catalog_signals.rights_changed.connect(
            receivers.on_rights_changed, dispatch_uid="marketplace.rights_changed"
        )
