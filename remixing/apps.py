from django.apps import AppConfig


class RemixingConfig(AppConfig):
    name = "remixing"
    verbose_name = "Remixing"

    def ready(self) -> None:
        from catalog import signals

        from . import receivers

        signals.consent_revoked.connect(
            receivers.on_consent_revoked, dispatch_uid="remixing.consent_revoked"
        )
        signals.takedown_placed.connect(
            receivers.on_takedown_placed, dispatch_uid="remixing.takedown_placed"
        )
