"""The site is Clearmix: allauth's emails name it ("[Clearmix] …", "Hello
from Clearmix!"), not Django's placeholder example.com."""

from urllib.parse import urlsplit

from django.conf import settings
from django.db import migrations


def name_the_site(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    domain = urlsplit(settings.SITE_URL).netloc or "127.0.0.1:8000"
    Site.objects.update_or_create(
        pk=settings.SITE_ID, defaults={"domain": domain[:100], "name": "Clearmix"}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0005_order_stripe_check"),
        ("sites", "0002_alter_domain_unique"),
    ]

    operations = [migrations.RunPython(name_the_site, migrations.RunPython.noop)]
