"""A trigram index for party search (PostgreSQL only).

`party_search` matches `name__icontains`, which PostgreSQL runs as
`UPPER(name) LIKE UPPER('%q%')`: without an index on that expression the
site search scans every party (two scans a request, one per kind).
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS party_name_upper_trgm ON catalog_party "
    "USING GIN (UPPER(name) gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS party_name_upper_trgm"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("catalog", "0007_ghost_track_guard")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
