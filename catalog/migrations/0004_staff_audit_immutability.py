"""The staff audit log is append-only in the database, like the consent ledger.

PostgreSQL refuses UPDATE and DELETE (TRUNCATE stays possible, so test
databases can be flushed). SQLite refuses UPDATE only, because Django empties
SQLite tables with DELETE between transactional tests.
"""

from django.db import migrations

TABLE = "catalog_staffauditentry"

PG_FORWARD = [
    # catalog_refuse_change() was created by 0002; recreate it so this
    # migration stands on its own.
    """
    CREATE OR REPLACE FUNCTION catalog_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    f"""
    CREATE TRIGGER {TABLE}_immutable BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION catalog_refuse_change();
    """,
]
PG_REVERSE = [f"DROP TRIGGER IF EXISTS {TABLE}_immutable ON {TABLE};"]
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: UPDATE refused'); END;
    """
]
SQLITE_REVERSE = [f"DROP TRIGGER IF EXISTS {TABLE}_no_update;"]


def _run(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement, params=None)


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, PG_FORWARD)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_FORWARD)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, PG_REVERSE)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_staff_audit_log")]
    operations = [migrations.RunPython(forward, reverse)]
