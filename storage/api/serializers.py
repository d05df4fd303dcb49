"""Serializers of the storage API: the dispatch-event resource (camelCase, like every /api/
resource) and the documentation of the seed-003 response shapes, which are sent in seed 003's
snake_case (the views set ``response.camelize = False``; README "Battery storage")."""

from __future__ import annotations

from rest_framework import serializers

from solarhub.api.scoping import VisiblePlantField

from ..choices import DispatchMode
from ..models import DispatchEvent

# --- the dispatch-event resource ----------------------------------------------------------------


class DispatchEventSerializer(serializers.ModelSerializer):
    plant_id = VisiblePlantField(source="plant")

    class Meta:
        model = DispatchEvent
        fields = [
            "id",
            "plant_id",
            "mode",
            "time_start",
            "time_end",
            "time_number",
            "quote_capacity",
            "quote_price",
            "is_get",
            "power",
            "price",
            "quote_code",
            "interrupt",
            "title",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class DispatchEventUpdateSerializer(DispatchEventSerializer):
    """PUT/PATCH: the plant of an event cannot change."""

    plant_id = serializers.IntegerField(source="plant.pk", read_only=True)


# --- seed 003 response shapes (documentation; snake_case on the wire) ------------------------------

_Num = serializers.FloatField


def _num(**kwargs) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, **kwargs)


class BessTableSerializer(serializers.Serializer):
    bess_number = serializers.IntegerField()
    plant_id = serializers.IntegerField()
    device_id = serializers.IntegerField()
    device_name = serializers.CharField()
    rack_device_ids = serializers.DictField(child=serializers.IntegerField(), help_text="Column head → rack device id.")
    unit = serializers.DictField(child=_num(), help_text="The unit's own soc, soh, battery_power, battery_mode.")
    timestamp = serializers.DateTimeField(allow_null=True)
    table_head = serializers.ListField(child=serializers.CharField(), help_text='"Rack 01", "Rack 02"...')
    data = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField(allow_null=True)),
        help_text='One row per metric: {"metric": "SOC (%)", "Rack 01": "85.2", ...} (text; null: unreported).',
    )
    status = serializers.CharField()


class _StatusFlag(serializers.Serializer):
    bit = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.CharField()


class PcsDetailSerializer(serializers.Serializer):
    pcs_number = serializers.IntegerField()
    plant_id = serializers.IntegerField()
    device_id = serializers.IntegerField()
    device_name = serializers.CharField()
    state = serializers.ChoiceField(choices=["online", "offline", "fault"])
    timestamp = serializers.DateTimeField(allow_null=True)
    live = serializers.DictField(
        child=_num(), help_text="ac_power, reactive_power, frequency, pcs_dc_power... (null: never reported)."
    )
    status_words = serializers.DictField(
        child=serializers.CharField(allow_null=True), help_text="The seven words, 16-char binary."
    )
    decoded = serializers.DictField(child=_StatusFlag(many=True))
    status = serializers.CharField()


class _Meter(serializers.Serializer):
    meter_id = serializers.IntegerField(help_text="1.. in id order.")
    device_id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    phase_a_current = _num()
    phase_b_current = _num()
    phase_c_current = _num()
    phase_a_voltage = _num()
    phase_b_voltage = _num()
    phase_c_voltage = _num()
    active_power = _num()
    reactive_power = _num()
    apparent_power = _num()
    frequency = _num()
    power_factor = _num()
    import_energy = _num()
    export_energy = _num()
    timestamp = serializers.DateTimeField(allow_null=True)


class MetersSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    meters = _Meter(many=True)
    meter_count = serializers.IntegerField()
    total_power = _num()
    status = serializers.CharField()


class _AuxSummary(serializers.Serializer):
    total_energy = _num()
    avg_power = _num()
    max_power = _num()
    min_power = _num()


class AuxMeterSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    date = serializers.DateField()
    timezone = serializers.CharField()
    data_type = serializers.ChoiceField(choices=["chart", "summary"])
    data = serializers.JSONField(
        help_text="summary: {total_energy, avg_power, max_power, min_power}; chart: [[epoch_ms, kW], ...]."
    )
    status = serializers.CharField()


