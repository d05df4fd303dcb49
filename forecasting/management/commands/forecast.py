"""``manage.py forecast --plant CODE [--horizon day_ahead] [--source clearsky] [--start DATE]
[--weather FILE] [--calibrate] [--accuracy]``

Thin wrapper over the forecasting services, for operators: make and store a forecast (the same
thing a ``POST /api/predicted-generation/run`` job does), refit the plant's calibration first
(``--calibrate``), score the plant's finished forecasts (``--accuracy``).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import APIException

from forecasting.choices import Horizon, WeatherSource
from forecasting.models import ForecastAccuracy, GenerationForecast
from forecasting.services import forecast_accuracy_compute, forecast_generate, plant_calibration_fit
from plants.models import Plant


class Command(BaseCommand):
    help = "Make and store a forecast of a plant with the pvlib plant model; optionally calibrate and score."

    def add_arguments(self, parser):
        parser.add_argument("--plant", required=True, help="Plant code, e.g. DEMO-ROOF-01.")
        parser.add_argument("--horizon", default=Horizon.DAY_AHEAD, choices=Horizon.values)
        parser.add_argument("--source", default=WeatherSource.CLEARSKY, choices=sorted(WeatherSource.values))
        parser.add_argument("--start", help="Plant-local start date (YYYY-MM-DD); default tomorrow.")
        parser.add_argument("--weather", help="A weather file: JSON (cloud cover/irradiance rows), CSV, EPW or TMY3.")
        parser.add_argument("--calibrate", action="store_true", help="Refit the plant's calibration first.")
        parser.add_argument("--accuracy", action="store_true", help="Score the plant's finished forecasts after.")

    def handle(self, *args, **options):
        plant = Plant.objects.filter(plant_code=options["plant"]).first()
        if plant is None:
            raise CommandError(f"No plant with code {options['plant']!r}.")
        try:
            start = date.fromisoformat(options["start"]) if options["start"] else None
        except ValueError:
            raise CommandError("--start must be a date, YYYY-MM-DD.") from None
        weather = None
        if options["weather"]:
            text = Path(options["weather"]).read_text()
            weather = json.loads(text) if options["weather"].endswith(".json") else text
        try:
            if options["calibrate"]:
                calibration = plant_calibration_fit(plant=plant)
                self.stdout.write(f"calibration: x{calibration.factor:.3f}, {calibration.note}")
            forecast = forecast_generate(
                plant=plant, horizon=options["horizon"], source=options["source"], start=start, weather=weather
            )
        except APIException as exc:
            raise CommandError(str(exc)) from None
        summary = forecast.summary
        self.stdout.write(
            f"forecast {forecast.pk}: {plant.plant_code} {forecast.horizon} ({forecast.source}) from "
            f"{forecast.forecast_date}, {len(forecast.data_points)} points, {summary['energy_kwh']:,.1f} kWh, "
            f"peak {summary['peak_kw']:,.1f} kW at {summary['peak_at']}; calibration {forecast.calibration}"
        )
        if options["accuracy"]:
            scored = 0
            for item in GenerationForecast.objects.filter(plant=plant).exclude(
                pk__in=ForecastAccuracy.objects.values("forecast_id")
            ):
                scored += forecast_accuracy_compute(forecast=item) is not None
            self.stdout.write(f"accuracy: {scored} forecast(s) scored")
