"""Make the ledger tamper-resistant in the database itself, not only in Python.

PostgreSQL: consent events and split versions/shares refuse UPDATE and
DELETE; a deferred constraint trigger checks each split version sums to
exactly 10000 bps at commit. TRUNCATE (a table-owner operation, which the
application role should not be granted) stays possible so test databases can
be flushed. SQLite (the embedded demo): UPDATE is refused by BEFORE triggers;
DELETE is not, because Django empties SQLite tables with DELETE between
transactional tests; the split sum is checked by the service only, since
SQLite has no deferred triggers.
"""

from django.db import migrations

IMMUTABLE_TABLES = ["catalog_consentevent", "catalog_splitversion", "catalog_splitshare"]

PG_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION catalog_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    *[
        f"""
        CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION catalog_refuse_change();
        """
        for table in IMMUTABLE_TABLES
    ],
    """
    CREATE OR REPLACE FUNCTION catalog_split_sum_check() RETURNS trigger AS $$
    DECLARE
        target bigint;
        total bigint;
    BEGIN
        IF TG_TABLE_NAME = 'catalog_splitshare' THEN
            target := NEW.version_id;
        ELSE
            target := NEW.id;
        END IF;
        SELECT COALESCE(SUM(bps), 0) INTO total FROM catalog_splitshare WHERE version_id = target;
        IF total <> 10000 THEN
            RAISE EXCEPTION 'split version % sums to % bps, not 10000', target, total
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    CREATE CONSTRAINT TRIGGER catalog_splitshare_sum AFTER INSERT ON catalog_splitshare
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_split_sum_check();
    CREATE CONSTRAINT TRIGGER catalog_splitversion_sum AFTER INSERT ON catalog_splitversion
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_split_sum_check();
    """,
]

PG_REVERSE = [
    "DROP TRIGGER IF EXISTS catalog_splitshare_sum ON catalog_splitshare;",
    "DROP TRIGGER IF EXISTS catalog_splitversion_sum ON catalog_splitversion;",
    "DROP FUNCTION IF EXISTS catalog_split_sum_check();",
    *[
        f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};"
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};"
        for table in IMMUTABLE_TABLES
    ],
    "DROP FUNCTION IF EXISTS catalog_refuse_change();",
]

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
    BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END;
    """
    for table in IMMUTABLE_TABLES
    for op in ("UPDATE",)
]

SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {table}_no_{op.lower()};"
    for table in IMMUTABLE_TABLES
    for op in ("UPDATE",)
]


def _run(schema_editor, statements):
    # params=None: run as written, so plpgsql's RAISE '%' placeholders survive.
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
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
