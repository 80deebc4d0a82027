from django.apps import AppConfig


class RemixingConfig(AppConfig):
    name = "remixing"
    verbose_name = "Remixing"
