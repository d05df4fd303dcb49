"""Views of the accounts API (mounted at /api/ and /api/v1/)."""
