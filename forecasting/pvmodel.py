"""The plant model: pvlib configured from the plant record, and nothing else (issue 7).

``plant_model_build(plant=...)`` reads the plant, its first panel spec and its inverters once and
returns a :class:`PlantModel`; ``PlantModel.run(weather)`` runs
``ModelChain.with_pvwatts`` (Perez transposition, physical AOI, SAPM cell temperature, PVWatts
DC with ``pdc0``/``gamma_pdc`` and the plant's ``system_losses_pct`` applied to DC) and returns
AC power in W. It agrees with pvlib because it *is* pvlib: the only piece added is the AC step,
PVWatts' inverter model applied per inverter (one ``Array`` per inverter, each with its own
datasheet) because a ``PVSystem`` has a single inverter and plants have several.

Missing or inconsistent configuration raises :class:`PlantConfigError` (HTTP 400) naming every
field at fault; the model never guesses a tilt, a rating or a temperature coefficient.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache, partial

import numpy as np
import pandas as pd
import pvlib
from django.core.exceptions import ObjectDoesNotExist
from pvlib.modelchain import PVWATTS_CONFIG, ModelChain
from pvlib.pvsystem import Array, FixedMount, PVSystem, SingleAxisTrackerMount
from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS
from rest_framework import exceptions

from plants.choices import DeviceType, Tracking
from plants.models import Device, Plant
from solarhub.api.exceptions import ApiError

DEFAULT_INVERTER_EFFICIENCY = 0.96
# Counted DC (modules x Pmax) and the plant's stated capacity may differ by rounding, not more.
CAPACITY_TOLERANCE = 0.05
# PVWatts' loss buckets: the plant gives one total, so every bucket but one is zero.
_LOSS_BUCKETS = ("soiling", "shading", "snow", "mismatch", "connections", "lid", "nameplate_rating", "age")


class PlantConfigError(exceptions.ValidationError, ApiError):
    """400 ``PLANT_CONFIG_INVALID`` with ``errors`` = {field: [message]} for every field at fault.
    It is an :class:`ApiError` (callers outside a request catch that) and renders like a
    validation error (the fields are listed)."""

    status_code = 400
    default_code = "plant_config_invalid"

    def __init__(self, errors: dict[str, list[str]]):
        exceptions.ValidationError.__init__(self, detail=errors, code="plant_config_invalid")
        self.errors = errors
        self.error_code = "PLANT_CONFIG_INVALID"

    def __str__(self) -> str:
        return "Plant configuration is incomplete or inconsistent: " + "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in self.errors.items()
        )


@dataclass(frozen=True)
class InverterModel:
    """One inverter and the DC array behind it."""

    name: str
    modules: int | None
    pdc0_w: float  # DC nameplate of the array (modules x Pmax)
    pac0_w: float  # AC rating
    eta_nom: float  # nominal (European) efficiency

    @property
    def inverter_pdc0_w(self) -> float:
        return self.pac0_w / self.eta_nom  # PVWatts' inverter DC rating


@dataclass
class PlantModel:
    """A plant's pvlib model. ``snapshot()`` is what forecasts store as their configuration."""

    plant_id: int
    location: pvlib.location.Location
    tracking: str
    mount_parameters: dict
    gamma_pdc: float
    temperature_model: str
    system_losses_pct: float
    albedo: float
    inverters: list[InverterModel]
    notes: list[str] = field(default_factory=list)

    @property
    def capacity_dc_kw(self) -> float:
        return sum(inv.pdc0_w for inv in self.inverters) / 1000.0

    @property
    def capacity_ac_kw(self) -> float:
        return sum(inv.pac0_w for inv in self.inverters) / 1000.0

    def mount(self):
        if self.tracking == Tracking.SINGLE_AXIS:
            return SingleAxisTrackerMount(**self.mount_parameters)
        return FixedMount(**self.mount_parameters)

    def system(self, *, shared: bool = False) -> PVSystem:
        """One ``Array`` per inverter (``shared=False``), or, since every array has the same
        mount, module model and temperature model, one array carrying the plant's whole DC
        nameplate (``shared=True``, what :meth:`run` uses): PVWatts DC and its losses are
        linear in ``pdc0``, so each inverter's DC is the shared array's DC x its share —
        identical results (tested) for a fraction of the irradiance work on big plants."""
        mount = self.mount()
        temperature = TEMPERATURE_MODEL_PARAMETERS["sapm"][self.temperature_model]
        sizes = (
            [("plant", sum(inv.pdc0_w for inv in self.inverters))]
            if shared
            else [(inv.name, inv.pdc0_w) for inv in self.inverters]
        )
        arrays = [
            Array(
                mount=mount,
                module_parameters={"pdc0": pdc0_w, "gamma_pdc": self.gamma_pdc},
                temperature_model_parameters=temperature,
                albedo=self.albedo,
                name=name,
            )
            for name, pdc0_w in sizes
        ]
        losses = dict.fromkeys(_LOSS_BUCKETS, 0.0) | {"availability": 0.0, "wiring": float(self.system_losses_pct)}
        return PVSystem(arrays=arrays, losses_parameters=losses)

    def chain(self, *, shared: bool = True) -> ModelChain:
        total = sum(inv.pdc0_w for inv in self.inverters)
        ratings = [(inv.pdc0_w / total if shared else 1.0, inv.pac0_w, inv.eta_nom) for inv in self.inverters]
        # ModelChain.with_pvwatts' configuration (it hard-codes the class, so it is spelled out).
        config = {**PVWATTS_CONFIG, "ac_model": partial(_pvwatts_per_inverter, ratings=ratings, shared=shared)}
        return _Chain(self.system(shared=shared), self.location, **config)

    def run(
        self,
        weather: pd.DataFrame,
        *,
        solar_position: pd.DataFrame | None = None,
        from_effective_irradiance: bool = False,
        shared: bool = True,
    ) -> pd.Series:
        """AC power (W, plant total) at ``weather.index``. ``weather`` has ghi, dni, dhi,
        temp_air, wind_speed (or effective_irradiance with ``from_effective_irradiance``; a
        ``cell_temperature`` column skips the temperature model). ``solar_position`` computed by
        the caller for the same index is reused instead of computed twice. ``shared=False``
        runs one array per inverter (the reference the shared array is tested against)."""
        chain = self.chain(shared=shared)
        chain.precomputed_solar_position = solar_position
        if from_effective_irradiance:
            # This entry point wants one frame per array (the others broadcast a single frame).
            arrays = len(chain.system.arrays)
            chain.run_model_from_effective_irradiance(weather if arrays == 1 else tuple([weather] * arrays))
        else:
            chain.run_model(weather)
        return chain.results.ac

    def snapshot(self) -> dict:
        """The configuration as JSON (stored with every forecast)."""
        return {
            "location": {
                "latitude": self.location.latitude,
                "longitude": self.location.longitude,
                "altitude": self.location.altitude,
                "timezone": str(self.location.tz),
            },
            "tracking": self.tracking,
            "mount": self.mount_parameters,
            "dcModel": "pvwatts",
            "gammaPdc": self.gamma_pdc,
            "temperatureModel": f"sapm/{self.temperature_model}",
            "transposition": "perez",
            "aoiModel": "physical",
            "systemLossesPct": self.system_losses_pct,
            "albedo": self.albedo,
            "capacityDcKw": round(self.capacity_dc_kw, 4),
            "capacityAcKw": round(self.capacity_ac_kw, 4),
            "inverters": [
                {
                    "name": inv.name,
                    "modules": inv.modules,
                    "pdc0W": round(inv.pdc0_w, 3),
                    "pac0W": round(inv.pac0_w, 3),
                    "etaInvNom": inv.eta_nom,
                }
                for inv in self.inverters
            ],
            "notes": self.notes,
            "pvlib": pvlib.__version__,
        }


