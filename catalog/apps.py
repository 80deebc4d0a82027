from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import Party
        from .services import catalog_listing_changed

        # Site search lists parties by name: a party made, renamed or removed
        # (services or the admin) retires the cached lists.
        def party_changed(sender, **kwargs) -> None:
            catalog_listing_changed()

        post_save.connect(
            party_changed, sender=Party, weak=False, dispatch_uid="catalog.party_saved"
        )
        post_delete.connect(
            party_changed, sender=Party, weak=False, dispatch_uid="catalog.party_deleted"
        )
