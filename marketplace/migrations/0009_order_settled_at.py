"""Order.settled_at: when the order's split was posted to the ledger, set in
the same transaction as the settlement. Paid orders without it are the
settling queue, drained in batches (marketplace.billing.settling) through a
partial index that holds only the orders waiting. Orders settled before this
migration take their settlement's time."""

from django.conf import settings
from django.db import migrations, models

ORDER_PREFIX = "order_"  # core.refs.order_ref, frozen here


def settled_at_fill(apps, schema_editor):
    Order = apps.get_model("marketplace", "Order")
    Settlement = apps.get_model("royalties", "Settlement")
    rows = Settlement.objects.filter(order_ref__startswith=ORDER_PREFIX).values_list(
        "order_ref", "created_at"
    )
    for ref, created_at in rows.iterator(chunk_size=2000):
        digits = ref[len(ORDER_PREFIX) :]
        if digits.isascii() and digits.isdigit():
            Order.objects.filter(pk=int(digits), settled_at__isnull=True).update(
                settled_at=created_at
            )


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0008_discovery"),
        ("remixing", "0009_stemset_structure"),
        ("royalties", "0003_account_balances"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="settled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(
                    ("paid_at__isnull", False),
                    ("settled_at__isnull", True),
                    ("status__in", ["paid", "partially_refunded", "disputed"]),
                ),
                fields=["paid_at", "id"],
                name="order_unsettled",
            ),
        ),
        migrations.RunPython(settled_at_fill, migrations.RunPython.noop),
    ]
