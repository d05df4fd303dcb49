from django.core.management.base import BaseCommand

from solarhub.demo import demo_seed


class Command(BaseCommand):
    help = "Create demo accounts (and, as features land, plants, devices and telemetry). Idempotent."

    def handle(self, *args, **options):
        for demo, created in demo_seed():
            state = "created" if created else "exists "
            self.stdout.write(f"  {state}  {demo.user_type:<12} username={demo.username:<11} password={demo.password}")
        self.stdout.write(self.style.SUCCESS("Demo data ready (passwords shown are the demo defaults)."))
