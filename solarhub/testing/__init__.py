"""Test plumbing shared by every app: service discovery, personas, API helpers."""
