"""Views of the alarms API (mounted at /api/ and /api/v1/)."""