class _InverterData(serializers.Serializer):
    nominal_active_power = _num()
    total_active_power = _num()
    total_apparent_power = _num()
    total_reactive_power = _num()
    daily_power_yields = _num()
    total_power_yields = _num()
    internal_temperature = _num()
    bus_voltage = _num()
    dc_power = _num()


class _Mppt(serializers.Serializer):
    mppt_id = serializers.IntegerField()
    voltage = _num()
    current = _num()
    power = _num(help_text="W")


class _String(serializers.Serializer):
    string_id = serializers.IntegerField()
    current = _num()


class _Phase(serializers.Serializer):
    phase = serializers.CharField()
    voltage = _num()
    current = _num()


class InverterSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    device_id = serializers.IntegerField()
    device_name = serializers.CharField()
    timestamp = serializers.DateTimeField(allow_null=True)
    inverter_data = _InverterData()
    mppt_data = _Mppt(many=True)
    string_currents = _String(many=True)
    phase_data = _Phase(many=True)
    status = serializers.CharField()


class SidebarSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    bess_type = serializers.CharField()
    bess_number = serializers.IntegerField()
    pcs_number = serializers.IntegerField()
    inverter_number = serializers.IntegerField()
    meter_number = serializers.IntegerField()
    rack_number = serializers.IntegerField(help_text="Racks of the largest BESS.")
    total_racks = serializers.IntegerField()
    number_of_devices = serializers.IntegerField()
    cctv_url = serializers.CharField(allow_null=True)
    status = serializers.CharField()


class _Node(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField(help_text="server, database, redis, broker, worker, or a device type (meter_grid...).")
    status = serializers.CharField(help_text="online, offline (devices also fault).")
    device_id = serializers.IntegerField(required=False)


class _Link(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()
    status = serializers.ChoiceField(choices=["connected", "disconnected"])


class TopologySerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    nodes = _Node(many=True)
    links = _Link(many=True)
    timestamp = serializers.DateTimeField()
    status = serializers.CharField()


class _Flows(serializers.Serializer):
    pv = _num()
    battery = _num(help_text="+ discharging")
    grid = _num()
    aux = _num()


class _Energies(serializers.Serializer):
    pv = _num()
    charge = _num()
    discharge = _num()
    aux = _num()


class SystemOverviewSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    plant_name = serializers.CharField()
    timezone = serializers.CharField()
    date = serializers.DateField()
    power = _Flows(help_text="kW, sums of fresh latest values.")
    soc = _num()
    soh = _num()
    energy_today = _Energies(help_text="kWh since plant-local midnight, from the counters.")
    device_states = serializers.DictField(child=serializers.IntegerField())
    devices = serializers.DictField(child=serializers.IntegerField())
    services = _Node(many=True)
    status = serializers.CharField()


class _Event(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=DispatchMode.choices)
    time_number = serializers.IntegerField(allow_null=True)
    time_start = serializers.DateTimeField()
    time_end = serializers.DateTimeField()
    time_date = serializers.DateTimeField(help_text="Plant-local midnight of the event's day.")
    is_get = serializers.BooleanField()
    interrupt = serializers.BooleanField()
    quote_capacity = _Num()
    power = _Num()
    price = _Num()
    quote_price = _Num()
    quote_code = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()


class ScheduleSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    events = _Event(many=True)
    mode = serializers.CharField()
    weeks = serializers.IntegerField()
    start_date = serializers.DateField()
    timezone = serializers.CharField()
    total_count = serializers.IntegerField()


class _Fees(serializers.Serializer):
    committed_energy = _num(help_text="MWh")
    delivered_energy = _num(help_text="MWh")
    capacity_fee = _num()
    efficiency_fee = _num()
    exec_rate = _num()
    performance_index = _num()


class _HourFees(_Fees):
    hour = serializers.IntegerField()
    time = serializers.DateTimeField()


class _DayFees(_Fees):
    date = serializers.DateField()
    total_income = _num()


class _Totals(serializers.Serializer):
    plant_id = serializers.IntegerField()
    timezone = serializers.CharField()
    currency = serializers.CharField()
    total_capacity_fee = _num()
    total_efficiency_fee = _num()
    total_income = _num()
    avg_exec_rate = _num()
    avg_performance_index = _num()


class IncomeDailySerializer(_Totals):
    date = serializers.DateField()
    hourly_data = _HourFees(many=True)


class IncomeMonthlySerializer(_Totals):
    month = serializers.CharField()
    daily_data = _DayFees(many=True)


_PAIRS = serializers.ListField(child=serializers.ListField(child=serializers.FloatField(allow_null=True)))


class _Block(serializers.Serializer):
    event_id = serializers.IntegerField()
    mode = serializers.CharField()
    time_start = serializers.DateTimeField()
    time_end = serializers.DateTimeField()
    committed_energy = _num()
    delivered_energy = _num()
    exec_rate = _num()


class ExecRateSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    date = serializers.DateField()
    timezone = serializers.CharField()
    data_type = serializers.ChoiceField(choices=["exec_rate", "roll_exec_rate", "hour_exec_rate"])
    data = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True)), help_text="[[epoch_ms, rate], ...]"
    )
    blocks = _Block(many=True)
    status = serializers.CharField()


