"""Django admin registrations of the telemetry app."""
