"""`royalties_ledger_checks_now()`: run now the deferred checks of the ledger's
own tables (their foreign keys, and the balance check per ledger transaction)
instead of at commit.

Every posting ends by adding to its accounts' balance rows, and the platform's
rows are shared by every posting: a transaction holds them from that upsert
until it commits. Left deferred, some twenty foreign-key checks per settlement
and the balance checks would run at commit, inside that window, and concurrent
writers would queue behind them. A batch therefore calls this after its
entries and before its balances (see `royalties.ledger`). A check that fails
fails there, as it would have at commit. Only the ledger tables' constraints
are touched, and they are deferred again afterwards: a caller's other pending
checks (a split being built in the same transaction) still wait for commit.
"""

from django.db import migrations

TABLES = (
    "royalties_ledgertransaction",
    "royalties_settlement",
    "royalties_settlementline",
    "royalties_entry",
)

PG_FORWARD = """
CREATE OR REPLACE FUNCTION royalties_ledger_checks_now() RETURNS void AS $$
DECLARE
    names text;
BEGIN
    SELECT string_agg(quote_ident(conname), ', ') INTO names
      FROM pg_constraint
     WHERE conrelid = ANY (ARRAY[%s]::regclass[]) AND condeferrable AND condeferred;
    IF names IS NOT NULL THEN
        EXECUTE 'SET CONSTRAINTS ' || names || ' IMMEDIATE';
        EXECUTE 'SET CONSTRAINTS ' || names || ' DEFERRED';
    END IF;
END
$$ LANGUAGE plpgsql;
""" % ", ".join(f"'{t}'" for t in TABLES)

PG_BACKWARD = "DROP FUNCTION IF EXISTS royalties_ledger_checks_now();"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("royalties", "0003_account_balances")]

    operations = [migrations.RunPython(forward, backward)]
