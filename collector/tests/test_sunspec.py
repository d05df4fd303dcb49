"""SunSpec decoding from pysunspec2's model definitions, and the catalog's point map."""

from __future__ import annotations

import pytest

from collector.drivers import _point_units
from collector.mapping import metrics_from_models, point_map_from_catalog, unit_factor
from collector.sunspec import ModelError, decode_model, encode_model, model_def
from telemetry.catalog import metric_definitions


def _map():
    rows = [(d.key, d.unit, d.sunspec) for d in metric_definitions()]
    mapping = point_map_from_catalog(rows)
    mapping.units = {key: unit for key, unit, _ in rows}
    return mapping


def _decoded(model_id, values, groups=None):
    regs = encode_model(model_id, values, groups)
    assert regs[0] == model_id and regs[1] == len(regs) - 2
    return decode_model(model_id, regs[2:])


def test_the_definitions_come_from_pysunspec2():
    assert model_def(103).top.length == 50
    assert model_def(1).top.length == 66
    assert model_def(160).top.groups[0].name == "module"
    assert model_def(99999) is None


def test_scale_factors_apply_and_not_implemented_values_are_skipped():
    model = _decoded(103, {"W": 4200, "W_SF": 1, "Hz": 5002, "Hz_SF": -2, "PF": -95, "PF_SF": 0, "DCW": 100})
    assert model.values["W"] == 42000
    assert model.values["Hz"] == pytest.approx(50.02)
    assert model.values["PF"] == -95
    assert "VA" not in model.values  # 0x8000: not implemented
    assert "DCW" not in model.values  # its scale factor is not implemented: no value either
    assert "WH" not in model.values  # acc32 0: not implemented
    assert "St" not in model.values  # enum16 0xFFFF


def test_catalog_mapping_converts_units_and_splits_meter_power():
    mapping = _map()
    inverter = _decoded(103, {"W": 4200, "W_SF": 0, "WH": 12_000_500, "WH_SF": 0, "PF": 99, "PF_SF": 0,
                              "PhVphB": 2301, "V_SF": -1, "AphC": 612, "A_SF": -2})  # fmt: skip
    meter = _decoded(203, {"W": -1500, "W_SF": 0, "TotWhImp": 2000, "TotWh_SF": 0})
    mppt = _decoded(
        160, {"DCV_SF": -1, "DCA_SF": -2},
        {"module": [{"DCV": 6000, "DCA": 350}, {"DCV": 6012}, {"DCV": 5990, "DCA": 300}]},
    )  # fmt: skip
    units = _point_units(103) | _point_units(203) | _point_units(160)
    values = metrics_from_models([inverter, meter, mppt], units, mapping)
    assert values["ac_power"] == 4.2 and values["energy_total"] == 12000.5
    assert values["power_factor"] == 0.99
    assert values["ac_voltage_l2"] == 230.1 and values["ac_current_l3"] == 6.12
    assert values["export_power"] == 1.5 and "import_power" not in values
    assert values["import_energy"] == 2.0
    assert values["pv1_voltage"] == 600 and values["pv2_voltage"] == 601.2 and values["pv3_current"] == 3.0
    assert "pv2_current" not in values  # not implemented in module 2


def test_float_inverter_models_map_like_their_integer_twins():
    model = _decoded(111, {"W": 3210.5, "Hz": 49.98})
    values = metrics_from_models([model], _point_units(111), _map())
    assert values["ac_power"] == pytest.approx(3.2105) and values["frequency"] == pytest.approx(49.98)
    assert "dc_power" not in values  # NaN: not implemented


def test_a_model_shorter_than_its_definition_is_malformed():
    with pytest.raises(ModelError):
        decode_model(103, [0] * 10)


@pytest.mark.parametrize(
    ("source", "target", "factor"),
    [
        ("W", "kW", 0.001),
        ("Wh", "kWh", 0.001),
        ("var", "kvar", 0.001),
        ("Pct", "", 0.01),
        ("C", "°C", 1),
        ("V", "V", 1),
    ],
)
def test_unit_factor(source, target, factor):
    assert unit_factor(source, target) == factor


def test_storage_and_battery_models_map_to_the_battery_metrics():
    storage = _decoded(124, {"ChaState": 812, "ChaState_SF": -1})
    battery = _decoded(802, {"SoC": 755, "SoH": 97, "SoC_SF": -1, "SoH_SF": 0, "W": -2500, "W_SF": 0,
                             "V": 5123, "V_SF": -1})  # fmt: skip
    values = metrics_from_models([battery, storage], _point_units(124) | _point_units(802), _map())
    assert values["soc"] == 75.5  # the battery model's SoC wins over the storage model's (first read)
    assert values["soh"] == 97 and values["battery_power"] == -2.5 and values["battery_voltage"] == 512.3
    only_storage = metrics_from_models([storage], _point_units(124), _map())
    assert only_storage == {"soc": 81.2}
