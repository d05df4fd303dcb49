from django.core.management.base import BaseCommand

from solarhub.demo import demo_seed


class Command(BaseCommand):
    help = "Create the demo accounts, plants, panel specs and devices that are missing. Idempotent."

    def handle(self, *args, **options):
        outcome = demo_seed()
        for demo, created in outcome.users:
            state = "created" if created else "exists "
            self.stdout.write(f"  {state}  {demo.user_type:<12} username={demo.username:<11} password={demo.password}")
        for result in outcome.plants:
            plant = result.plant
            state = "created" if result.created else "exists "
            devices = ", ".join(f"{n} {kind}" for kind, n in sorted(result.device_counts.items()))
            self.stdout.write(
                f"  {state}  plant {plant.plant_code:<13} {plant.name} — {plant.get_tracking_display().lower()}, "
                f"{plant.total_power_output_kw:,g} kWp, owner={plant.owner} installer={plant.installer}"
            )
            self.stdout.write(f"           devices ({result.devices_created} new): {devices}")
        self.stdout.write(self.style.SUCCESS("Demo data ready (passwords shown are the demo defaults)."))
