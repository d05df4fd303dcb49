"""Views of the twins API (mounted at /api/ and /api/v1/)."""
