"""Database-enforced ledger invariants.

PostgreSQL:
- a DEFERRABLE INITIALLY DEFERRED constraint trigger: at commit, every ledger
  transaction touched has entries summing to zero per currency, and a
  transaction has at least two entries;
- a BEFORE INSERT trigger: an entry's currency is its account's currency;
- BEFORE UPDATE OR DELETE triggers: entries and transactions are append-only.
  (TRUNCATE stays possible so test databases can be flushed.)

SQLite: BEFORE UPDATE triggers make the same rows immutable, and a BEFORE
INSERT trigger checks the currency. The balance check is done in Python by
`royalties.ledger.ledger_post` (SQLite has no deferred triggers), and DELETE is
refused by the model layer only: Django's test flush on SQLite deletes rows.
"""

from django.db import migrations

PG_FORWARD = r"""
CREATE OR REPLACE FUNCTION royalties_txn_balanced() RETURNS trigger AS $$
DECLARE
    txn_id bigint;
    bad record;
BEGIN
    IF TG_TABLE_NAME = 'royalties_entry' THEN
        txn_id := NEW.transaction_id;
    ELSE
        txn_id := NEW.id;
    END IF;
    SELECT currency, SUM(amount_cents) AS total INTO bad
      FROM royalties_entry WHERE transaction_id = txn_id
     GROUP BY currency HAVING SUM(amount_cents) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced: % % off', txn_id, bad.total, bad.currency
            USING ERRCODE = 'check_violation';
    END IF;
    IF (SELECT COUNT(*) FROM royalties_entry WHERE transaction_id = txn_id) < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has fewer than two entries', txn_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER royalties_entry_balanced
    AFTER INSERT ON royalties_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION royalties_txn_balanced();

CREATE CONSTRAINT TRIGGER royalties_txn_has_entries
    AFTER INSERT ON royalties_ledgertransaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION royalties_txn_balanced();

CREATE OR REPLACE FUNCTION royalties_entry_currency() RETURNS trigger AS $$
BEGIN
    IF NEW.currency <> (SELECT currency FROM royalties_account WHERE id = NEW.account_id) THEN
        RAISE EXCEPTION 'entry currency % does not match its account', NEW.currency
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER royalties_entry_currency
    BEFORE INSERT ON royalties_entry
    FOR EACH ROW EXECUTE FUNCTION royalties_entry_currency();

CREATE OR REPLACE FUNCTION royalties_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused (post a reversing transaction instead)',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER royalties_entry_append_only
    BEFORE UPDATE OR DELETE ON royalties_entry
    FOR EACH ROW EXECUTE FUNCTION royalties_append_only();

CREATE TRIGGER royalties_txn_append_only
    BEFORE UPDATE OR DELETE ON royalties_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION royalties_append_only();
"""

PG_BACKWARD = r"""
DROP TRIGGER IF EXISTS royalties_txn_append_only ON royalties_ledgertransaction;
DROP TRIGGER IF EXISTS royalties_entry_append_only ON royalties_entry;
DROP TRIGGER IF EXISTS royalties_entry_currency ON royalties_entry;
DROP TRIGGER IF EXISTS royalties_txn_has_entries ON royalties_ledgertransaction;
DROP TRIGGER IF EXISTS royalties_entry_balanced ON royalties_entry;
DROP FUNCTION IF EXISTS royalties_append_only();
DROP FUNCTION IF EXISTS royalties_entry_currency();
DROP FUNCTION IF EXISTS royalties_txn_balanced();
"""

SQLITE_FORWARD = [
    """CREATE TRIGGER royalties_entry_no_update BEFORE UPDATE ON royalties_entry
       BEGIN SELECT RAISE(ABORT, 'royalties_entry is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER royalties_txn_no_update BEFORE UPDATE ON royalties_ledgertransaction
       BEGIN SELECT RAISE(ABORT, 'royalties_ledgertransaction is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER royalties_entry_currency BEFORE INSERT ON royalties_entry
       WHEN NEW.currency <> (SELECT currency FROM royalties_account WHERE id = NEW.account_id)
       BEGIN SELECT RAISE(ABORT, 'entry currency does not match its account'); END""",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS royalties_entry_no_update",
    "DROP TRIGGER IF EXISTS royalties_txn_no_update",
    "DROP TRIGGER IF EXISTS royalties_entry_currency",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("royalties", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
