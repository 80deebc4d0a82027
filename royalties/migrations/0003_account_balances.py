"""Per-account balance rows, filled from the entries; and one balance check per
ledger transaction at commit instead of one per entry.

PostgreSQL: the deferred constraint triggers of 0002 fire once per inserted
row (a settlement of six lines: eight checks of the same transaction). The
function now remembers, for the rest of the database transaction, which ledger
transactions it has checked (a transaction-local setting), and checks each
once, in one query. Any entry inserted afterwards (possible only after
`SET CONSTRAINTS … IMMEDIATE`) clears that memory in the BEFORE INSERT
trigger, so an entry added to a transaction already checked is checked again.
"""

import django.db.models.deletion
from django.db import migrations, models

PG_FORWARD = r"""
CREATE OR REPLACE FUNCTION royalties_txn_balanced() RETURNS trigger AS $$
DECLARE
    txn_id bigint;
    checked text;
    n_entries bigint;
    bad_currency text;
    bad_total bigint;
BEGIN
    IF TG_TABLE_NAME = 'royalties_entry' THEN
        txn_id := NEW.transaction_id;
    ELSE
        txn_id := NEW.id;
    END IF;
    checked := coalesce(current_setting('royalties.checked_txns', true), '');
    IF position(',' || txn_id || ',' IN checked) > 0 THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(n), 0),
           min(currency) FILTER (WHERE total <> 0),
           min(total) FILTER (WHERE total <> 0)
      INTO n_entries, bad_currency, bad_total
      FROM (SELECT currency, sum(amount_cents) AS total, count(*) AS n
              FROM royalties_entry WHERE transaction_id = txn_id
             GROUP BY currency) per_currency;
    IF bad_currency IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced: % % off', txn_id, bad_total, bad_currency
            USING ERRCODE = 'check_violation';
    END IF;
    IF n_entries < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has fewer than two entries', txn_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF checked = '' THEN
        checked := ',';
    END IF;
    PERFORM set_config('royalties.checked_txns', checked || txn_id || ',', true);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION royalties_entry_currency() RETURNS trigger AS $$
BEGIN
    IF NEW.currency <> (SELECT currency FROM royalties_account WHERE id = NEW.account_id) THEN
        RAISE EXCEPTION 'entry currency % does not match its account', NEW.currency
            USING ERRCODE = 'check_violation';
    END IF;
    -- A new entry may belong to a transaction already checked: check again.
    IF coalesce(current_setting('royalties.checked_txns', true), '') <> '' THEN
        PERFORM set_config('royalties.checked_txns', '', true);
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""

# The 0002 definitions.
PG_BACKWARD = r"""
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

CREATE OR REPLACE FUNCTION royalties_entry_currency() RETURNS trigger AS $$
BEGIN
    IF NEW.currency <> (SELECT currency FROM royalties_account WHERE id = NEW.account_id) THEN
        RAISE EXCEPTION 'entry currency % does not match its account', NEW.currency
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""


def balances_fill(apps, schema_editor):
    """Every account that has entries gets its balance row (the sum of them)."""
    Account = apps.get_model("royalties", "Account")
    AccountBalance = apps.get_model("royalties", "AccountBalance")
    sums = Account.objects.annotate(total=models.Sum("entries__amount_cents")).values_list(
        "pk", "total"
    )
    AccountBalance.objects.bulk_create(
        [AccountBalance(account_id=pk, balance_cents=total or 0) for pk, total in sums],
        batch_size=1000,
    )


def triggers_forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)


def triggers_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("royalties", "0002_ledger_triggers")]

    operations = [
        migrations.CreateModel(
            name="AccountBalance",
            fields=[
                (
                    "account",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="balance",
                        serialize=False,
                        to="royalties.account",
                    ),
                ),
                ("balance_cents", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(balances_fill, migrations.RunPython.noop),
        migrations.RunPython(triggers_forward, triggers_backward),
    ]
