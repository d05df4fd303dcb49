"""Views of the forecasting API (mounted at /api/ and /api/v1/)."""
