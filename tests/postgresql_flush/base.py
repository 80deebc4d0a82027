"""Django's PostgreSQL backend, flushing only what a test filled.

A transactional test (`transaction=True`, `live_server`, the browser and
worker tests) ends with a flush. Django's is one TRUNCATE of every table,
about 1.3-2 s on PostgreSQL whatever the test wrote: each table, index and
TOAST table gets a new file. Here the flush finds the tables that hold rows
(a bounded count each, inside one DO block) and empties only those: DELETE
for most (Django's foreign keys are DEFERRABLE INITIALLY DEFERRED, so the
order does not matter within the flush's transaction), TRUNCATE ... CASCADE
for large tables and for the tables whose triggers refuse DELETE (the
append-only ledgers and audit logs, which allow TRUNCATE for this). The
result is the same: every table empty, sequences untouched, as Django's
flush leaves them. A flush that resets sequences is Django's own.

Content types and permissions are kept: after a flush Django's post_migrate
signal writes them again, the same rows for the same models (about 0.25 s
of CPU each time); kept, it finds them all present. The database then looks
as it did before the first test, which had them from its migrations.
"""

from __future__ import annotations

from django.db.backends.postgresql import base, operations

# What migrations and post_migrate write for every model, and a flush would
# only see written again.
_KEPT = frozenset({"django_content_type", "auth_permission"})
# From this many rows a table is truncated: a DELETE checks each row's
# deferred foreign keys at commit, a TRUNCATE costs the same at any size.
_MANY_ROWS = 1000
# TRIGGER_TYPE_DELETE in PostgreSQL's pg_trigger.tgtype bit mask.
_DELETE_BIT = 8

_FLUSH_FILLED = """
DO $flush$
DECLARE
    name text;
    found integer;
    guarded text[];
    deleted text[] := '{}';
    truncated text[] := '{}';
BEGIN
    SELECT coalesce(array_agg(DISTINCT c.relname::text), '{}') INTO guarded
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE NOT t.tgisinternal AND (t.tgtype & %(delete_bit)s) <> 0;
    FOREACH name IN ARRAY %(tables)s::text[] LOOP
        EXECUTE format(
            'SELECT count(*) FROM (SELECT 1 FROM %%I LIMIT %(many)s) AS r', name
        ) INTO found;
        IF found = %(many)s OR (found > 0 AND name = ANY (guarded)) THEN
            truncated := truncated || name;
        ELSIF found > 0 THEN
            deleted := deleted || name;
        END IF;
    END LOOP;
    SET CONSTRAINTS ALL DEFERRED;
    IF cardinality(truncated) > 0 THEN
        EXECUTE 'TRUNCATE ' || (
            SELECT string_agg(format('%%I', table_name), ', ') FROM unnest(truncated) table_name
        ) || ' CASCADE';
    END IF;
    FOREACH name IN ARRAY deleted LOOP
        EXECUTE format('DELETE FROM %%I', name);
    END LOOP;
END
$flush$
"""


def _text_array(names: list[str]) -> str:
    quoted = ", ".join("'" + name.replace("'", "''") + "'" for name in names)
    return f"ARRAY[{quoted}]"


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return super().sql_flush(
                style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        emptied = sorted(set(tables) - _KEPT)
        sql = _FLUSH_FILLED % {
            "delete_bit": _DELETE_BIT,
            "many": _MANY_ROWS,
            "tables": _text_array(emptied),
        }
        return [sql]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
