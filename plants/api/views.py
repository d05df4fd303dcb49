"""Views of the plants API (mounted at /api/ and /api/v1/)."""