class _LossDay(serializers.Serializer):
    date = serializers.DateField()
    charge_energy = _num()
    discharge_energy = _num()
    loss = _num()
    efficiency = _num(help_text="%")
    aux_consumption = _num()


class PowerLossSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    start_date = serializers.DateField()
    timezone = serializers.CharField()
    daily_data = _LossDay(many=True)
    total_discharge = _num()
    total_charge = _num()
    total_loss = _num()
    avg_efficiency = _num()
    total_aux = _num()


class _IoRow(serializers.Serializer):
    time = serializers.DateTimeField()
    label = serializers.CharField()
    charge_energy = _num()
    discharge_energy = _num()


class PowerIoSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    select_time = serializers.DateField()
    data_type = serializers.ChoiceField(choices=["daily", "monthly"])
    timezone = serializers.CharField()
    data = _IoRow(many=True)
    total_charge = _num()
    total_discharge = _num()
    efficiency = _num()


class FreqPowerSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    date_period = serializers.IntegerField()
    select_time = serializers.DateTimeField(allow_null=True)
    select_mode = serializers.ChoiceField(choices=["normalMode", "selectTimeMode"])
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    nominal_frequency = _num()
    frequency_data = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))
    power_data = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))
    baseline_data = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))


# --- storage KPIs (camelCase like every /api/ resource) -------------------------------------------


class _Bin(serializers.Serializer):
    bin = serializers.CharField()
    low = serializers.IntegerField()
    high = serializers.IntegerField()
    value = serializers.FloatField()


class _SohPoint(serializers.Serializer):
    date = serializers.DateField()
    soh = serializers.FloatField()


class _SpreadPoint(serializers.Serializer):
    date = serializers.DateField()
    spread_mv = serializers.FloatField()


class _RackSpread(serializers.Serializer):
    device_id = serializers.IntegerField()
    name = serializers.CharField()
    rack = serializers.CharField()
    points = _SpreadPoint(many=True)


class _KpiEnergy(serializers.Serializer):
    ac_charge = _num()
    ac_discharge = _num()
    dc_charge = _num()
    dc_discharge = _num()


class StorageKpisSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    timezone = serializers.CharField()
    energy = _KpiEnergy(help_text="kWh")
    round_trip_efficiency_ac = _num(help_text="%")
    round_trip_efficiency_dc = _num(help_text="%")
    usable_capacity_kwh = _num()
    equivalent_full_cycles = _num()
    rainflow_cycles = _Bin(many=True, help_text="Cycles by depth of discharge (SoC points).")
    soc_histogram = _Bin(many=True, help_text="Share of 5-minute samples per SoC bin.")
    time_high_soc_pct = _num()
    time_low_soc_pct = _num()
    soh_trend = _SohPoint(many=True)
    capacity_fade_pct = _num()
    capacity_fade_pct_per_year = _num()
    cell_spread = _RackSpread(many=True)
