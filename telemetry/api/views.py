"""Views of the telemetry API (mounted at /api/ and /api/v1/)."""
