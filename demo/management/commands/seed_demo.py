import time

from django.core.management.base import BaseCommand, CommandError

from collector.demo import demo_collector_run
from demo.seed import DEMO_TELEMETRY_DAYS, demo_seed, demo_telemetry_seed
from reports.demo import demo_reports_seed
from solarhub import background


class Command(BaseCommand):
    help = (
        "Create the demo accounts, plants, panel specs and devices that are missing, then simulate the demo "
        "plants' telemetry for the last 7 days (only what is missing). Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--telemetry-days",
            type=int,
            default=DEMO_TELEMETRY_DAYS,
            help=f"Days of simulated 5-minute telemetry up to now (default {DEMO_TELEMETRY_DAYS}; 0 = none).",
        )
        parser.add_argument(
            "--collector",
            action="store_true",
            help="Poll the demo home's inverter once over Modbus TCP from the SunSpec simulator (the collector "
            "end to end; `modbus_simulator --attach ID` keeps a simulator running).",
        )

    def handle(self, *args, **options):
        if options["telemetry_days"] < 0:
            raise CommandError("--telemetry-days must not be negative.")
        try:
            self._seed(options)
        finally:
            # Without a broker, work enqueued on the way (notifications of the simulated outage's
            # alarms) runs on the background thread: finish it before the command returns.
            background.drain()

    def _seed(self, options):
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
        if options["telemetry_days"]:
            began = time.perf_counter()
            self.stdout.write(
                f"  Simulated telemetry, last {options['telemetry_days']} days at 5-minute resolution "
                "(pvlib + bundled TMY3 weather):"
            )
            telemetry = demo_telemetry_seed(days=options["telemetry_days"])
            for item in telemetry.plants:
                if item.result is None:
                    self.stdout.write(f"  up to date  {item.plant.plant_code}")
                    continue
                for line in item.result.summary().splitlines():
                    self.stdout.write(f"  {line}")
            if telemetry.rollups:
                self.stdout.write(f"  rollups: {telemetry.rollups}")
            self.stdout.write(f"  telemetry done in {time.perf_counter() - began:.1f} s")
            # A weekly PDF of the simulated week per plant (on the worker when there is a broker).
            reports = demo_reports_seed(plants=[result.plant for result in outcome.plants])
            background.drain()  # without a broker the jobs run on the background thread: wait for them
            for report in reports:
                report.refresh_from_db()
                self.stdout.write(
                    f"  report  {report.plant.plant_code:<13} {report.name} {report.period_start}..{report.period_end} "
                    f"{report.status}{' — ' + report.error if report.error else ''}"
                )
        if options["collector"]:
            self._collector()
        self.stdout.write(self.style.SUCCESS("Demo data ready (passwords shown are the demo defaults)."))

    def _collector(self):
        poll = demo_collector_run()
        if poll is None:
            self.stdout.write("  collector: no demo inverter to poll")
            return
        result, device = poll.result, poll.device
        if not result.ok:
            self.stdout.write(f"  collector: {device.name} ({device.serial_number}) failed: {result.error}")
            return
        stored = result.stored or {}
        self.stdout.write(
            f"  collector: polled {device.name} ({device.serial_number}, device {device.pk}) over SunSpec Modbus TCP "
            f"on 127.0.0.1:{poll.port}: {len(result.values)} values in {result.duration_ms:.0f} ms, "
            f"stored {stored.get('accepted', 0)} (GET /api/devices/{device.pk}/collection shows the poll)"
        )
