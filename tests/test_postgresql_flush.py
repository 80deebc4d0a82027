"""The test settings' PostgreSQL flush (tests/postgresql_flush) leaves every
table empty, as Django's does, whatever filled it: append-only tables whose
triggers refuse DELETE, a table past the DELETE threshold, ordinary ones."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection

from catalog.models import ConsentEvent, Party
from tests.catalog.factories import remixable_recording

pytestmark = pytest.mark.django_db(transaction=True)


def _filled_tables() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.django_table_names(only_existing=True):
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            (count,) = cursor.fetchone()
            if count:
                counts[table] = count
    return counts


def test_a_flush_empties_every_table_it_was_given():
    if connection.settings_dict["ENGINE"] != "tests.postgresql_flush":
        pytest.skip("the test settings use this flush on PostgreSQL only")
    remixable_recording("Flush")
    Party.objects.bulk_create(Party(name=f"Bulk {n}", kind="artist") for n in range(1_500))
    assert ConsentEvent.objects.exists()  # an append-only table: DELETE is refused there
    with pytest.raises(Exception, match=r"append-only|immutable|not allowed|refused"):
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM catalog_consentevent")
    kinds = ContentType.objects.count()
    filled = set(_filled_tables())
    assert {"catalog_party", "catalog_consentevent", "accounts_user"} <= filled

    call_command("flush", verbosity=0, interactive=False)

    # Kept: content types and permissions; written again by post_migrate, as
    # after Django's own flush: the default site.
    left = _filled_tables()
    assert set(left) == {"django_content_type", "auth_permission", "django_site"}, left
    assert left["django_content_type"] == kinds
