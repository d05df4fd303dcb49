"""Views of the reports API (mounted at /api/ and /api/v1/)."""
