"""Reads of the storage app, by responsibility: :mod:`.common` (the plant of a seed-003
request, devices by number and role, counters per day, 5-minute power), :mod:`.site` (BESS,
PCS, meters, inverter, sidebar, topology, overview), :mod:`.dispatch` (schedule, execution rate,
income), :mod:`.analysis` (power loss, charge/discharge, frequency/power) and :mod:`.kpis`."""