class _Chain(ModelChain):
    """ModelChain that reuses a solar position the caller already computed for the same times
    (the clear-sky weather needs it too): the forecast then costs one solar position, not two."""

    precomputed_solar_position: pd.DataFrame | None = None

    def _prep_inputs_solar_pos(self, weather):
        given = self.precomputed_solar_position
        if given is not None and given.index.equals(self.results.times):
            self.results.solar_position = given
            return self
        return super()._prep_inputs_solar_pos(weather)


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _pvwatts_per_inverter(chain: ModelChain, *, ratings: list[tuple[float, float, float]], shared: bool) -> None:
    """ModelChain ``ac_model``: ``pvlib.inverter.pvwatts`` per inverter with its own AC rating
    and nominal efficiency (``pdc0 = pac0 / η``), clipping included, night 0 W; the plant's AC
    is the sum. ``ratings`` are (DC share, pac0 W, η) — the share of the shared array's DC, or
    1 with one array per inverter."""
    dcs = _as_tuple(chain.results.dc)
    index = dcs[0].index
    if shared:
        dcs = dcs * len(ratings)
    # On plain arrays: pandas' per-operation overhead would cost more than the arithmetic.
    total = np.zeros(len(index))
    for dc, (share, pac0, eta) in zip(dcs, ratings, strict=True):
        ac = pvlib.inverter.pvwatts(dc.to_numpy() * share, pac0 / eta, eta_inv_nom=eta)
        total += np.clip(np.nan_to_num(ac, nan=0.0), 0.0, None)
    chain.results.ac = pd.Series(total, index=index)


