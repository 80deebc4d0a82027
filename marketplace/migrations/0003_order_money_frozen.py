"""Money on a paid order never changes: enforced by the database itself.

A trigger (not only a service check) so that no code path, admin action or
hand-written UPDATE can alter what a fan paid once Stripe has taken it.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION marketplace_order_money_frozen() RETURNS trigger AS $$
BEGIN
    IF OLD.paid_at IS NOT NULL AND (
        NEW.amount_cents IS DISTINCT FROM OLD.amount_cents
        OR NEW.currency IS DISTINCT FROM OLD.currency
        OR NEW.fan_id IS DISTINCT FROM OLD.fan_id
        OR NEW.remix_id IS DISTINCT FROM OLD.remix_id
        OR NEW.paid_at IS DISTINCT FROM OLD.paid_at
        OR NEW.stripe_payment_intent_id IS DISTINCT FROM OLD.stripe_payment_intent_id
    ) THEN
        RAISE EXCEPTION 'order % is paid: its money fields are frozen', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS marketplace_order_money_frozen ON marketplace_order;
CREATE TRIGGER marketplace_order_money_frozen
    BEFORE UPDATE ON marketplace_order
    FOR EACH ROW EXECUTE FUNCTION marketplace_order_money_frozen();
CREATE OR REPLACE FUNCTION marketplace_order_no_delete_paid() RETURNS trigger AS $$
BEGIN
    IF OLD.paid_at IS NOT NULL THEN
        RAISE EXCEPTION 'order % is paid: it cannot be deleted', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS marketplace_order_no_delete_paid ON marketplace_order;
CREATE TRIGGER marketplace_order_no_delete_paid
    BEFORE DELETE ON marketplace_order
    FOR EACH ROW EXECUTE FUNCTION marketplace_order_no_delete_paid();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS marketplace_order_money_frozen ON marketplace_order;
DROP FUNCTION IF EXISTS marketplace_order_money_frozen();
DROP TRIGGER IF EXISTS marketplace_order_no_delete_paid ON marketplace_order;
DROP FUNCTION IF EXISTS marketplace_order_no_delete_paid();
"""

SQLITE_FORWARD = [
    """
    CREATE TRIGGER IF NOT EXISTS marketplace_order_money_frozen
    BEFORE UPDATE ON marketplace_order
    WHEN OLD.paid_at IS NOT NULL AND (
        NEW.amount_cents IS NOT OLD.amount_cents
        OR NEW.currency IS NOT OLD.currency
        OR NEW.fan_id IS NOT OLD.fan_id
        OR NEW.remix_id IS NOT OLD.remix_id
        OR NEW.paid_at IS NOT OLD.paid_at
        OR NEW.stripe_payment_intent_id IS NOT OLD.stripe_payment_intent_id
    )
    BEGIN
        SELECT RAISE(ABORT, 'order is paid: its money fields are frozen');
    END;
    """,
]
# No delete trigger on SQLite: Django's test flush empties tables with DELETE
# (PostgreSQL uses TRUNCATE, which row triggers do not see).
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS marketplace_order_money_frozen;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0002_billing")]

    operations = [migrations.RunPython(forward, backward)]
