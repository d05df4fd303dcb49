"""Telemetry simulator: realistic readings for a plant from its registry and pvlib.

``telemetry_simulate`` (service.py) is the entry point; the pieces are the weather (weather.py,
pvlib's bundled TMY3), the plant's electrical layout and PV model (layout.py), what each device
reports (devices.py), injected faults (faults.py) and deterministic noise (signals.py).
"""

from .service import SimulationResult, telemetry_fold_rollups, telemetry_simulate

__all__ = ["SimulationResult", "telemetry_fold_rollups", "telemetry_simulate"]
