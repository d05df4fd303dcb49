"""PV performance model (pvlib), forecasts, expected power and dispatch schedule."""