# --- building the model from the plant record ---------------------------------------------------


def _datasheet(device: Device):
    try:
        return device.inverter_datasheet
    except ObjectDoesNotExist:
        return None


def _mount_parameters(plant: Plant, errors: dict[str, list[str]]) -> dict:
    def need(name: str, why: str):
        value = getattr(plant, name)
        if value is None:
            errors.setdefault(name, []).append(f"Required {why}.")
        return value

    if plant.tracking == Tracking.SINGLE_AXIS:
        why = "for a single-axis tracker plant"
        axis_tilt, axis_azimuth, max_angle = need("axis_tilt", why), need("axis_azimuth", why), need("max_angle", why)
        gcr = need("gcr", "for a tracker with backtracking") if plant.backtrack else plant.gcr
        return {
            "axis_tilt": axis_tilt,
            "axis_azimuth": axis_azimuth,
            "max_angle": max_angle,
            "backtrack": bool(plant.backtrack),
            "gcr": gcr if gcr is not None else 2.0 / 7.0,  # pvlib's default; unused without backtracking
        }
    why = "for a fixed-tilt plant"
    return {"surface_tilt": need("surface_tilt", why), "surface_azimuth": need("surface_azimuth", why)}


def plant_model_build(*, plant: Plant) -> PlantModel:
    """The pvlib model of ``plant`` (three queries: panel spec, inverters with datasheets).

    * Location from latitude, longitude, ``elevation_m`` (0 m when unknown: only the clear-sky
      airmass depends on it, by under 1 % below 500 m) and time zone.
    * Mount: ``FixedMount(surface_tilt, surface_azimuth)`` or
      ``SingleAxisTrackerMount(axis_tilt, axis_azimuth, max_angle, backtrack, gcr)``.
    * One array per operational inverter with ``panel_per_string x string_per_inverter``
      modules (or ``no_of_panels`` spread evenly); one array for the plant when inverters are
      not registered, rated ``no_of_inverters x power_output_per_inverter_kw``.
    * DC rating from the first panel spec's ``p_max_w``; ``gamma_pdc`` its
      ``coefficient_pmax_pct / 100``; inverter AC rating ``nominal_output_power_kw`` (else the
      device's ``capacity_kw``), efficiency ``european_efficiency_pct`` else
      ``max_efficiency_pct`` else 96 %.

    Raises :class:`PlantConfigError` naming every missing or inconsistent field.
    """
    errors: dict[str, list[str]] = {}
    mount_parameters = _mount_parameters(plant, errors)

    specs = list(plant.panel_specs.order_by("id")[:2])  # the first, and whether there are more
    spec = specs[0] if specs else None
    if spec is None:
        errors["panel_specs"] = ["The plant needs a panel spec (p_max_w, coefficient_pmax_pct)."]
    elif spec.coefficient_pmax_pct is None:
        errors["panel_specs[0].coefficient_pmax_pct"] = ["Required: the module's Pmax temperature coefficient."]
    elif not -2.0 <= spec.coefficient_pmax_pct <= 0.5:
        errors["panel_specs[0].coefficient_pmax_pct"] = ["Expected %/°C, e.g. -0.35."]

    devices = list(
        Device.objects.filter(plant=plant, type=DeviceType.INVERTER, operational=True)
        .select_related("inverter_datasheet")
        .order_by("id")
    )
    inverters: list[tuple[str, float | None, float | None]] = []  # (name, pac0 kW, eta)
    for device in devices:
        sheet = _datasheet(device)
        rating = (sheet.nominal_output_power_kw if sheet else None) or device.capacity_kw
        if not rating:
            errors[f"devices[{device.serial_number}].inverter_datasheet.nominal_output_power_kw"] = [
                "Required: the inverter's AC rating (or the device's capacity_kw)."
            ]
        efficiency = (sheet.european_efficiency_pct or sheet.max_efficiency_pct) if sheet else None
        inverters.append((device.serial_number, rating, efficiency / 100.0 if efficiency else None))
    if not devices:
        if not plant.power_output_per_inverter_kw:
            errors["power_output_per_inverter_kw"] = ["Required when no inverter devices are registered."]
        count = plant.no_of_inverters or 1
        rating = plant.power_output_per_inverter_kw * count if plant.power_output_per_inverter_kw else None
        inverters = [("plant", rating, None)]

    # Modules per inverter: counted from the layout, else the plant's capacity shared out.
    n = len(inverters)
    counted = None
    if plant.panel_per_string and plant.string_per_inverter and devices:
        counted = [plant.panel_per_string * plant.string_per_inverter] * n
        if plant.no_of_panels and plant.no_of_panels != sum(counted):
            errors["no_of_panels"] = [
                f"{plant.no_of_panels} panels, but panel_per_string x string_per_inverter x {n} inverters "
                f"= {sum(counted)}."
            ]
    elif plant.no_of_panels:
        base, extra = divmod(plant.no_of_panels, n)
        counted = [base + (1 if i < extra else 0) for i in range(n)]

    if errors:
        raise PlantConfigError(errors)

    p_max = spec.p_max_w
    if counted is not None:
        dc_w = [modules * p_max for modules in counted]
        stated = plant.total_power_output_kw * 1000.0
        if abs(sum(dc_w) - stated) > CAPACITY_TOLERANCE * stated:
            raise PlantConfigError(
                {
                    "total_power_output_kw": [
                        f"{plant.total_power_output_kw:g} kW, but {sum(counted)} modules x {p_max:g} W "
                        f"= {sum(dc_w) / 1000:g} kW."
                    ]
                }
            )
    else:  # no module count: the stated DC capacity, shared in proportion to the AC ratings
        total_ac = sum(rating for _, rating, _ in inverters)
        dc_w = [plant.total_power_output_kw * 1000.0 * rating / total_ac for _, rating, _ in inverters]

    notes = []
    if len(specs) > 1:
        notes.append("Several panel specs: the first (lowest id) is used for every array.")
    if plant.elevation_m is None:
        notes.append("No elevation: 0 m assumed for the clear-sky airmass.")
    return PlantModel(
        plant_id=plant.pk,
        location=pvlib.location.Location(
            plant.latitude, plant.longitude, tz=plant.timezone, altitude=plant.elevation_m or 0.0, name=plant.name
        ),
        tracking=plant.tracking,
        mount_parameters=mount_parameters,
        gamma_pdc=spec.coefficient_pmax_pct / 100.0,
        temperature_model=getattr(plant, "temperature_model", None) or "open_rack_glass_polymer",
        system_losses_pct=float(plant.system_losses_pct),
        albedo=float(plant.albedo),
        inverters=[
            InverterModel(
                name=name,
                modules=counted[i] if counted else None,
                pdc0_w=dc_w[i],
                pac0_w=rating * 1000.0,
                eta_nom=eta or DEFAULT_INVERTER_EFFICIENCY,
            )
            for i, (name, rating, eta) in enumerate(inverters)
        ],
        notes=notes,
    )


# --- clear sky --------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _linke_months(latitude: float, longitude: float) -> np.ndarray:
    """The 12 monthly Linke turbidity values (x20, as stored) of a site: the HDF5 file is read
    once per site and process, not once per forecast."""
    months = pd.DatetimeIndex([f"2001-{m:02d}-15" for m in range(1, 13)], tz="UTC")
    return (
        pvlib.clearsky.lookup_linke_turbidity(months, latitude, longitude, interp_turbidity=False) * 20.0
    ).to_numpy()


def linke_turbidity(location: pvlib.location.Location, times: pd.DatetimeIndex) -> pd.Series:
    """pvlib's Linke turbidity lookup (interpolated by day of year), with the file read cached."""
    monthly = _linke_months(location.latitude, location.longitude)
    interpolate = getattr(pvlib.clearsky, "_interpolate_turbidity", None)
    if interpolate is None:  # a pvlib without the helper: the uncached lookup
        return pvlib.clearsky.lookup_linke_turbidity(times, location.latitude, location.longitude)
    return pd.Series(interpolate(monthly, times), index=times) / 20.0


def solar_position(location: pvlib.location.Location, times: pd.DatetimeIndex, temp_air: float = 12.0):
    return location.get_solarposition(times, temperature=temp_air)


def clearsky_irradiance(
    location: pvlib.location.Location, times: pd.DatetimeIndex, position: pd.DataFrame
) -> pd.DataFrame:
    """Ineichen clear sky (ghi, dni, dhi) with pvlib's Linke turbidity lookup."""
    return location.get_clearsky(
        times, model="ineichen", solar_position=position, linke_turbidity=linke_turbidity(location, times)
    )
