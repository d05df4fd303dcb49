"""From a plant's registry rows to what the simulator needs: the module, each inverter's DC
array and AC rating, how strings reach MPPT inputs and string boxes, and the pvlib model.

One pvlib ``Array`` per inverter (same mount, that inverter's DC nameplate) inside one
``PVSystem``, run by ``ModelChain.with_pvwatts``: PVWatts DC (``pdc0``, ``gamma_pdc`` from the
panel datasheet), SAPM cell temperature, Perez transposition, physical AOI loss, PVWatts losses
(``system_losses_pct``). The AC step is PVWatts' inverter model applied per array with each
inverter's own datasheet (``pdc0 = AC rating / η``, ``η`` = European efficiency), because a
``PVSystem`` has only one inverter and our plants have several.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
import pvlib
from django.core.exceptions import ObjectDoesNotExist
from pvlib.pvsystem import FixedMount, SingleAxisTrackerMount
from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS

from plants.choices import DeviceType, Tracking
from plants.models import Device, PanelSpec, Plant

from .signals import Noise

WEAK_STRING_FACTOR = 0.70  # one string delivers 30 % less current (soiling, a cracked module, ...)
STRING_MISMATCH = 0.015  # other strings: fixed ±1.5 % spread, as between real strings
# Grids at 60 Hz; elsewhere 50 Hz unless the meter's datasheet says otherwise.
_SIXTY_HZ_ZONES = ("America/", "US/", "Canada/", "Asia/Seoul", "Asia/Taipei", "Asia/Manila", "Asia/Riyadh")
_FIFTY_HZ_AMERICAS = ("America/Argentina", "America/Santiago", "America/La_Paz", "America/Asuncion",
                      "America/Montevideo", "America/Cayenne", "America/Paramaribo")  # fmt: skip


@dataclass(frozen=True)
class Module:
    """Module datasheet values the simulator uses (fallbacks: a generic 400 W module)."""

    p_max_w: float = 400.0
    gamma_pdc: float = -0.0035  # 1/°C
    v_mp: float = 31.0
    v_oc: float = 37.5
    beta_voc: float = -0.0027  # 1/°C
    alpha_isc: float = 0.0005  # 1/°C

    @property
    def beta_vmp(self) -> float:
        # P = V*I, so Vmp's temperature coefficient is about gamma(Pmax) - alpha(Isc).
        return self.gamma_pdc - self.alpha_isc

    @classmethod
    def from_spec(cls, spec: PanelSpec | None) -> Module:
        if spec is None:
            return cls()
        default = cls()

        def per_degree(pct: float | None, fallback: float) -> float:
            return pct / 100.0 if pct is not None else fallback

        v_mp = spec.v_mp_v or (spec.p_max_w / spec.i_mp_a if spec.i_mp_a else default.v_mp * spec.p_max_w / 400.0)
        return cls(
            p_max_w=spec.p_max_w,
            gamma_pdc=per_degree(spec.coefficient_pmax_pct, default.gamma_pdc),
            v_mp=v_mp,
            v_oc=spec.v_oc_v or v_mp * 1.2,
            beta_voc=per_degree(spec.coefficient_voc_pct, default.beta_voc),
            alpha_isc=per_degree(spec.coefficient_isc_pct, default.alpha_isc),
        )


@dataclass
class InverterLayout:
    device: Device
    pdc0_w: float  # DC nameplate behind this inverter, after string mismatch and the weak string
    ac_rating_w: float
    eta_nom: float
    phases: int
    v_phase: float  # line-to-neutral (what ac_voltage_l{n} reports)
    pf_min: float
    panels_per_string: int
    string_weights: np.ndarray  # relative current of each string (1 = nominal)
    inputs: list[np.ndarray]  # string indices feeding each pv{n} input


@dataclass
class BoxLayout:
    device: Device
    inverter: int  # index into PlantLayout.inverters
    strings: np.ndarray  # indices into that inverter's strings


@dataclass
class WeakString:
    box: Device
    string_number: int  # 1-based, as in string{n}_current
    factor: float = WEAK_STRING_FACTOR


@dataclass
class PlantLayout:
    plant: Plant
    module: Module
    inverters: list[InverterLayout]
    boxes: list[BoxLayout]
    weather_stations: list[Device]
    meters: list[Device]
    frequency_hz: float
    weak_string: WeakString | None = None
    not_simulated: list[str] = field(default_factory=list)

    @property
    def devices(self) -> list[Device]:
        return [
            *(inv.device for inv in self.inverters),
            *(box.device for box in self.boxes),
            *self.weather_stations,
            *self.meters,
        ]


def _meter_role(meter: Device) -> str:
    sheet = getattr(meter, "meter_datasheet", None) if hasattr(meter, "meter_datasheet") else None
    return sheet.role if sheet is not None else ""


def _grid_frequency(plant: Plant, meters: list[Device]) -> float:
    for meter in meters:
        sheet = getattr(meter, "meter_datasheet", None)
        if sheet is not None and sheet.phase_frequency_hz:
            return 60.0 if sheet.phase_frequency_hz > 55 else 50.0
    zone = plant.timezone
    if zone.startswith(_SIXTY_HZ_ZONES) and not zone.startswith(_FIFTY_HZ_AMERICAS):
        return 60.0
    return 50.0


def _datasheet(device: Device, related: str):
    try:
        return getattr(device, related)
    except ObjectDoesNotExist:  # a device registered without its datasheet
        return None


def _box_strings(*, plant: Plant, box: Device, siblings: int) -> int:
    sheet = _datasheet(box, "string_box_datasheet")
    if sheet is not None and sheet.no_strings:
        return sheet.no_strings
    return max(1, (plant.string_per_inverter or siblings) // max(siblings, 1))


def _inverter_layout(
    *,
    plant: Plant,
    inverter: Device,
    sheet,
    box_sizes: list[int],
    ac_rating_kw: float,
    dc_share: float,
    module: Module,
    noise: Noise,
) -> InverterLayout:
    """One inverter: strings counted from its boxes (else the plant's ``string_per_inverter``,
    else its share of the capacity), DC nameplate = strings x panels x Pmax, and its inputs."""
    pps = plant.panel_per_string
    if not pps:  # strings sized to the middle of the MPP range
        middle = ((sheet.mpp_range_min_v + sheet.mpp_range_max_v) / 2) if sheet and sheet.mpp_range_max_v else 600.0
        pps = max(1, round(middle / module.v_mp))
    share_w = plant.total_power_output_kw * 1000.0 * dc_share
    n_strings = sum(box_sizes) or plant.string_per_inverter or max(1, round(share_w / (pps * module.p_max_w)))
    counted = plant.panel_per_string and (box_sizes or plant.string_per_inverter)
    weights = 1.0 + STRING_MISMATCH * noise.generator(f"mismatch:{inverter.serial_number}").standard_normal(n_strings)
    mppt = (sheet.mppt_count if sheet else None) or 1
    # A central inverter with one MPPT reports one DC input per combiner box feeding it.
    n_inputs = min(max(mppt, len(box_sizes)), 64, n_strings)
    eta = ((sheet.european_efficiency_pct or sheet.max_efficiency_pct or 96.0) / 100.0) if sheet else 0.96
    phases = (sheet.phases if sheet else None) or 3
    v_nominal = (sheet.nominal_output_ac_v if sheet else None) or (400.0 if phases == 3 else 230.0)
    return InverterLayout(
        device=inverter,
        pdc0_w=n_strings * pps * module.p_max_w if counted else share_w,
        ac_rating_w=ac_rating_kw * 1000.0,
        eta_nom=eta,
        phases=phases,
        v_phase=v_nominal / math.sqrt(3) if phases == 3 else v_nominal,
        pf_min=abs(sheet.power_factor_min) if sheet and sheet.power_factor_min else 0.8,
        panels_per_string=pps,
        string_weights=weights,
        inputs=list(np.array_split(np.arange(n_strings), n_inputs)),
    )


def plant_layout(*, plant: Plant, noise: Noise, max_string_boxes_per_inverter: int | None = None) -> PlantLayout:
    """Read the plant's registry once and decide every fixed property of the simulation.

    ``max_string_boxes_per_inverter`` limits which string boxes get readings (the first ones
    by id); the others still count for the inverter's string total and DC inputs, so the
    inverter's power is unchanged — they are simply not reported. Non-operational devices and
    device types the simulator does not model (BESS, PCS, loggers) are listed in
    ``not_simulated``.
    """
    module = Module.from_spec(plant.panel_specs.order_by("id").first())
    devices = list(
        Device.objects.filter(plant=plant)
        .select_related("inverter_datasheet", "string_box_datasheet", "meter_datasheet")
        .order_by("id")
    )
    not_simulated = [f"{d.name} ({d.type}, not operational)" for d in devices if not d.operational]
    devices = [d for d in devices if d.operational]
    by_type: dict[str, list[Device]] = {}
    for device in devices:
        by_type.setdefault(device.type, []).append(device)
    simulated_types = {
        DeviceType.INVERTER,
        DeviceType.STRING_MONITORING_BOX,
        DeviceType.WEATHER_STATION,
        DeviceType.METER,
    }
    not_simulated += [f"{d.name} ({d.type})" for d in devices if d.type not in simulated_types]

    inverters = by_type.get(DeviceType.INVERTER, [])
    index_of = {inv.pk: i for i, inv in enumerate(inverters)}
    children: dict[int, list[Device]] = {i: [] for i in range(len(inverters))}
    for box in by_type.get(DeviceType.STRING_MONITORING_BOX, []):
        if box.parent_id in index_of:
            children[index_of[box.parent_id]].append(box)
        else:
            not_simulated.append(f"{box.name} (string box without a parent inverter)")

    sheets = [_datasheet(inv, "inverter_datasheet") for inv in inverters]
    ac_ratings_kw = [
        (sheet.nominal_output_power_kw if sheet and sheet.nominal_output_power_kw else None) or inv.capacity_kw
        for inv, sheet in zip(inverters, sheets, strict=True)
    ]
    known = [r for r in ac_ratings_kw if r]
    # Unknown ratings: the others' average, or the plant's capacity at a DC/AC ratio of 1.15.
    fallback_kw = sum(known) / len(known) if known else plant.total_power_output_kw / 1.15 / max(len(inverters), 1)
    ac_ratings_kw = [r or fallback_kw for r in ac_ratings_kw]

    layouts: list[InverterLayout] = []
    box_strings: list[list[tuple[Device, int]]] = []  # per inverter: (box, strings in it)
    for i, (inverter, sheet) in enumerate(zip(inverters, sheets, strict=True)):
        sizes = [_box_strings(plant=plant, box=box, siblings=len(children[i])) for box in children[i]]
        box_strings.append(list(zip(children[i], sizes, strict=True)))
        layouts.append(
            _inverter_layout(
                plant=plant,
                inverter=inverter,
                sheet=sheet,
                box_sizes=sizes,
                ac_rating_kw=ac_ratings_kw[i],
                dc_share=ac_ratings_kw[i] / sum(ac_ratings_kw),
                module=module,
                noise=noise,
            )
        )

    boxes: list[BoxLayout] = []
    firsts: list[BoxLayout] = []  # each inverter's first box: always reported unless the limit is 0
    for i, pairs in enumerate(box_strings):
        offset = 0
        for rank, (box, size) in enumerate(pairs):
            layout = BoxLayout(device=box, inverter=i, strings=np.arange(offset, offset + size))
            offset += size
            if rank == 0:
                firsts.append(layout)
            if max_string_boxes_per_inverter is None or rank < max_string_boxes_per_inverter:
                boxes.append(layout)

    # The weak string sits in one of the first boxes, so the plant is the same plant whatever
    # box limit a run uses (the limit changes what is reported, never the physics).
    weak = None
    if firsts:
        pick = noise.generator("weak-string")
        box = firsts[int(pick.integers(len(firsts)))]
        number = int(pick.integers(len(box.strings)))
        layouts[box.inverter].string_weights[box.strings[number]] = WEAK_STRING_FACTOR
        weak = WeakString(box=box.device, string_number=number + 1)
    for inverter in layouts:  # the DC nameplate reflects mismatch and the weak string
        inverter.pdc0_w *= float(inverter.string_weights.mean())

    # The grid connection's meter; a storage site's aux and PV meters are the storage simulator's.
    meters = [m for m in by_type.get(DeviceType.METER, []) if _meter_role(m) in ("", "grid")]
    return PlantLayout(
        plant=plant,
        module=module,
        inverters=layouts,
        boxes=boxes,
        weather_stations=by_type.get(DeviceType.WEATHER_STATION, []),
        meters=meters,
        frequency_hz=_grid_frequency(plant, meters),
        weak_string=weak,
        not_simulated=not_simulated,
    )


@dataclass(frozen=True)
class PvResult:
    """ModelChain output as plain arrays: one POA/cell temperature (all arrays share the mount),
    DC and AC power in W per inverter."""

    poa_global: np.ndarray
    effective_irradiance: np.ndarray
    cell_temperature: np.ndarray
    dc_w: list[np.ndarray]
    ac_w: list[np.ndarray]


def _mount(plant: Plant):
    if plant.tracking == Tracking.SINGLE_AXIS:
        return SingleAxisTrackerMount(
            axis_tilt=plant.axis_tilt or 0.0,
            axis_azimuth=plant.axis_azimuth if plant.axis_azimuth is not None else 180.0,
            max_angle=plant.max_angle if plant.max_angle is not None else 60.0,
            backtrack=plant.backtrack,
            gcr=plant.gcr or 0.35,
        ), TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_glass"]
    tilt = plant.surface_tilt if plant.surface_tilt is not None else min(abs(plant.latitude), 35.0)
    azimuth = plant.surface_azimuth if plant.surface_azimuth is not None else (180.0 if plant.latitude >= 0 else 0.0)
    return FixedMount(surface_tilt=tilt, surface_azimuth=azimuth), TEMPERATURE_MODEL_PARAMETERS["sapm"][
        "open_rack_glass_polymer"
    ]


def _as_tuple(value) -> tuple:
    # ModelChain unwraps its per-array results when the system has a single array.
    return value if isinstance(value, tuple) else (value,)


def _pvwatts_per_inverter(mc: pvlib.modelchain.ModelChain, *, ratings: list[tuple[float, float]]) -> None:
    """ModelChain ``ac_model``: PVWatts inverter per array, each with its own datasheet
    (``ratings`` = (AC rating W, nominal efficiency) per array)."""
    mc.results.ac = tuple(
        pvlib.inverter.pvwatts(dc, ac_w / eta, eta_inv_nom=eta).fillna(0.0).clip(lower=0.0)
        for dc, (ac_w, eta) in zip(_as_tuple(mc.results.dc), ratings, strict=True)
    )


def run_pv_model(*, layout: PlantLayout, location: pvlib.location.Location, weather: pd.DataFrame) -> PvResult:
    """Run the PVWatts ModelChain over ``weather`` (one array per inverter)."""
    plant = layout.plant
    mount, temperature = _mount(plant)
    # One array per inverter; a plant with only a weather station gets a nominal 1 kW array so
    # that its POA and cell temperature still come from the same model.
    sizes = [(inv.device.serial_number, inv.pdc0_w, inv.ac_rating_w, inv.eta_nom) for inv in layout.inverters]
    sizes = sizes or [("virtual", 1000.0, 1000.0, 0.96)]
    arrays = [
        pvlib.pvsystem.Array(
            mount=mount,
            module_parameters={"pdc0": pdc0_w, "gamma_pdc": layout.module.gamma_pdc},
            temperature_model_parameters=temperature,
            albedo=plant.albedo,
            name=name,
        )
        for name, pdc0_w, _ac, _eta in sizes
    ]
    # The plant gives one total loss, not a breakdown: zero every PVWatts bucket but one.
    losses = dict.fromkeys(
        ("soiling", "shading", "snow", "mismatch", "connections", "lid", "nameplate_rating", "age", "availability"),
        0.0,
    )
    losses["wiring"] = float(plant.system_losses_pct)
    system = pvlib.pvsystem.PVSystem(arrays=arrays, losses_parameters=losses, name=plant.plant_code)
    chain = pvlib.modelchain.ModelChain.with_pvwatts(
        system, location, ac_model=partial(_pvwatts_per_inverter, ratings=[(ac, eta) for _n, _p, ac, eta in sizes])
    )
    chain.run_model(weather)
    results = chain.results
    irradiance = _as_tuple(results.total_irrad)[0]
    return PvResult(
        poa_global=irradiance["poa_global"].fillna(0.0).clip(lower=0.0).to_numpy(),
        effective_irradiance=_as_tuple(results.effective_irradiance)[0].fillna(0.0).clip(lower=0.0).to_numpy(),
        cell_temperature=_as_tuple(results.cell_temperature)[0].to_numpy(),
        dc_w=[dc.fillna(0.0).clip(lower=0.0).to_numpy() for dc in _as_tuple(results.dc)][: len(layout.inverters)],
        ac_w=[ac.to_numpy() for ac in results.ac][: len(layout.inverters)],
    )
