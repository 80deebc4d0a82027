"""python manage.py seed_demo — the demo catalog and logins (idempotent)."""

from django.core.management.base import BaseCommand

from catalog.models import Recording
from catalog.selectors import recording_remixability
from marketplace.demo import catalog_data
from marketplace.demo.premium import demo_fan_subscribe, demo_party_onboard
from marketplace.demo.remixes import seed_demo_remixes
from marketplace.demo.seed import seed_demo
from remixing.services import stemsets_prepare


class Command(BaseCommand):
    help = "Create the demo catalog, consents and logins. Safe to run again."

    def handle(self, *args, **options):
        result = seed_demo(log=self.stdout.write)
        fan = result["users"]["fan@clearmix.demo"]
        try:
            demo_fan_subscribe(user=fan, log=self.stdout.write)
            songwriter = result["users"]["songwriter@clearmix.demo"]
            demo_party_onboard(
                party=result["parties"]["June Okafor"], user=songwriter, log=self.stdout.write
            )
        except Exception as exc:
            self.stderr.write(
                f"Could not subscribe the demo fan through the Stripe sandbox ({exc}). "
                "Start it (python manage.py run_demo does) and run seed_demo again."
            )
        self.stdout.write(f"Demo catalog ready ({result['recordings_created']} new recordings).")
        for recording in Recording.objects.order_by("isrc"):
            verdict = recording_remixability(recording=recording)
            why = (
                ""
                if verdict.remixable
                else " — " + "; ".join(reason.message for reason in verdict.reasons)
            )
            state = "remixable" if verdict.remixable else "not remixable"
            self.stdout.write(f"  {recording.title}: {state}{why}")
        published = seed_demo_remixes(
            users=result["users"], parties=result["parties"], log=self.stdout.write
        )
        self.stdout.write(f"Demo remixes: {published} newly published.")
        # Stems ready before the fan arrives: official imports (or separation) queued now,
        # for the worker to do at start, not on the first studio open. Idempotent.
        counts = stemsets_prepare(recording_ids=Recording.objects.values_list("pk", flat=True))
        self.stdout.write(
            f"Stems: {counts['ready']} ready, {counts['queued']} queued for the worker, "
            f"{counts['skipped']} not remixable."
        )
        self.stdout.write(
            self.style.SUCCESS(f"\nDemo logins (password: {catalog_data.DEMO_PASSWORD}):")
        )
        for user in catalog_data.USERS:
            self.stdout.write(f"  {user.email:<28} {', '.join(user.roles)}")
