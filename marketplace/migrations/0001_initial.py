"""marketplace's first migration once made the user table; users now live in
the accounts app (accounts.0001_initial). Kept, empty, so the numbering of
marketplace's migrations stays as it was."""

from django.conf import settings
from django.db import migrations


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = []
