"""Serializers of the storage API: the dispatch-event resource (camelCase, like every /api/
resource) and the documentation of the seed-003 response shapes, which are sent in seed 003's
snake_case (the views set ``response.camelize = False``; README "Battery storage")."""

from __future__ import annotations

from rest_framework import serializers

from solarhub.api.scoping import VisiblePlantField

from ..choices import DispatchMode
from ..models import DispatchEvent
from ..services import DISPATCH_FIELDS

# --- the dispatch-event resource ----------------------------------------------------------------


class DispatchEventSerializer(serializers.ModelSerializer):
    plant_id = VisiblePlantField(source="plant")

    class Meta:
        model = DispatchEvent
        fields = ["id", "plant_id", *DISPATCH_FIELDS, "created_at", "updated_at"]  # the CSV import's columns too
        read_only_fields = ["id", "created_at", "updated_at"]


class DispatchEventUpdateSerializer(DispatchEventSerializer):
    """PUT/PATCH: the plant of an event cannot change."""

    plant_id = serializers.IntegerField(source="plant.pk", read_only=True)


# --- seed 003 response shapes (documentation; snake_case on the wire) ------------------------------
# Their component names start with ``Seed003``: the schema keeps those property names verbatim
# (``solarhub.api.schema.VERBATIM_PREFIXES``), as the views send them.

_Num = serializers.FloatField


def _num(**kwargs) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, **kwargs)


class Seed003BessTableSerializer(serializers.Serializer):
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


class Seed003StatusFlag(serializers.Serializer):
    bit = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.CharField()


class Seed003PcsDetailSerializer(serializers.Serializer):
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
    decoded = serializers.DictField(child=Seed003StatusFlag(many=True))
    status = serializers.CharField()


class Seed003Meter(serializers.Serializer):
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


class Seed003MetersSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    meters = Seed003Meter(many=True)
    meter_count = serializers.IntegerField()
    total_power = _num()
    status = serializers.CharField()


class Seed003AuxSummary(serializers.Serializer):
    total_energy = _num()
    avg_power = _num()
    max_power = _num()
    min_power = _num()


class Seed003AuxMeterSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    date = serializers.DateField()
    timezone = serializers.CharField()
    data_type = serializers.ChoiceField(choices=["chart", "summary"])
    data = serializers.JSONField(
        help_text="summary: {total_energy, avg_power, max_power, min_power}; chart: [[epoch_ms, kW], ...]."
    )
    status = serializers.CharField()


class Seed003InverterData(serializers.Serializer):
    nominal_active_power = _num()
    total_active_power = _num()
    total_apparent_power = _num()
    total_reactive_power = _num()
    daily_power_yields = _num()
    total_power_yields = _num()
    internal_temperature = _num()
    bus_voltage = _num()
    dc_power = _num()


class Seed003Mppt(serializers.Serializer):
    mppt_id = serializers.IntegerField()
    voltage = _num()
    current = _num()
    power = _num(help_text="W")


class Seed003String(serializers.Serializer):
    string_id = serializers.IntegerField()
    current = _num()


class Seed003Phase(serializers.Serializer):
    phase = serializers.CharField()
    voltage = _num()
    current = _num()


class Seed003InverterSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    device_id = serializers.IntegerField()
    device_name = serializers.CharField()
    timestamp = serializers.DateTimeField(allow_null=True)
    inverter_data = Seed003InverterData()
    mppt_data = Seed003Mppt(many=True)
    string_currents = Seed003String(many=True)
    phase_data = Seed003Phase(many=True)
    status = serializers.CharField()


class Seed003SidebarSerializer(serializers.Serializer):
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


class Seed003Node(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField(help_text="server, database, redis, broker, worker, or a device type (meter_grid...).")
    status = serializers.CharField(help_text="online, offline (devices also fault).")
    device_id = serializers.IntegerField(required=False)


class Seed003Link(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()
    status = serializers.ChoiceField(choices=["connected", "disconnected"])


class Seed003TopologySerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    nodes = Seed003Node(many=True)
    links = Seed003Link(many=True)
    timestamp = serializers.DateTimeField()
    status = serializers.CharField()


class Seed003Flows(serializers.Serializer):
    pv = _num()
    battery = _num(help_text="+ discharging")
    grid = _num()
    aux = _num()


class Seed003Energies(serializers.Serializer):
    pv = _num()
    charge = _num()
    discharge = _num()
    aux = _num()


class Seed003SystemOverviewSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    plant_name = serializers.CharField()
    timezone = serializers.CharField()
    date = serializers.DateField()
    power = Seed003Flows(help_text="kW, sums of fresh latest values.")
    soc = _num()
    soh = _num()
    energy_today = Seed003Energies(help_text="kWh since plant-local midnight, from the counters.")
    device_states = serializers.DictField(child=serializers.IntegerField())
    devices = serializers.DictField(child=serializers.IntegerField())
    services = Seed003Node(many=True)
    status = serializers.CharField()


class Seed003Event(serializers.Serializer):
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


class Seed003ScheduleSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    events = Seed003Event(many=True)
    mode = serializers.CharField()
    weeks = serializers.IntegerField()
    start_date = serializers.DateField()
    timezone = serializers.CharField()
    total_count = serializers.IntegerField()


class Seed003Fees(serializers.Serializer):
    committed_energy = _num(help_text="MWh")
    delivered_energy = _num(help_text="MWh")
    capacity_fee = _num()
    efficiency_fee = _num()
    exec_rate = _num()
    performance_index = _num()


class Seed003HourFees(Seed003Fees):
    hour = serializers.IntegerField()
    time = serializers.DateTimeField()


class Seed003DayFees(Seed003Fees):
    date = serializers.DateField()
    total_income = _num()


class Seed003Totals(serializers.Serializer):
    plant_id = serializers.IntegerField()
    timezone = serializers.CharField()
    currency = serializers.CharField()
    total_capacity_fee = _num()
    total_efficiency_fee = _num()
    total_income = _num()
    avg_exec_rate = _num()
    avg_performance_index = _num()


class Seed003IncomeDailySerializer(Seed003Totals):
    date = serializers.DateField()
    hourly_data = Seed003HourFees(many=True)


class Seed003IncomeMonthlySerializer(Seed003Totals):
    month = serializers.CharField()
    daily_data = Seed003DayFees(many=True)


_PAIRS = serializers.ListField(child=serializers.ListField(child=serializers.FloatField(allow_null=True)))


class Seed003Block(serializers.Serializer):
    event_id = serializers.IntegerField()
    mode = serializers.CharField()
    time_start = serializers.DateTimeField()
    time_end = serializers.DateTimeField()
    committed_energy = _num()
    delivered_energy = _num()
    exec_rate = _num()


class Seed003ExecRateSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    date = serializers.DateField()
    timezone = serializers.CharField()
    data_type = serializers.ChoiceField(choices=["exec_rate", "roll_exec_rate", "hour_exec_rate"])
    data = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True)), help_text="[[epoch_ms, rate], ...]"
    )
    blocks = Seed003Block(many=True)
    status = serializers.CharField()


class Seed003LossDay(serializers.Serializer):
    date = serializers.DateField()
    charge_energy = _num()
    discharge_energy = _num()
    loss = _num()
    efficiency = _num(help_text="%")
    aux_consumption = _num()


class Seed003PowerLossSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    start_date = serializers.DateField()
    timezone = serializers.CharField()
    daily_data = Seed003LossDay(many=True)
    total_discharge = _num()
    total_charge = _num()
    total_loss = _num()
    avg_efficiency = _num()
    total_aux = _num()


class Seed003IoRow(serializers.Serializer):
    time = serializers.DateTimeField()
    label = serializers.CharField()
    charge_energy = _num()
    discharge_energy = _num()


class Seed003PowerIoSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    select_time = serializers.DateField()
    data_type = serializers.ChoiceField(choices=["daily", "monthly"])
    timezone = serializers.CharField()
    data = Seed003IoRow(many=True)
    total_charge = _num()
    total_discharge = _num()
    efficiency = _num()


class Seed003FreqPowerSerializer(serializers.Serializer):
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


class StorageBin(serializers.Serializer):
    bin = serializers.CharField()
    low = serializers.IntegerField()
    high = serializers.IntegerField()
    value = serializers.FloatField()


class StorageSohPoint(serializers.Serializer):
    date = serializers.DateField()
    soh = serializers.FloatField()


class StorageSpreadPoint(serializers.Serializer):
    date = serializers.DateField()
    spread_mv = serializers.FloatField()


class StorageRackSpread(serializers.Serializer):
    device_id = serializers.IntegerField()
    name = serializers.CharField()
    rack = serializers.CharField()
    points = StorageSpreadPoint(many=True)


class StorageKpiEnergy(serializers.Serializer):
    ac_charge = _num()
    ac_discharge = _num()
    dc_charge = _num()
    dc_discharge = _num()


class StorageKpisSerializer(serializers.Serializer):
    plant_id = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    timezone = serializers.CharField()
    energy = StorageKpiEnergy(help_text="kWh")
    round_trip_efficiency_ac = _num(help_text="%")
    round_trip_efficiency_dc = _num(help_text="%")
    usable_capacity_kwh = _num()
    equivalent_full_cycles = _num()
    rainflow_cycles = StorageBin(many=True, help_text="Cycles by depth of discharge (SoC points).")
    soc_histogram = StorageBin(many=True, help_text="Share of 5-minute samples per SoC bin.")
    time_high_soc_pct = _num()
    time_low_soc_pct = _num()
    soh_trend = StorageSohPoint(many=True)
    capacity_fade_pct = _num()
    capacity_fade_pct_per_year = _num()
    cell_spread = StorageRackSpread(many=True)
