from django.apps import AppConfig

from catalog import signals


class RemixingConfig(AppConfig):
    name = "remixing"
    verbose_name = "Remixing"

    def ready(self) -> None:
        # Imported here, not at the top: they import models, which Django
        # allows only once the app registry is ready. The tasks register with
        # Celery here, in every process, so `remixing.enqueue` can send them by
        # name (web included).
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from . import receivers, tasks  # noqa: F401
        from .models import Remix
        from .published import on_remix_saved, on_user_saved

        # Cached pages of published remixes retire with any change they show.
        post_save.connect(on_remix_saved, sender=Remix, dispatch_uid="remixing.remix_saved")
        post_delete.connect(on_remix_saved, sender=Remix, dispatch_uid="remixing.remix_deleted")
        post_save.connect(
            on_user_saved, sender=get_user_model(), dispatch_uid="remixing.user_saved"
        )

        signals.consent_revoked.connect(
            receivers.on_consent_revoked, dispatch_uid="remixing.consent_revoked"
        )
        signals.takedown_placed.connect(
            receivers.on_takedown_placed, dispatch_uid="remixing.takedown_placed"
        )
        # Stems ready before the fan arrives: whatever may make a recording remixable.
        for signal, uid in (
            (signals.consent_changed, "consent_changed"),
            (signals.takedown_lifted, "takedown_lifted"),
            (signals.rights_changed, "rights_changed"),
        ):
            signal.connect(
                receivers.on_may_have_become_remixable, dispatch_uid=f"remixing.prepare.{uid}"
            )
        signals.recording_audio_stored.connect(
            receivers.on_recording_audio_stored, dispatch_uid="remixing.recording_audio_stored"
        )
        signals.consent_changed.connect(
            receivers.on_consent_changed, dispatch_uid="remixing.consent_changed"
        )
        signals.takedown_lifted.connect(
            receivers.on_takedown_lifted, dispatch_uid="remixing.takedown_lifted"
        )
