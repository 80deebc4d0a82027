"""Search indexes (PostgreSQL only) and the first derivation of the stored
listing state for recordings that existed before it.

The trigram GIN index serves substring (LIKE '%q%') and word-similarity
(`q <% search_text`) matches; a generated tsvector column (PostgreSQL keeps it
in step with search_text; the model does not declare it) and its GIN index
serve full-text words, as `catalog.selectors` queries them. SQLite keeps
plain substring search.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS recording_search_trgm ON catalog_recording "
    "USING GIN (search_text gin_trgm_ops)",
    # Stored, not computed per row: a list walks its ordered index and
    # filters as it goes, and to_tsvector per row would cost more than the page.
    "ALTER TABLE catalog_recording ADD COLUMN IF NOT EXISTS search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED",
    "CREATE INDEX IF NOT EXISTS recording_search_fts ON catalog_recording "
    "USING GIN (search_vector)",
]
DROP = [
    "DROP INDEX IF EXISTS recording_search_fts",
    "ALTER TABLE catalog_recording DROP COLUMN IF EXISTS search_vector",
    "DROP INDEX IF EXISTS recording_search_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


def backfill(apps, schema_editor):
    # The live services, not historical models: the stored state must be the
    # one rule's answer (catalog.selectors.recording_remixability), and only
    # the current code knows that rule. A no-op on an empty database.
    from catalog.models import Recording
    from catalog.services import recording_listing_refresh

    ids = list(Recording.objects.values_list("pk", flat=True))
    if ids:
        recording_listing_refresh(recording_ids=ids)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_perf_remixability_state")]

    operations = [
        migrations.RunPython(_run(CREATE), _run(DROP)),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
